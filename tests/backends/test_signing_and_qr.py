"""SignJsapi and IssueImportQr through the generated client: signatures checked independently
against the sandbox's tickets, and the QR code decoded back and followed into an import."""

import asyncio
import hashlib
import io
import time
from urllib.parse import parse_qs, urlsplit

import grpc
import pytest
import zxingcpp
from fapiao.v1 import invoice_pb2, invoice_service_pb2
from fapiao_gateway.bootstrap import SANDBOX_IMPORT_PAGE, start_gateway
from fapiao_gateway.ledger.engine import create_engine
from fapiao_gateway.sandbox import seed
from fapiao_gateway.sandbox.app import Sandbox
from fapiao_gateway.sandbox.faults import FaultKind
from google.protobuf import duration_pb2
from PIL import Image
from sqlalchemy import text

from tests.conftest import gateway_settings
from tests.rpc import Stub, failure_of
from tests.support import auth

CONFIG = invoice_service_pb2.SIGN_PURPOSE_WX_CONFIG
CHOOSE = invoice_service_pb2.SIGN_PURPOSE_CHOOSE_INVOICE
PAGE = "https://expense.example.com/h5/pick?from=pc#/step/2"


def sign_request(**fields) -> invoice_service_pb2.SignJsapiRequest:
    return invoice_service_pb2.SignJsapiRequest(
        **{"account": "sandbox", "purposes": [CONFIG, CHOOSE], "url": PAGE, **fields}
    )


def sha1(text_: str) -> str:
    return hashlib.sha1(text_.encode()).hexdigest()


async def test_signs_wx_config_and_choose_invoice_with_the_accounts_tickets(
    stub: Stub, sandbox: Sandbox
) -> None:
    reply = await stub.SignJsapi(sign_request(timestamp=1414587457, nonce_str="Wm3WZYTPz0wzccnW"))
    jsapi = sandbox.emulator.ticket_value(seed.PRIMARY.appid, "jsapi")
    wx_card = sandbox.emulator.ticket_value(seed.PRIMARY.appid, "wx_card")

    config = reply.wx_config
    assert (config.app_id, config.timestamp, config.nonce_str) == (
        seed.PRIMARY.appid,
        1414587457,
        "Wm3WZYTPz0wzccnW",
    )
    assert config.url == "https://expense.example.com/h5/pick?from=pc"  # fragment removed
    expected = sha1(
        f"jsapi_ticket={jsapi}&noncestr=Wm3WZYTPz0wzccnW&timestamp=1414587457&url={config.url}"
    )
    assert config.signature == expected

    choose = reply.choose_invoice
    assert (choose.timestamp, choose.nonce_str, choose.sign_type, choose.app_id) == (
        1414587457,
        "Wm3WZYTPz0wzccnW",
        "SHA1",
        seed.PRIMARY.appid,
    )
    values = [wx_card, seed.PRIMARY.appid, "1414587457", "Wm3WZYTPz0wzccnW", "INVOICE"]
    assert choose.card_sign == sha1("".join(sorted(values)))


async def test_either_purpose_alone_and_fresh_nonces(stub: Stub) -> None:
    only_choose = await stub.SignJsapi(sign_request(purposes=[CHOOSE], url=""))
    assert only_choose.HasField("choose_invoice") and not only_choose.HasField("wx_config")
    only_config = await stub.SignJsapi(sign_request(purposes=[CONFIG]))
    assert only_config.HasField("wx_config") and not only_config.HasField("choose_invoice")
    assert abs(only_config.wx_config.timestamp - time.time()) < 60
    nonces = {
        (await stub.SignJsapi(sign_request(purposes=[CHOOSE]))).choose_invoice.nonce_str
        for _ in range(20)
    }
    assert len(nonces) == 20 and all(len(n) == 16 and n.isalnum() for n in nonces)


async def test_concurrent_signing_fetches_each_ticket_once(stub: Stub, sandbox: Sandbox) -> None:
    sandbox.inject("getticket", FaultKind.LATENCY, 50, times=0)
    await asyncio.gather(*(stub.SignJsapi(sign_request()) for _ in range(200)))
    assert sandbox.emulator.stats.count("getticket", seed.PRIMARY.appid) == 2  # jsapi and wx_card
    assert sandbox.emulator.stats.count("stable_token", seed.PRIMARY.appid) == 1


