"""Every RPC against a Weixin Work app and a third-party platform's merchant, in the sandbox.

The sandbox gateway serves both beside the Official Accounts: the WeCom app "sandbox-corp"
(qyapi paths, gettoken, getinvoiceinfobatch, WeCom's errcodes) and the merchant
"sandbox-merchant" (authorizer_access_token from the component, whose verify ticket the
sandbox pushed to the gateway at start).
"""

import asyncio
import hashlib
import uuid
from dataclasses import dataclass

import grpc
import pytest
from fapiao.v1 import invoice_pb2, invoice_service_pb2
from fapiao_gateway.domain.status import ReimburseStatus
from fapiao_gateway.sandbox import seed
from fapiao_gateway.sandbox.app import Sandbox
from fapiao_gateway.sandbox.emulator import SandboxInvoice
from fapiao_gateway.sandbox.faults import FaultKind

from tests.rpc import Stub, failure_of

INVOICES = seed.invoices()
C = grpc.StatusCode
S = invoice_pb2


@dataclass(frozen=True)
class Platform:
    """How one kind of account shows up in requests and in the sandbox's stats."""

    name: str  # what requests call it
    key: str  # the appid the sandbox (and the ledger) knows it by
    token_endpoint: str  # its token fetches
    batch_read: str  # its batch read

    def __str__(self) -> str:
        return self.name


WORK = Platform("sandbox-corp", seed.CORP_APP.key, "gettoken", "getinvoiceinfobatch")
MERCHANT = Platform(
    "sandbox-merchant", seed.MERCHANT.appid, "api_authorizer_token", "getinvoicebatch"
)
PLATFORMS = [pytest.param(WORK, id="work"), pytest.param(MERCHANT, id="component")]


def ref(invoice: SandboxInvoice) -> invoice_pb2.InvoiceRef:
    return invoice_pb2.InvoiceRef(card_id=invoice.card_id, encrypt_code=invoice.encrypt_code)


def status(sandbox: Sandbox, invoice: SandboxInvoice) -> str:
    return sandbox.emulator.status_of(invoice.card_id, invoice.encrypt_code).value


def calls(sandbox: Sandbox, endpoint: str, appid: str) -> int:
    return sandbox.emulator.stats.count(endpoint, appid)


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_get_invoice(stub: Stub, sandbox: Sandbox, platform: Platform) -> None:
    invoice = INVOICES[0]
    reply = await stub.GetInvoice(
        invoice_service_pb2.GetInvoiceRequest(account=platform.name, invoice=ref(invoice))
    )

    assert reply.invoice.ref.card_id == invoice.card_id
    assert reply.invoice.openid == sandbox.emulator.openid(invoice.holder, platform.key)
    assert reply.invoice.total_fen == 5085
    assert calls(sandbox, "getinvoiceinfo", platform.key) == 1
    assert calls(sandbox, platform.token_endpoint, platform.key) == 1


async def test_the_corp_id_names_the_work_app(stub: Stub, sandbox: Sandbox) -> None:
    for name in (seed.CORP_APP.corp_id, seed.CORP_APP.key):
        await stub.GetInvoice(
            invoice_service_pb2.GetInvoiceRequest(account=name, invoice=ref(INVOICES[0]))
        )
    assert calls(sandbox, "getinvoiceinfo", WORK.key) == 2


async def test_a_merchant_costs_one_component_token_and_one_authorizer_token(
    stub: Stub, sandbox: Sandbox
) -> None:
    for merchant in (seed.MERCHANT, seed.MERCHANT_2):
        for invoice in INVOICES[:3]:
            await stub.GetInvoice(
                invoice_service_pb2.GetInvoiceRequest(account=merchant.alias, invoice=ref(invoice))
            )
        assert calls(sandbox, "api_authorizer_token", merchant.appid) == 1
    assert calls(sandbox, "api_component_token", seed.COMPONENT.appid) == 1


