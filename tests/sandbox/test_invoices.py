"""The sandbox's invoice rules: the status machine, lock ownership, transactional batches."""

import pytest
from fapiao_gateway.sandbox import seed

from tests.rpc import seeded
from tests.sandbox.conftest import WeChat

INIT = "INVOICE_REIMBURSE_INIT"
LOCK = "INVOICE_REIMBURSE_LOCK"
CLOSURE = "INVOICE_REIMBURSE_CLOSURE"
CANCEL = "INVOICE_REIMBURSE_CANCEL"

DAIRY = seed.invoices()[0]
SNACKS = seed.invoices()[1]
LOCKED_BY_PARTNER = seeded("pLk9Tr4eW6yUi1Op3As5Df7Gh2Jk")
CLOSED = seeded("pCl0Su5rE9dFg3Hj6Kl8Zx2Cv4Bn")
CANCELLED = seeded("pCn1Mq6wR0tYu2Io4Pa7Sd9Fg3Hj")
OF_LI = seeded("pjZ8Yt7KKEXWMpETmwG2ZZxX2m6E")


def refs(*invoices) -> list[dict]:
    return [{"card_id": i.card_id, "encrypt_code": i.encrypt_code} for i in invoices]


async def test_lock_unlock_lock_and_write_off(wechat: WeChat) -> None:
    assert await wechat.set_status(DAIRY, LOCK) == 0
    assert wechat.status(DAIRY) == LOCK
    assert await wechat.set_status(DAIRY, INIT) == 0
    assert wechat.status(DAIRY) == INIT
    assert await wechat.set_status(DAIRY, LOCK) == 0
    assert await wechat.set_status(DAIRY, CLOSURE) == 0
    assert wechat.status(DAIRY) == CLOSURE


@pytest.mark.parametrize(
    ("start", "target", "errcode"),
    [
        (INIT, CLOSURE, 72039),
        (INIT, INIT, 72024),
        (LOCK, LOCK, 72024),
        (CLOSURE, INIT, 72024),
        (CLOSURE, LOCK, 72024),
        (CLOSURE, CLOSURE, 72024),
    ],
)
async def test_refused_transitions(wechat: WeChat, start: str, target: str, errcode: int) -> None:
    for step in {INIT: [], LOCK: [LOCK], CLOSURE: [LOCK, CLOSURE]}[start]:
        assert await wechat.set_status(DAIRY, step) == 0
    assert await wechat.set_status(DAIRY, target) == errcode
    assert wechat.status(DAIRY) == start


@pytest.mark.parametrize("target", [INIT, LOCK, CLOSURE])
async def test_nothing_leaves_closure_or_cancel(wechat: WeChat, target: str) -> None:
    assert await wechat.set_status(CLOSED, target) == 72024
    assert await wechat.set_status(CANCELLED, target) == 72024


@pytest.mark.parametrize("target", [INIT, LOCK, CLOSURE])
async def test_a_lock_belongs_to_the_account_that_took_it(wechat: WeChat, target: str) -> None:
    assert await wechat.set_status(LOCKED_BY_PARTNER, target) == 72023
    assert wechat.status(LOCKED_BY_PARTNER) == LOCK


async def test_the_owner_can_release_its_lock(wechat: WeChat) -> None:
    assert await wechat.set_status(LOCKED_BY_PARTNER, INIT, seed.PARTNER) == 0
    assert await wechat.set_status(LOCKED_BY_PARTNER, LOCK) == 0


@pytest.mark.parametrize("status", [CANCEL, "INVOICE_REIMBURSE_WHATEVER", ""])
async def test_cancel_and_unknown_targets_are_invalid_params(wechat: WeChat, status: str) -> None:
    assert await wechat.set_status(DAIRY, status) == 72031