async def test_a_refused_token_during_a_ticket_fetch_costs_one_refresh(
    stub: Stub, sandbox: Sandbox
) -> None:
    await stub.GetInvoice(
        invoice_service_pb2.GetInvoiceRequest(
            account="sandbox",
            invoice=invoice_pb2.InvoiceRef(
                card_id=seed.invoices()[0].card_id, encrypt_code=seed.invoices()[0].encrypt_code
            ),
        )
    )
    sandbox.emulator.invalidate_tokens(seed.PRIMARY.appid)
    await asyncio.gather(*(stub.SignJsapi(sign_request()) for _ in range(50)))
    assert sandbox.emulator.stats.count("stable_token", seed.PRIMARY.appid) == 2


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"url": "ftp://files.example.com/page"}, ["url"]),
        ({"url": "not a url"}, ["url"]),
        ({"url": ""}, ["url"]),
        ({"url": "https://a.example/" + "x" * 3000}, ["url"]),
        ({"purposes": []}, ["purposes"]),
        ({"purposes": [0]}, ["purposes[0]"]),
        ({"purposes": [CHOOSE, CHOOSE]}, ["purposes[1]"]),
        ({"nonce_str": "not-alnum!"}, ["nonce_str"]),
        ({"nonce_str": "a" * 33}, ["nonce_str"]),
        ({"timestamp": -5}, ["timestamp"]),
        ({"account": "no-such-account"}, ["account"]),
    ],
)
async def test_bad_sign_requests_name_the_field(
    stub: Stub, sandbox: Sandbox, fields: dict, bad: list[str]
) -> None:
    failure = await failure_of(stub.SignJsapi(sign_request(**fields)))
    assert failure.code is grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in failure.details["BadRequest"].field_violations] == bad
    assert sandbox.emulator.stats.count("getticket") == 0


def decode(png: bytes) -> str:
    image = Image.open(io.BytesIO(png))
    # One code; a dense one (the URL carries an import ticket) is sometimes reported twice.
    (found,) = {str(code.text) for code in zxingcpp.read_barcodes(image)}
    return found


async def issue(stub: Stub, **fields) -> invoice_service_pb2.IssueImportQrResponse:
    return await stub.IssueImportQr(
        invoice_service_pb2.IssueImportQrRequest(account="sandbox", **fields)
    )


async def test_the_qr_code_decodes_to_the_import_page_with_its_biz_code(stub: Stub) -> None:
    reply = await issue(stub, size_px=300)
    assert reply.png.startswith(b"\x89PNG")
    width, height = Image.open(io.BytesIO(reply.png)).size
    assert width == height and 150 < width <= 300
    url = decode(reply.png)
    assert url == reply.url and url.startswith(SANDBOX_IMPORT_PAGE + "?")
    query = parse_qs(urlsplit(url).query)
    assert query["bizCode"] == [reply.biz_code] and query["appid"] == [seed.PRIMARY.appid]
    assert reply.biz_code.startswith("biz-") and len(reply.biz_code) >= 20  # generated, unguessable
    remaining = reply.expire_time.ToSeconds() - time.time()
    assert 1700 < remaining <= 1800  # the configured default, 30 minutes


async def test_a_given_biz_code_size_and_validity_are_used(stub: Stub) -> None:
    reply = await issue(
        stub, biz_code="EXP-2026-0042", size_px=100, valid_for=duration_pb2.Duration(seconds=600)
    )
    assert reply.biz_code == "EXP-2026-0042"
    assert parse_qs(urlsplit(decode(reply.png)).query)["bizCode"] == ["EXP-2026-0042"]
    # The import ticket in the #fragment makes the code denser than a bare URL: 100 px, not 64.
    assert Image.open(io.BytesIO(reply.png)).size[0] <= 100
    assert 500 < reply.expire_time.ToSeconds() - time.time() <= 600


async def test_a_replayed_request_id_returns_the_same_session(stub: Stub) -> None:
    first = await issue(stub, request_id="qr-req-1")
    again = await issue(stub, request_id="qr-req-1")
    assert (again.biz_code, again.url, again.expire_time) == (
        first.biz_code,
        first.url,
        first.expire_time,
    )


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"size_px": 10}, ["size_px"]),
        ({"size_px": 5000}, ["size_px"]),
        ({"size_px": -1}, ["size_px"]),
        ({"biz_code": "报账单 1"}, ["biz_code"]),
        ({"biz_code": "x" * 65}, ["biz_code"]),
        ({"valid_for": duration_pb2.Duration(seconds=10)}, ["valid_for"]),
        ({"valid_for": duration_pb2.Duration(seconds=90000)}, ["valid_for"]),
        ({"request_id": "spaces are not ok"}, ["request_id"]),
        ({"account": "no-such-account"}, ["account"]),
    ],
)
async def test_bad_qr_requests_name_the_field(stub: Stub, fields: dict, bad: list[str]) -> None:
    failure = await failure_of(
        issue(stub, **fields)
        if "account" not in fields
        else stub.IssueImportQr(invoice_service_pb2.IssueImportQrRequest(**fields))
    )
    assert failure.code is grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in failure.details["BadRequest"].field_violations] == bad