async def test_an_unknown_invoice(stub: Stub) -> None:
    unknown = invoice_pb2.InvoiceRef(card_id="pUnknownCardId000000000000000", encrypt_code="x")
    # WeCom publishes no not-found code: its backend's "invalid params" (errcode_tables.py).
    work = await failure_of(
        stub.GetInvoice(invoice_service_pb2.GetInvoiceRequest(account=WORK.name, invoice=unknown))
    )
    assert (work.code, work.info.reason) == (C.INVALID_ARGUMENT, "WECHAT_INVALID_PARAMS")
    assert work.info.metadata["wechat_errcode"] == "72031"
    assert work.info.metadata["account"] == WORK.key
    merchant = await failure_of(
        stub.GetInvoice(
            invoice_service_pb2.GetInvoiceRequest(account=MERCHANT.name, invoice=unknown)
        )
    )
    assert (merchant.code, merchant.info.reason) == (C.NOT_FOUND, "INVOICE_NOT_FOUND")


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_a_batch_read_that_comes_back_short(
    stub: Stub, sandbox: Sandbox, platform: Platform
) -> None:
    wanted = INVOICES[2:7]
    sandbox.inject(platform.batch_read, FaultKind.SHORT_REPLY, 2, appid=platform.key)
    reply = await stub.GetInvoices(
        invoice_service_pb2.GetInvoicesRequest(
            account=platform.name, invoices=[ref(inv) for inv in wanted]
        )
    )

    assert [r.ref.card_id for r in reply.results] == [inv.card_id for inv in wanted]
    missing = [r for r in reply.results if r.HasField("failure")]
    assert len(missing) == 2  # every second item of the one batch was left out
    assert {r.failure.reason for r in missing} == {"INVOICE_NOT_RETURNED"}
    assert all(r.invoice.ref.card_id for r in reply.results if r.HasField("invoice"))
    assert calls(sandbox, platform.batch_read, platform.key) == 1


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_import_lock_write_off_and_search(
    stub: Stub, sandbox: Sandbox, platform: Platform
) -> None:
    invoice = INVOICES[5]
    biz_code = f"EXP-{platform.key[-4:].replace('/', '')}"
    imported = await stub.ImportInvoices(
        invoice_service_pb2.ImportInvoicesRequest(
            account=platform.name,
            request_id=str(uuid.uuid4()),
            biz_code=biz_code,
            invoices=[ref(invoice)],
            lock=True,
        )
    )
    assert imported.invoices[0].invoice.reimburse_status == S.REIMBURSE_STATUS_LOCK
    assert imported.invoices[0].account == platform.key
    assert status(sandbox, invoice) == "INVOICE_REIMBURSE_LOCK"
    assert sandbox.emulator.invoices[(invoice.card_id, invoice.encrypt_code)].lock_owner == (
        platform.key
    )

    changed = await stub.UpdateStatus(
        invoice_service_pb2.UpdateStatusRequest(
            account=platform.name,
            request_id=str(uuid.uuid4()),
            invoice=ref(invoice),
            status=S.REIMBURSE_STATUS_CLOSURE,
        )
    )
    assert changed.change.previous_status == S.REIMBURSE_STATUS_LOCK
    assert status(sandbox, invoice) == "INVOICE_REIMBURSE_CLOSURE"

    found = await stub.SearchInvoices(
        invoice_service_pb2.SearchInvoicesRequest(account=platform.name, biz_code=biz_code)
    )
    assert [i.invoice.ref.card_id for i in found.invoices] == [invoice.card_id]
    assert found.invoices[0].invoice.reimburse_status == S.REIMBURSE_STATUS_CLOSURE


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_batch_updates_are_atomic(stub: Stub, sandbox: Sandbox, platform: Platform) -> None:
    first, second = INVOICES[5], INVOICES[6]
    await stub.ImportInvoices(
        invoice_service_pb2.ImportInvoicesRequest(
            account=platform.name,
            request_id=str(uuid.uuid4()),
            biz_code="EXP-BATCH",
            invoices=[ref(first), ref(second)],
        )
    )
    openid = sandbox.emulator.openid(seed.ZHANG, platform.key)

    def batch(
        target: "S.ReimburseStatus.ValueType",
    ) -> invoice_service_pb2.UpdateStatusBatchRequest:
        return invoice_service_pb2.UpdateStatusBatchRequest(
            account=platform.name,
            request_id=str(uuid.uuid4()),
            openid=openid,
            status=target,
            invoices=[ref(first), ref(second)],
        )

    locked = await stub.UpdateStatusBatch(batch(S.REIMBURSE_STATUS_LOCK))
    assert [c.status for c in locked.changes] == [S.REIMBURSE_STATUS_LOCK] * 2
    unlocked = await stub.UpdateStatusBatch(batch(S.REIMBURSE_STATUS_INIT))
    assert [c.status for c in unlocked.changes] == [S.REIMBURSE_STATUS_INIT] * 2
    # Behind the gateway's back another account locks the second invoice: WeChat refuses the
    # whole batch (72023 for it), and the first one stays as it was.
    taken = sandbox.emulator.invoices[(second.card_id, second.encrypt_code)]
    taken.status, taken.lock_owner = ReimburseStatus.LOCK, seed.PARTNER.appid
    failed = await failure_of(stub.UpdateStatusBatch(batch(S.REIMBURSE_STATUS_LOCK)))

    assert (failed.code, failed.info.reason) == (
        C.FAILED_PRECONDITION,
        "INVOICE_LOCKED_BY_OTHER_ACCOUNT",
    )
    assert status(sandbox, first) == "INVOICE_REIMBURSE_INIT"
    assert taken.lock_owner == seed.PARTNER.appid
    assert calls(sandbox, "updatestatusbatch", platform.key) == 3


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("errcode", [40014, 42001])
async def test_a_refused_token_costs_one_refresh_and_one_retry(
    stub: Stub, sandbox: Sandbox, platform: Platform, errcode: int
) -> None:
    request = invoice_service_pb2.GetInvoiceRequest(account=platform.name, invoice=ref(INVOICES[0]))
    await stub.GetInvoice(request)
    sandbox.inject("getinvoiceinfo", FaultKind.ERRCODE, errcode, appid=platform.key)
    await stub.GetInvoice(request)

    assert calls(sandbox, "getinvoiceinfo", platform.key) == 3
    assert calls(sandbox, platform.token_endpoint, platform.key) == 2