async def test_unknown_invoices_and_bad_bodies(wechat: WeChat) -> None:
    token = await wechat.token()
    unknown_code = {"card_id": DAIRY.card_id, "encrypt_code": "nope"}
    assert (await wechat.post("getinvoiceinfo", unknown_code, token))["errcode"] == 40056
    assert (await wechat.post("getinvoiceinfo", {"card_id": "nope", "encrypt_code": "x"}, token))[
        "errcode"
    ] == 40073
    assert (await wechat.post("getinvoiceinfo", {"card_id": DAIRY.card_id}, token))[
        "errcode"
    ] == 72031
    reply = await wechat.http.post(
        "/card/invoice/reimburse/getinvoiceinfo",
        params={"access_token": token},
        content=b"{not json",
    )
    assert reply.json()["errcode"] == 47001


async def test_batch_read_leaves_out_unknown_invoices_with_errcode_0(wechat: WeChat) -> None:
    token = await wechat.token()
    items = [*refs(DAIRY), {"card_id": "pUnknown", "encrypt_code": "x"}, *refs(SNACKS)]
    reply = await wechat.post("getinvoicebatch", {"item_list": items}, token)
    assert reply["errcode"] == 0
    assert [item["user_info"]["billing_no"] for item in reply["item_list"]] == [
        "14869350",
        "11067360",
    ]


async def test_batch_update_changes_all(wechat: WeChat) -> None:
    token = await wechat.token()
    openid = (await wechat.post("getinvoiceinfo", refs(DAIRY)[0], token))["openid"]
    body = {"openid": openid, "reimburse_status": LOCK, "invoice_list": refs(DAIRY, SNACKS)}
    assert (await wechat.post("updatestatusbatch", body, token))["errcode"] == 0
    assert wechat.status(DAIRY) == wechat.status(SNACKS) == LOCK


@pytest.mark.parametrize(
    ("third", "errcode"),
    [(LOCKED_BY_PARTNER, 72023), (CLOSED, 72024), (OF_LI, 72037)],
)
async def test_batch_update_is_all_or_none(wechat: WeChat, third, errcode: int) -> None:
    token = await wechat.token()
    openid = (await wechat.post("getinvoiceinfo", refs(DAIRY)[0], token))["openid"]
    body = {"openid": openid, "reimburse_status": LOCK, "invoice_list": refs(DAIRY, SNACKS, third)}
    assert (await wechat.post("updatestatusbatch", body, token))["errcode"] == errcode
    assert wechat.status(DAIRY) == wechat.status(SNACKS) == INIT


async def test_batch_update_needs_the_holders_openid_for_this_account(wechat: WeChat) -> None:
    partner_token = await wechat.token(seed.PARTNER)
    partner_openid = (await wechat.post("getinvoiceinfo", refs(DAIRY)[0], partner_token))["openid"]
    body = {"openid": partner_openid, "reimburse_status": LOCK, "invoice_list": refs(DAIRY)}
    assert (await wechat.post("updatestatusbatch", body, await wechat.token()))["errcode"] == 72037
    assert (await wechat.post("updatestatusbatch", body, partner_token))["errcode"] == 0


async def test_batch_update_write_off_needs_a_lock_on_every_invoice(wechat: WeChat) -> None:
    token = await wechat.token()
    openid = (await wechat.post("getinvoiceinfo", refs(DAIRY)[0], token))["openid"]
    assert await wechat.set_status(DAIRY, LOCK) == 0
    body = {"openid": openid, "reimburse_status": CLOSURE, "invoice_list": refs(DAIRY, SNACKS)}
    assert (await wechat.post("updatestatusbatch", body, token))["errcode"] == 72039
    assert wechat.status(DAIRY) == LOCK and wechat.status(SNACKS) == INIT


@pytest.mark.parametrize(
    "body",
    [
        {"reimburse_status": LOCK, "invoice_list": []},
        {"openid": "o", "reimburse_status": LOCK, "invoice_list": []},
        {"openid": "o", "reimburse_status": LOCK, "invoice_list": [{"card_id": "x"}]},
        {"openid": "o", "reimburse_status": LOCK, "invoice_list": refs(DAIRY, DAIRY)},
        {"openid": "o", "reimburse_status": CANCEL, "invoice_list": refs(DAIRY)},
    ],
)
async def test_malformed_batch_updates_are_invalid_params(wechat: WeChat, body: dict) -> None:
    assert (await wechat.post("updatestatusbatch", body, await wechat.token()))["errcode"] == 72031
