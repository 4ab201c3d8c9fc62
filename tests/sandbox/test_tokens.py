"""The sandbox's token and ticket rules, as WeChat documents them."""

from fapiao_gateway.sandbox import seed
from fapiao_gateway.sandbox.emulator import SandboxAccount

from tests.sandbox.conftest import Clock, WeChat

INVOICE = seed.invoices()[0]
READ = {"card_id": INVOICE.card_id, "encrypt_code": INVOICE.encrypt_code}


async def test_stable_token_repeats_until_it_nears_expiry(wechat: WeChat, clock: Clock) -> None:
    first = await wechat.stable_token()
    assert first["expires_in"] == 7200
    clock.advance(6000)
    again = await wechat.stable_token()
    assert again["access_token"] == first["access_token"]
    assert again["expires_in"] == 1200

    clock.advance(1000)  # 200 s left: inside the 300 s rotation window
    rotated = await wechat.stable_token()
    assert rotated["access_token"] != first["access_token"]
    # Old and new both work until the old one's own expiry.
    assert (await wechat.post("getinvoiceinfo", READ, first["access_token"]))["errcode"] == 0
    assert (await wechat.post("getinvoiceinfo", READ, rotated["access_token"]))["errcode"] == 0
    clock.advance(201)
    assert (await wechat.post("getinvoiceinfo", READ, first["access_token"]))["errcode"] == 42001


async def test_forced_stable_refresh_invalidates_and_is_rate_limited(
    wechat: WeChat, clock: Clock
) -> None:
    old = (await wechat.stable_token())["access_token"]
    new = (await wechat.stable_token(force=True))["access_token"]
    assert new != old
    assert (await wechat.post("getinvoiceinfo", READ, old))["errcode"] == 40001
    assert (await wechat.stable_token(force=True))["errcode"] == 45011
    clock.advance(31)
    assert "access_token" in await wechat.stable_token(force=True)


async def test_classic_token_knocks_out_the_one_before_last(wechat: WeChat, clock: Clock) -> None:
    first = (await wechat.classic_token())["access_token"]
    second = (await wechat.classic_token())["access_token"]
    # The previous token lives on for 5 minutes...
    assert (await wechat.post("getinvoiceinfo", READ, first))["errcode"] == 0
    clock.advance(301)
    assert (await wechat.post("getinvoiceinfo", READ, first))["errcode"] == 42001
    # ...and a third fetch kills the first outright: the classic 40001 storm.
    third = (await wechat.classic_token())["access_token"]
    assert (await wechat.post("getinvoiceinfo", READ, first))["errcode"] == 40001
    assert (await wechat.post("getinvoiceinfo", READ, second))["errcode"] == 0
    assert (await wechat.post("getinvoiceinfo", READ, third))["errcode"] == 0


async def test_bad_credentials_and_tokens_get_wechats_codes(wechat: WeChat, clock: Clock) -> None:
    assert (await wechat.classic_token(secret="wrong"))["errcode"] == 40125
    unknown = SandboxAccount("wx0000000000000000", "s")
    assert (await wechat.stable_token(unknown))["errcode"] == 40013
    assert (await wechat.post("getinvoiceinfo", READ, ""))["errcode"] == 41001
    assert (await wechat.post("getinvoiceinfo", READ, "garbage"))["errcode"] == 40014
    token = await wechat.token()
    clock.advance(7201)
    assert (await wechat.post("getinvoiceinfo", READ, token))["errcode"] == 42001


async def test_invalidating_an_accounts_tokens(wechat: WeChat) -> None:
    token = await wechat.token()
    partner = await wechat.token(seed.PARTNER)
    reply = await wechat.http.post(f"/sandbox/accounts/{seed.PRIMARY.appid}/invalidate-tokens")
    assert reply.status_code == 200
    assert (await wechat.post("getinvoiceinfo", READ, token))["errcode"] == 40001
    assert (await wechat.post("getinvoiceinfo", READ, partner))["errcode"] == 0
    assert await wechat.token() != token


async def test_tickets_are_cached_upstream_and_expire(wechat: WeChat, clock: Clock) -> None:
    token = await wechat.token()

    async def ticket(kind: str) -> dict:
        reply = await wechat.http.get(
            "/cgi-bin/ticket/getticket", params={"access_token": token, "type": kind}
        )
        return reply.json()

    jsapi, card = await ticket("jsapi"), await ticket("wx_card")
    assert jsapi["errcode"] == 0 and jsapi["ticket"] and jsapi["expires_in"] == 7200
    assert card["ticket"] != jsapi["ticket"]
    assert (await ticket("jsapi"))["ticket"] == jsapi["ticket"]
    assert (await ticket("bogus"))["errcode"] == 40097
    clock.advance(7000)
    token = await wechat.token()
    clock.advance(201)
    assert (await ticket("jsapi"))["ticket"] != jsapi["ticket"]


async def test_token_fetches_are_counted_per_account(wechat: WeChat) -> None:
    await wechat.token()
    await wechat.token()
    await wechat.classic_token(seed.PARTNER)
    stats = (await wechat.http.get("/sandbox/stats")).json()["calls"]
    assert stats["stable_token"][seed.PRIMARY.appid] == 2
    assert stats["token"][seed.PARTNER.appid] == 1