async def test_the_biz_code_round_trips_into_import_and_search(stub: Stub) -> None:
    qr = await issue(stub)
    biz_code = parse_qs(urlsplit(decode(qr.png)).query)["bizCode"][0]  # what the phone page reads
    picked = seed.invoices()[:2]
    refs = [invoice_pb2.InvoiceRef(card_id=i.card_id, encrypt_code=i.encrypt_code) for i in picked]
    imported = await stub.ImportInvoices(
        invoice_service_pb2.ImportInvoicesRequest(
            account="sandbox", biz_code=biz_code, invoices=refs, lock=True
        )
    )
    assert imported.biz_code == biz_code
    found = await stub.SearchInvoices(
        invoice_service_pb2.SearchInvoicesRequest(account="sandbox", biz_code=biz_code)
    )
    assert found.total_size == 2
    assert {i.invoice.ref.encrypt_code for i in found.invoices} == {i.encrypt_code for i in picked}


async def test_an_expired_qr_biz_code_is_refused_by_import(
    stub: Stub, database_url: str, sandbox: Sandbox
) -> None:
    qr = await issue(stub, biz_code="EXP-EXPIRED")
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE import_sessions SET expire_us = 0 WHERE biz_code = 'EXP-EXPIRED'")
            )
    finally:
        await engine.dispose()
    invoice = seed.invoices()[0]
    failure = await failure_of(
        stub.ImportInvoices(
            invoice_service_pb2.ImportInvoicesRequest(
                account="sandbox",
                biz_code=qr.biz_code,
                invoices=[
                    invoice_pb2.InvoiceRef(
                        card_id=invoice.card_id, encrypt_code=invoice.encrypt_code
                    )
                ],
            )
        )
    )
    assert failure.code is grpc.StatusCode.FAILED_PRECONDITION
    assert failure.info.reason == "IMPORT_SESSION_EXPIRED"
    assert sandbox.emulator.stats.count("getinvoicebatch") == 0


async def test_without_an_import_page_qr_codes_are_refused(database_url: str) -> None:
    key, stored = auth.new_key()
    settings = gateway_settings(
        sandbox=False,
        database_url=database_url,
        accounts=[{"appid": "wxprod", "secret": "s", "alias": "hq"}],
        auth_secret=auth.TEST_AUTH_SECRET,
        callers=[auth.caller("pc", ["hq"], ["issue_qr"], stored)],
    )
    running = await start_gateway(settings)
    try:
        async with auth.channel(running.address, key) as channel:
            failure = await failure_of(
                Stub(channel).IssueImportQr(invoice_service_pb2.IssueImportQrRequest(account="hq"))
            )
        assert failure.code is grpc.StatusCode.FAILED_PRECONDITION
        assert failure.info.reason == "IMPORT_PAGE_NOT_CONFIGURED"
    finally:
        await running.stop(0)


async def test_a_malformed_url_is_invalid_argument_not_a_crash(stub: Stub) -> None:
    failure = await failure_of(stub.SignJsapi(sign_request(url="http://[oops/page")))
    assert failure.code is grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in failure.details["BadRequest"].field_violations] == ["url"]


async def test_an_overflowing_validity_is_invalid_argument_not_a_crash(stub: Stub) -> None:
    failure = await failure_of(issue(stub, valid_for=duration_pb2.Duration(seconds=2**62)))
    assert failure.code is grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in failure.details["BadRequest"].field_violations] == ["valid_for"]


async def test_a_request_id_reused_with_another_biz_code_is_refused(stub: Stub) -> None:
    await issue(stub, request_id="qr-req-2", biz_code="EXP-A")
    failure = await failure_of(issue(stub, request_id="qr-req-2", biz_code="EXP-B"))
    assert failure.code is grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in failure.details["BadRequest"].field_violations] == ["request_id"]
    again = await issue(stub, request_id="qr-req-2", biz_code="EXP-A")
    assert again.biz_code == "EXP-A"


async def test_the_qr_code_keeps_blank_values_and_bare_keys_of_the_page(
    sandbox: Sandbox, database_url: str
) -> None:
    page = "https://expense.example.com/h5/import?src=qr&lang=&kiosk"
    running = await start_gateway(
        gateway_settings(database_url=database_url, import_page_url=page), sandbox=sandbox
    )
    try:
        async with auth.channel(running.address, running.callers.development_key) as channel:
            reply = await issue(Stub(channel), biz_code="EXP-BLANK")
    finally:
        await running.stop(0)
    expected = f"{page}&bizCode=EXP-BLANK&appid={seed.PRIMARY.appid}#ticket={reply.import_ticket}"
    assert reply.url == expected and decode(reply.png) == expected