async def test_wecom_40001_is_a_wrong_secret_not_a_stale_token(
    stub: Stub, sandbox: Sandbox
) -> None:
    sandbox.inject("getinvoiceinfo", FaultKind.ERRCODE, 40001, appid=WORK.key)
    failed = await failure_of(
        stub.GetInvoice(
            invoice_service_pb2.GetInvoiceRequest(account=WORK.name, invoice=ref(INVOICES[0]))
        )
    )
    assert (failed.code, failed.info.reason) == (C.FAILED_PRECONDITION, "WECHAT_INVALID_SECRET")
    assert calls(sandbox, "gettoken", WORK.key) == 1  # no refresh: WeCom's 40001 is no token


@pytest.mark.parametrize(
    ("errcode", "code", "reason"),
    [
        (60020, C.FAILED_PRECONDITION, "WECHAT_IP_NOT_WHITELISTED"),
        (40056, C.FAILED_PRECONDITION, "WECHAT_INVALID_AGENT_ID"),
        (48002, C.FAILED_PRECONDITION, "WECHAT_API_UNAUTHORIZED"),
        (45033, C.RESOURCE_EXHAUSTED, "WECHAT_RATE_LIMITED"),
        (40073, C.INVALID_ARGUMENT, "WECHAT_INVALID_OPENID"),
        (72023, C.FAILED_PRECONDITION, "INVOICE_LOCKED_BY_OTHER_ACCOUNT"),
        (41001, C.INTERNAL, "WECHAT_ACCESS_TOKEN_MISSING"),
    ],
)
async def test_wecom_errcodes_mean_what_wecom_says(
    stub: Stub, sandbox: Sandbox, errcode: int, code: grpc.StatusCode, reason: str
) -> None:
    sandbox.inject("getinvoiceinfo", FaultKind.ERRCODE, errcode, appid=WORK.key)
    failed = await failure_of(
        stub.GetInvoice(
            invoice_service_pb2.GetInvoiceRequest(account=WORK.name, invoice=ref(INVOICES[0]))
        )
    )
    assert (failed.code, failed.info.reason) == (code, reason)
    assert failed.info.metadata["wechat_errcode"] == str(errcode)


