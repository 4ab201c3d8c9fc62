"""Import tickets, the browser's credential: what IssueImportQr hands out, and that a ticket
signs only for its page's origin, imports only into its bizCode, watches only that bizCode,
calls nothing else, and stops working when the session expires; a forged, malformed or
foreign ticket is UNAUTHENTICATED."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import grpc
import pytest
from fapiao.v1 import import_watch_pb2, invoice_pb2, invoice_service_pb2, invoice_service_pb2_grpc
from fapiao_gateway.auth.import_tickets import ImportTickets
from fapiao_gateway.bootstrap import SANDBOX_IMPORT_PAGE, Gateway
from fapiao_gateway.domain.callers import ImportScope
from fapiao_gateway.sandbox import seed

from tests.rpc import Stub, failure_of

pb = invoice_service_pb2
PAGE_ORIGIN = "https://reimburse.example.com"


def ref(index: int) -> invoice_pb2.InvoiceRef:
    invoice = seed.invoices()[index]
    return invoice_pb2.InvoiceRef(card_id=invoice.card_id, encrypt_code=invoice.encrypt_code)


def ticket_auth(ticket: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Ticket {ticket}"),)


async def issued(stub: Stub, biz_code: str = "") -> pb.IssueImportQrResponse:
    return await stub.IssueImportQr(
        pb.IssueImportQrRequest(account="sandbox", request_id=str(uuid.uuid4()), biz_code=biz_code)
    )


@pytest.fixture
async def browser(gateway: Gateway) -> AsyncIterator[Stub]:
    """A stub with no credential of its own: each call names its ticket."""
    async with grpc.aio.insecure_channel(gateway.address) as channel:
        yield invoice_service_pb2_grpc.InvoiceServiceStub(channel)


async def test_the_qr_url_carries_the_ticket_in_its_fragment_and_no_key(
    stub: Stub, gateway: Gateway
) -> None:
    reply = await issued(stub, "TICKET-URL")
    assert reply.import_ticket.startswith("fit1.")
    parts = urlsplit(reply.url)
    assert parse_qs(parts.fragment) == {"ticket": [reply.import_ticket]}
    assert parse_qs(parts.query)["bizCode"] == ["TICKET-URL"]
    key = gateway.callers.development_key
    assert key and key not in reply.SerializeToString().decode(errors="replace")
    assert key.split("_")[-1] not in reply.import_ticket  # not even the key's secret half
    # A replay gets the same ticket (minted, never stored).
    again = await stub.IssueImportQr(
        pb.IssueImportQrRequest(account="sandbox", biz_code="TICKET-URL", request_id="")
    )
    assert again.biz_code == reply.biz_code


async def test_a_ticket_signs_only_pages_on_its_origin(stub: Stub, browser: Stub) -> None:
    ticket = (await issued(stub, "TICKET-SIGN")).import_ticket
    purposes = [pb.SIGN_PURPOSE_WX_CONFIG, pb.SIGN_PURPOSE_CHOOSE_INVOICE]
    page = f"{PAGE_ORIGIN}/wechat/import?bizCode=TICKET-SIGN"
    signed = await browser.SignJsapi(
        pb.SignJsapiRequest(account="sandbox", purposes=purposes, url=page),
        metadata=ticket_auth(ticket),
    )
    assert signed.wx_config.url == page and signed.choose_invoice.card_sign
    for elsewhere in (
        "https://evil.example.com/wechat/import",
        "http://reimburse.example.com/wechat/import",  # another scheme is another origin
        "https://reimburse.example.com:8443/wechat/import",
        "https://reimburse.example.com.evil.example/wechat/import",
    ):
        failure = await failure_of(
            browser.SignJsapi(
                pb.SignJsapiRequest(account="sandbox", purposes=purposes, url=elsewhere),
                metadata=ticket_auth(ticket),
            )
        )
        assert failure.code is grpc.StatusCode.PERMISSION_DENIED, elsewhere
        assert failure.info.reason == "IMPORT_TICKET_OUT_OF_SCOPE"


async def test_a_ticket_imports_only_into_its_biz_code_and_never_locks(
    stub: Stub, browser: Stub
) -> None:
    ticket = (await issued(stub, "TICKET-IMPORT")).import_ticket
    imported = await browser.ImportInvoices(
        pb.ImportInvoicesRequest(account="sandbox", biz_code="TICKET-IMPORT", invoices=[ref(0)]),
        metadata=ticket_auth(ticket),
    )
    assert imported.biz_code == "TICKET-IMPORT"
    assert imported.invoices[0].imported_by == "sandbox-developer/import-ticket"
    for request in (
        pb.ImportInvoicesRequest(account="sandbox", biz_code="OTHER-REPORT", invoices=[ref(5)]),
        pb.ImportInvoicesRequest(account="sandbox", biz_code="", invoices=[ref(5)]),
        pb.ImportInvoicesRequest(
            account="sandbox", biz_code="TICKET-IMPORT", invoices=[ref(5)], lock=True
        ),
    ):
        failure = await failure_of(browser.ImportInvoices(request, metadata=ticket_auth(ticket)))
        assert failure.code is grpc.StatusCode.PERMISSION_DENIED, request
        assert failure.info.reason == "IMPORT_TICKET_OUT_OF_SCOPE"
    other_account = await failure_of(
        browser.ImportInvoices(
            pb.ImportInvoicesRequest(
                account=seed.PARTNER.alias, biz_code="TICKET-IMPORT", invoices=[ref(5)]
            ),
            metadata=ticket_auth(ticket),
        )
    )
    assert other_account.code is grpc.StatusCode.PERMISSION_DENIED


async def test_a_ticket_calls_nothing_else(stub: Stub, browser: Stub) -> None:
    ticket = (await issued(stub, "TICKET-ELSE")).import_ticket
    auth = ticket_auth(ticket)
    for attempt in (
        browser.GetInvoice(pb.GetInvoiceRequest(account="sandbox", invoice=ref(0)), metadata=auth),
        browser.SearchInvoices(
            pb.SearchInvoicesRequest(account="sandbox", biz_code="TICKET-ELSE"), metadata=auth
        ),
        browser.UpdateStatus(
            pb.UpdateStatusRequest(
                account="sandbox", invoice=ref(0), status=invoice_pb2.REIMBURSE_STATUS_INIT
            ),
            metadata=auth,
        ),
        browser.IssueImportQr(pb.IssueImportQrRequest(account="sandbox"), metadata=auth),
        browser.ListAuditEvents(pb.ListAuditEventsRequest(account="sandbox"), metadata=auth),
        browser.ReconcileInvoices(
            pb.ReconcileInvoicesRequest(account="sandbox", biz_code="TICKET-ELSE"), metadata=auth
        ),
    ):
        failure = await failure_of(attempt)
        assert failure.code is grpc.StatusCode.PERMISSION_DENIED
        assert failure.info.reason == "IMPORT_TICKET_OUT_OF_SCOPE"
    watch_other = browser.WatchImport(
        import_watch_pb2.WatchImportRequest(account="sandbox", biz_code="TICKET-OTHER"),
        metadata=auth,
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        async for _ in watch_other:
            pass
    assert refused.value.code() is grpc.StatusCode.PERMISSION_DENIED


async def test_forged_malformed_foreign_and_expired_tickets_are_unauthenticated(
    stub: Stub, browser: Stub, gateway: Gateway
) -> None:
    ticket = (await issued(stub, "TICKET-BAD")).import_ticket
    head, body, mac = ticket.split(".")
    scope = ImportScope(
        account=seed.PRIMARY.appid,
        biz_code="TICKET-BAD",
        origin=PAGE_ORIGIN,
        expire_time=datetime.now(UTC) + timedelta(minutes=5),
        issued_by="sandbox-developer",
    )
    foreign = ImportTickets(b"another gateway's secret").mint(scope)
    # Claims of another bizCode under this ticket's MAC: the MAC covers the claims.
    other_body = (
        ImportTickets(b"x")
        .mint(
            ImportScope(**{**scope.__dict__, "biz_code": "TICKET-OTHER"})
            if hasattr(scope, "__dict__")
            else ImportScope(scope.account, "TICKET-OTHER", scope.origin, scope.expire_time, "x")
        )
        .split(".")[1]
    )
    directory = gateway.callers.directory
    assert directory.tickets is not None
    expired = directory.tickets.mint(
        ImportScope(
            seed.PRIMARY.appid,
            "TICKET-BAD",
            PAGE_ORIGIN,
            datetime.now(UTC) - timedelta(seconds=1),
            "sandbox-developer",
        )
    )
    request = pb.ImportInvoicesRequest(account="sandbox", biz_code="TICKET-BAD", invoices=[ref(0)])
    for presented, reason in (
        (f"{head}.{body}.{mac[:-2]}AA", "IMPORT_TICKET_INVALID"),
        (f"{head}.{other_body}.{mac}", "IMPORT_TICKET_INVALID"),
        (foreign, "IMPORT_TICKET_INVALID"),
        ("fit1.not-base64!.x", "IMPORT_TICKET_INVALID"),
        ("", "IMPORT_TICKET_INVALID"),
        (expired, "IMPORT_TICKET_EXPIRED"),
    ):
        failure = await failure_of(browser.ImportInvoices(request, metadata=ticket_auth(presented)))
        assert failure.code is grpc.StatusCode.UNAUTHENTICATED, presented
        assert failure.info.reason == reason, presented
    # The API key scheme does not take a ticket, nor the ticket scheme a key.
    failure = await failure_of(
        browser.ImportInvoices(request, metadata=(("authorization", f"Bearer {ticket}"),))
    )
    assert failure.code is grpc.StatusCode.UNAUTHENTICATED
    key = gateway.callers.development_key
    failure = await failure_of(browser.ImportInvoices(request, metadata=ticket_auth(str(key))))
    assert failure.code is grpc.StatusCode.UNAUTHENTICATED


async def test_a_ticket_stops_working_when_its_session_expires(
    stub: Stub, browser: Stub, gateway: Gateway
) -> None:
    """The ticket's expiry is the session's: once it has passed, the gate refuses it."""
    reply = await issued(stub, "TICKET-LATE")
    directory = gateway.callers.directory
    later = reply.expire_time.ToDatetime(tzinfo=UTC) + timedelta(seconds=1)
    directory.clock = lambda: later
    failure = await failure_of(
        browser.ImportInvoices(
            pb.ImportInvoicesRequest(account="sandbox", biz_code="TICKET-LATE", invoices=[ref(0)]),
            metadata=ticket_auth(reply.import_ticket),
        )
    )
    assert failure.code is grpc.StatusCode.UNAUTHENTICATED
    assert failure.info.reason == "IMPORT_TICKET_EXPIRED"
    assert SANDBOX_IMPORT_PAGE.startswith(PAGE_ORIGIN)