@pytest.mark.parametrize(
    ("errcode", "reason"),
    [
        (61003, "COMPONENT_NOT_AUTHORIZED"),
        (61007, "COMPONENT_API_UNAUTHORIZED"),
        (61023, "WECHAT_REFRESH_TOKEN_INVALID"),
    ],
)
async def test_component_errcodes(stub: Stub, sandbox: Sandbox, errcode: int, reason: str) -> None:
    sandbox.inject("api_authorizer_token", FaultKind.ERRCODE, errcode, appid=MERCHANT.key)
    failed = await failure_of(
        stub.GetInvoice(
            invoice_service_pb2.GetInvoiceRequest(account=MERCHANT.name, invoice=ref(INVOICES[0]))
        )
    )
    assert (failed.code, failed.info.reason) == (C.FAILED_PRECONDITION, reason)
    assert failed.info.metadata["wechat_api"] == "api_authorizer_token"
    assert failed.info.metadata["account"] == MERCHANT.key


async def test_revoked_component_and_authorizer_tokens_refresh_each_once(
    stub: Stub, sandbox: Sandbox
) -> None:
    request = invoice_service_pb2.GetInvoiceRequest(account=MERCHANT.name, invoice=ref(INVOICES[0]))
    await stub.GetInvoice(request)
    sandbox.emulator.invalidate_tokens(seed.COMPONENT.appid)
    sandbox.emulator.invalidate_tokens(MERCHANT.key)
    await stub.GetInvoice(request)

    # The authorizer token is refused (40001): refreshing it finds the component token
    # refused too, which is fetched once more; the refresh is sent again and succeeds, with
    # the refresh token the first refresh rotated (the first one is refused by then).
    assert calls(sandbox, "api_component_token", seed.COMPONENT.appid) == 2
    assert calls(sandbox, "api_authorizer_token", MERCHANT.key) == 3
    assert calls(sandbox, "getinvoiceinfo", MERCHANT.key) == 3


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def page_signature(ticket: str, nonce: str, stamp: int, url: str) -> str:
    return sha1(f"jsapi_ticket={ticket}&noncestr={nonce}&timestamp={stamp}&url={url}")


async def test_sign_jsapi_for_weixin_work(stub: Stub, sandbox: Sandbox) -> None:
    page = "https://reimburse.example.com/wecom/pick?report=7"
    reply = await stub.SignJsapi(
        invoice_service_pb2.SignJsapiRequest(
            account=WORK.name,
            purposes=[
                invoice_service_pb2.SIGN_PURPOSE_WX_CONFIG,
                invoice_service_pb2.SIGN_PURPOSE_AGENT_CONFIG,
                invoice_service_pb2.SIGN_PURPOSE_CHOOSE_INVOICE,
            ],
            url=page + "#top",
            timestamp=1414587457,
            nonce_str="Wm3WZYTPz0wzccnW",
        )
    )
    tickets = {
        kind: sandbox.emulator.ticket_value(WORK.key, kind)
        for kind in ("jsapi", "agent_config", "wx_card")
    }
    corp = seed.CORP_APP.corp_id
    assert reply.wx_config.app_id == corp
    assert reply.wx_config.url == page
    assert reply.wx_config.signature == page_signature(
        tickets["jsapi"], "Wm3WZYTPz0wzccnW", 1414587457, page
    )
    agent = reply.agent_config
    assert (agent.corp_id, agent.agent_id) == (corp, seed.CORP_APP.agent_id)
    assert agent.signature == page_signature(
        tickets["agent_config"], "Wm3WZYTPz0wzccnW", 1414587457, page
    )
    assert agent.signature != reply.wx_config.signature
    choose = reply.choose_invoice
    assert choose.app_id == corp and choose.sign_type == "SHA1"
    assert choose.card_sign == sha1(
        "".join(sorted([tickets["wx_card"], corp, "1414587457", "Wm3WZYTPz0wzccnW", "INVOICE"]))
    )
    assert calls(sandbox, "get_jsapi_ticket", WORK.key) == 1
    assert calls(sandbox, "ticket/get", WORK.key) == 2  # agent_config and wx_card


async def test_sign_jsapi_for_a_merchant(stub: Stub, sandbox: Sandbox) -> None:
    page = "https://reimburse.example.com/pick"
    reply = await stub.SignJsapi(
        invoice_service_pb2.SignJsapiRequest(
            account=MERCHANT.name,
            purposes=[
                invoice_service_pb2.SIGN_PURPOSE_WX_CONFIG,
                invoice_service_pb2.SIGN_PURPOSE_CHOOSE_INVOICE,
            ],
            url=page,
            timestamp=1700000000,
            nonce_str="abc123",
        )
    )
    jsapi = sandbox.emulator.ticket_value(MERCHANT.key, "jsapi")
    wx_card = sandbox.emulator.ticket_value(MERCHANT.key, "wx_card")
    assert reply.wx_config.app_id == MERCHANT.key
    assert reply.wx_config.signature == page_signature(jsapi, "abc123", 1700000000, page)
    assert reply.choose_invoice.card_sign == sha1(
        "".join(sorted([wx_card, MERCHANT.key, "1700000000", "abc123", "INVOICE"]))
    )
    assert not reply.HasField("agent_config")


@pytest.mark.parametrize("account", ["sandbox", MERCHANT.name])
async def test_agent_config_is_for_weixin_work_only(stub: Stub, account: str) -> None:
    failed = await failure_of(
        stub.SignJsapi(
            invoice_service_pb2.SignJsapiRequest(
                account=account,
                purposes=[invoice_service_pb2.SIGN_PURPOSE_AGENT_CONFIG],
                url="https://reimburse.example.com/pick",
            )
        )
    )
    assert (failed.code, failed.info.reason) == (C.INVALID_ARGUMENT, "INVALID_REQUEST_FIELDS")
    (violation,) = failed.details["BadRequest"].field_violations
    assert violation.field == "purposes[0]" and "Weixin Work" in violation.description


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_issue_import_qr(stub: Stub, platform: Platform) -> None:
    reply = await stub.IssueImportQr(
        invoice_service_pb2.IssueImportQrRequest(
            account=platform.name, request_id=str(uuid.uuid4()), biz_code="EXP-QR-1"
        )
    )
    assert reply.png.startswith(b"\x89PNG")
    assert reply.biz_code == "EXP-QR-1"
    assert "bizCode=EXP-QR-1" in reply.url


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_concurrent_cold_calls_fetch_one_token(
    stub: Stub, sandbox: Sandbox, platform: Platform
) -> None:
    sandbox.inject(platform.token_endpoint, FaultKind.LATENCY, 50)  # keep the fetch in flight
    replies = await asyncio.gather(
        *(
            stub.GetInvoice(
                invoice_service_pb2.GetInvoiceRequest(
                    account=platform.name, invoice=ref(INVOICES[n % 7])
                )
            )
            for n in range(200)
        )
    )
    assert len(replies) == 200
    assert calls(sandbox, platform.token_endpoint, platform.key) == 1
    assert calls(sandbox, "getinvoiceinfo", platform.key) == 200
