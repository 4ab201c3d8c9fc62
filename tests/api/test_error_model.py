"""Every reason of docs/errors.md, made to happen through the gRPC face: its code, exactly one
ErrorInfo (domain, reason, metadata) and the extra detail the error model names for it.

Errors a use case raises come from the code that makes them where it can be called alone (the
domain errors, errcodes.to_error over every row of every platform's table, the import and
status rules, the upstream's error helpers); the few made inline deep in an adapter or a
use case are built here as that code builds them (each names its source). The gateway's own
refusals (authentication, permission, validation, rate limits, the default deadline, an
unexpected exception) are made by the real api/ code.
"""

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import grpc
import pytest
from fapiao.v1 import invoice_service_pb2 as pb
from fapiao_gateway.api.errors import ERROR_DOMAIN, MAX_STATUS_BYTES
from fapiao_gateway.api.handlers import SERVICE
from fapiao_gateway.api.quotas import Quotas
from fapiao_gateway.domain.accounts import Platform
from fapiao_gateway.domain.callers import ANY, Caller
from fapiao_gateway.domain.documents import (
    ArchiveState,
    DocumentKind,
    DocumentRecord,
    DocumentRequest,
)
from fapiao_gateway.domain.errors import (
    DeadlineExceeded,
    ErrorKind,
    FailedPrecondition,
    FieldViolation,
    GatewayError,
    Internal,
    InvoiceBeingChanged,
    InvoiceDuplicate,
    InvoiceHeldElsewhere,
    LedgerUnavailable,
    OutcomePending,
    PreconditionViolation,
    RequestIdReused,
    RequestInProgress,
    Unavailable,
    account_subject,
    invalid_fields,
)
from fapiao_gateway.domain.imports import invoices_to_lock, refuse_unreimbursable
from fapiao_gateway.domain.invoice import CardStatus, Invoice, InvoiceRef
from fapiao_gateway.domain.status import ReimburseStatus
from fapiao_gateway.services.archiving import DocumentReader
from fapiao_gateway.services.import_qr import ImportQrIssuer
from fapiao_gateway.services.import_watch import ImportWatcher
from fapiao_gateway.services.invoices import NOT_RETURNED
from fapiao_gateway.services.status import refuse_unimported
from fapiao_gateway.wechat import errcode_tables
from fapiao_gateway.wechat.accounts import Account, AccountRegistry
from fapiao_gateway.wechat.errcodes import ERRCODES, Effect, Errcode, to_error, unrecognized
from fapiao_gateway.wechat.platforms import Api
from fapiao_gateway.wechat.upstream import deadline_exceeded, malformed
from google.rpc import error_details_pb2 as details
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from pydantic import SecretStr

from tests.api.harness import (
    ACCOUNTS,
    OFFICIAL,
    TICKET,
    InProcessGateway,
    Outcome,
    RawRequest,
)
from tests.api.harness import Accounts as AccountList
from tests.api.harness import callers as make_callers
from tests.api.reason_table import BY_EFFECT, REASONS
from tests.api.requests import valid, valid_requests

C = grpc.StatusCode
REF = InvoiceRef("card-1", "code-1")
APPID = OFFICIAL.appid
WECHAT_FACTS = {
    "account": APPID,
    "card_id": REF.card_id,
    "encrypt_code": REF.encrypt_code,
    "wechat_errmsg": "what WeChat said",
    "wechat_api": Api.GET_INVOICE_INFO.value,
}


@dataclass(frozen=True)
class Case:
    """One way to make the gateway answer `reason` with `code` and, after its ErrorInfo,
    exactly the details `extra` names; `metadata` must be in the ErrorInfo's."""

    id: str
    reason: str
    code: grpc.StatusCode
    extra: tuple[str, ...]
    drive: Callable[[InProcessGateway], Outcome]
    metadata: Mapping[str, str] = field(default_factory=dict)


def raised(make: Callable[[], BaseException], rpc: str = "GetInvoice") -> Callable[..., Outcome]:
    """Drives `rpc` with a valid request; its use case raises what `make` makes."""

    def drive(gateway: InProcessGateway) -> Outcome:
        gateway.use_cases.failure = make()
        return gateway.call(rpc, valid(rpc))

    return drive


def caught(run: Callable[[], Any]) -> Callable[[], BaseException]:
    """The error the real code raises when `run()` (a call or a coroutine) is made."""

    def make() -> BaseException:
        try:
            result = run()
            if asyncio.iscoroutine(result):
                asyncio.run(result)
        except GatewayError as error:
            return error
        raise AssertionError("the code raised nothing")

    return make


def errcode_cases() -> list[Case]:
    """Every row of every platform's errcode table, as to_error makes it for an invoice call."""
    cases = []
    seen: set[tuple[int, str]] = set()
    for platform in (Platform.OFFICIAL_ACCOUNT, Platform.WORK, Platform.COMPONENT):
        rows: list[Errcode] = list(errcode_tables.table(platform).values())
        if platform is Platform.OFFICIAL_ACCOUNT:
            rows.append(unrecognized(99999))
        for row in rows:
            if (row.code, row.reason) in seen and row == ERRCODES.get(row.code):
                continue  # the component table repeats the Official Account's rows
            seen.add((row.code, row.reason))
            code, extra = BY_EFFECT[row.effect]
            if row.effect is Effect.QUOTA and row.retry_after is not None:
                extra = (*extra, "RetryInfo")

            def make(row: Errcode = row) -> GatewayError:
                return to_error(
                    row.code,
                    "what WeChat said",
                    account=APPID,
                    api=Api.GET_INVOICE_INFO.value,
                    ref=REF,
                    row=row,
                )

            cases.append(
                Case(
                    f"{platform.value}-{row.code}",
                    row.reason,
                    code,
                    extra,
                    raised(make),
                    {**WECHAT_FACTS, "wechat_errcode": str(row.code)},
                )
            )
    return cases


def _anonymous(gateway: InProcessGateway) -> Outcome:
    return gateway.call("GetInvoice", valid("GetInvoice"), metadata=())


def _reader_locks(gateway: InProcessGateway) -> Outcome:
    return gateway.call("UpdateStatus", valid("UpdateStatus"), metadata=gateway.key("reader"))


def _malformed(gateway: InProcessGateway) -> Outcome:
    # field 1 (account), 1 byte long, not UTF-8
    return gateway.call("GetInvoice", RawRequest(b"\x0a\x01\xff"))


def _no_invoice(gateway: InProcessGateway) -> Outcome:
    return gateway.call("GetInvoice", pb.GetInvoiceRequest(account="acme"))


def _unknown_account(gateway: InProcessGateway) -> Outcome:
    return gateway.call(
        "GetInvoice", pb.GetInvoiceRequest(account="nobody", invoice=valid("GetInvoice").invoice)
    )


def _quotas(account_limits: Mapping[str, list[str]]) -> Quotas:
    limiter = SlidingWindowCounterRateLimiter(MemoryStorage())
    return Quotas(limiter, AccountList(ACCOUNTS), account_limits)


def _over_caller_limit(gateway: InProcessGateway) -> Outcome:
    limited = Caller("limited", frozenset({ANY}), frozenset({ANY}), ("1/hour",))
    limited_gateway = InProcessGateway(
        gateway.loop, people=make_callers(limited), admission=_quotas({})
    )
    first = limited_gateway.call(
        "GetInvoice", valid("GetInvoice"), metadata=limited_gateway.key("limited")
    )
    assert first.code is C.OK
    return limited_gateway.call(
        "GetInvoice", valid("GetInvoice"), metadata=limited_gateway.key("limited")
    )


def _over_account_limit(gateway: InProcessGateway) -> Outcome:
    limited_gateway = InProcessGateway(gateway.loop, admission=_quotas({APPID: ["1/hour"]}))
    assert limited_gateway.call("GetInvoice", valid("GetInvoice")).code is C.OK
    return limited_gateway.call("GetInvoice", valid("GetInvoice"))


def _past_default_deadline(gateway: InProcessGateway) -> Outcome:
    bounded = InProcessGateway(gateway.loop, default_deadline_seconds=0.05)
    bounded.use_cases.hold = asyncio.Event()  # never set: the use case outlives the default
    return bounded.call("GetInvoice", valid("GetInvoice"))


class _OneRecord:
    """The DocumentLedger port with one record (or none) for every document asked for."""

    def __init__(self, record: DocumentRecord | None) -> None:
        self._record = record

    async def find(self, *_args: Any) -> DocumentRecord | None:
        return self._record


def _document(state: ArchiveState | None, **facts: Any) -> Callable[[], BaseException]:
    """What the real DocumentReader raises for a document in `state` (None: no record)."""
    record = (
        None
        if state is None
        else DocumentRecord(APPID, REF, DocumentKind.INVOICE, "https://x.example/p", state, **facts)
    )
    reader = DocumentReader(_OneRecord(record), SimpleNamespace())  # type: ignore[arg-type]
    return caught(lambda: reader.open(DocumentRequest(APPID, REF, DocumentKind.INVOICE), 1024))


async def _first(events: AsyncIterator[Any]) -> Any:
    return await anext(events)


class _NoSessions:
    """The ImportSessionFinder port of a gateway that never opened an import session."""

    async def find(self, *_args: Any) -> None:
        return None


def _unopened_session() -> BaseException:
    watcher = ImportWatcher(SimpleNamespace(), _NoSessions(), SimpleNamespace())
    return caught(lambda: _first(watcher.watch(APPID, "report-1")))()


def _archive_disabled(gateway: InProcessGateway) -> Outcome:
    without = InProcessGateway(gateway.loop, archive=False)
    return without.call("GetInvoiceDocument", valid("GetInvoiceDocument"))


def _ticket(scope: Any = TICKET, rpc: str = "SignJsapi") -> Callable[..., Outcome]:
    """Drives `rpc` with a valid request, authenticated by an import ticket for `scope`."""

    def drive(gateway: InProcessGateway) -> Outcome:
        return gateway.call(rpc, valid(rpc), metadata=gateway.ticket_key(scope))

    return drive


def _forged_ticket(gateway: InProcessGateway) -> Outcome:
    ticket = gateway.ticket()
    forged = ticket[:-2] + ("AA" if not ticket.endswith("AA") else "BB")
    return gateway.call(
        "SignJsapi", valid("SignJsapi"), metadata=(("authorization", f"Ticket {forged}"),)
    )


EXPIRED = replace(TICKET, expire_time=datetime.now(UTC) - timedelta(seconds=1))


def _unexpected(gateway: InProcessGateway) -> Outcome:
    return raised(lambda: RuntimeError("password=hunter2 in a stack trace"))(gateway)


ACCOUNT = Account(APPID, SecretStr("not-a-real-secret"))
DOMAIN_CASES = [
    Case("no-credential", "CREDENTIAL_INVALID", C.UNAUTHENTICATED, (), _anonymous),
    Case(
        "not-allowed",
        "PERMISSION_DENIED",
        C.PERMISSION_DENIED,
        (),
        _reader_locks,
        {"caller": "reader", "operation": "lock", "account": "acme"},
    ),
    Case(
        "caller-limit",
        "CALLER_QUOTA_EXCEEDED",
        C.RESOURCE_EXHAUSTED,
        ("QuotaFailure", "RetryInfo"),
        _over_caller_limit,
        {"caller": "limited", "limit": "1 per 1 hour"},
    ),
    Case(
        "account-limit",
        "ACCOUNT_QUOTA_EXCEEDED",
        C.RESOURCE_EXHAUSTED,
        ("QuotaFailure", "RetryInfo"),
        _over_account_limit,
        {"account": APPID},
    ),
    Case("not-a-message", "MALFORMED_REQUEST", C.INVALID_ARGUMENT, (), _malformed),
    Case(
        "missing-field", "INVALID_REQUEST_FIELDS", C.INVALID_ARGUMENT, ("BadRequest",), _no_invoice
    ),
    Case(
        "unknown-account",
        "INVALID_REQUEST_FIELDS",
        C.INVALID_ARGUMENT,
        ("BadRequest",),
        _unknown_account,
    ),
    Case(
        "request-id-reused",
        "INVALID_REQUEST_FIELDS",
        C.INVALID_ARGUMENT,
        ("BadRequest",),
        raised(lambda: RequestIdReused("req-1"), "UpdateStatus"),
    ),
    Case(
        "too-many-upstream-calls",
        "INVALID_REQUEST_FIELDS",
        C.INVALID_ARGUMENT,
        ("BadRequest",),
        raised(lambda: invalid_fields([FieldViolation("invoices", "too many")]), "GetInvoices"),
    ),
    Case(
        "not-imported",
        "INVOICE_NOT_IMPORTED",
        C.FAILED_PRECONDITION,
        ("PreconditionFailure",),
        raised(caught(lambda: refuse_unimported(APPID, [REF])), "UpdateStatus"),
        {"account": APPID, "card_id": REF.card_id, "encrypt_code": REF.encrypt_code},
    ),
    Case(
        "not-lockable",
        "INVOICE_NOT_LOCKABLE",
        C.FAILED_PRECONDITION,
        ("PreconditionFailure",),
        raised(
            caught(lambda: invoices_to_lock("report-1", [REF], {REF: ReimburseStatus.CLOSURE}, {})),
            "ImportInvoices",
        ),
        {"card_id": REF.card_id},
    ),
    Case(
        "red-flushed",
        "INVOICE_NOT_REIMBURSABLE",
        C.FAILED_PRECONDITION,
        ("PreconditionFailure",),
        raised(
            caught(lambda: refuse_unreimbursable([Invoice(REF, "o", ReimburseStatus.CANCEL)])),
            "ImportInvoices",
        ),
    ),
    Case(
        "card-expired",
        "INVOICE_NOT_REIMBURSABLE",
        C.FAILED_PRECONDITION,
        ("PreconditionFailure",),
        raised(
            caught(
                lambda: refuse_unreimbursable(
                    [Invoice(REF, "o", ReimburseStatus.INIT, card_status=CardStatus.EXPIRE)]
                )
            ),
            "ImportInvoices",
        ),
    ),
    Case(
        "held-elsewhere",
        "INVOICE_ALREADY_IMPORTED",
        C.ALREADY_EXISTS,
        ("ResourceInfo",),
        raised(
            lambda: InvoiceHeldElsewhere(REF, biz_code="other", status="LOCK"), "ImportInvoices"
        ),
        {"biz_code": "other", "card_id": REF.card_id},
    ),
    Case(
        "in-progress",
        "REQUEST_IN_PROGRESS",
        C.ABORTED,
        ("RetryInfo",),
        raised(lambda: RequestInProgress("req-1", retry_after=0.5), "UpdateStatus"),
        {"request_id": "req-1"},
    ),
    Case(
        # services/reservations.py: the caller's deadline cannot cover the wait
        "in-progress-past-deadline",
        "REQUEST_IN_PROGRESS",
        C.DEADLINE_EXCEEDED,
        (),
        raised(
            lambda: DeadlineExceeded(
                "A call with the same request_id is still running; retry it later.",
                reason="REQUEST_IN_PROGRESS",
                metadata={"request_id": "req-1"},
            ),
            "UpdateStatus",
        ),
        {"request_id": "req-1"},
    ),
    Case(
        "being-changed",
        "INVOICE_CHANGE_IN_PROGRESS",
        C.ABORTED,
        ("ResourceInfo", "RetryInfo"),
        raised(lambda: InvoiceBeingChanged(REF, retry_after=0.2), "UpdateStatus"),
        {"card_id": REF.card_id},
    ),
    Case(
        "outcome-pending",
        "OUTCOME_PENDING",
        C.UNAVAILABLE,
        ("RetryInfo",),
        raised(lambda: OutcomePending("req-1"), "UpdateStatus"),
        {"request_id": "req-1"},
    ),
    Case(
        "ledger-down",
        "LEDGER_UNAVAILABLE",
        C.UNAVAILABLE,
        ("RetryInfo",),
        raised(lambda: LedgerUnavailable("connection refused"), "SearchInvoices"),
    ),
    Case(
        "account-gone",
        "WECHAT_ACCOUNT_NOT_CONFIGURED",
        C.FAILED_PRECONDITION,
        ("PreconditionFailure",),
        raised(caught(lambda: AccountRegistry([]).credentials("wx-gone")), "UpdateStatus"),
        {"account": "wx-gone"},
    ),
    Case(
        # services/imports.py InvoiceImporter._check_session
        "session-expired",
        "IMPORT_SESSION_EXPIRED",
        C.FAILED_PRECONDITION,
        ("PreconditionFailure",),
        raised(
            lambda: FailedPrecondition(
                "The import QR code for bizCode 'report-1' expired.",
                reason="IMPORT_SESSION_EXPIRED",
                account=APPID,
                metadata={"biz_code": "report-1"},
                precondition_violations=[
                    PreconditionViolation(
                        "IMPORT_SESSION_EXPIRED", "bizCode:report-1", "issue a new QR code"
                    )
                ],
            ),
            "ImportInvoices",
        ),
        {"biz_code": "report-1", "account": APPID},
    ),
    Case(
        "no-import-page",
        "IMPORT_PAGE_NOT_CONFIGURED",
        C.FAILED_PRECONDITION,
        ("PreconditionFailure",),
        raised(
            caught(
                lambda: ImportQrIssuer(
                    None,  # type: ignore[arg-type]
                    None,  # type: ignore[arg-type]
                    SimpleNamespace(owner="tests"),  # type: ignore[arg-type]
                    page_url="",
                ).issue(None, None)  # type: ignore[arg-type]
            ),
            "IssueImportQr",
        ),
    ),
    Case(
        # wechat/component.py: no component_verify_ticket stored or configured
        "no-verify-ticket",
        "COMPONENT_VERIFY_TICKET_MISSING",
        C.FAILED_PRECONDITION,
        ("PreconditionFailure",),
        raised(
            lambda: FailedPrecondition(
                "No component_verify_ticket for third-party platform wx-platform yet.",
                reason="COMPONENT_VERIFY_TICKET_MISSING",
                precondition_violations=[
                    PreconditionViolation(
                        "COMPONENT_VERIFY_TICKET",
                        "wechat-component:wx-platform",
                        "no component_verify_ticket has arrived",
                    )
                ],
            )
        ),
    ),
    Case(
        "upstream-deadline",
        "DEADLINE_EXHAUSTED",
        C.DEADLINE_EXCEEDED,
        (),
        raised(lambda: deadline_exceeded(ACCOUNT, Api.GET_INVOICE_INFO)),
        {"account": APPID, "wechat_api": "getinvoiceinfo"},
    ),
    Case(
        "default-deadline",
        "DEFAULT_DEADLINE_EXCEEDED",
        C.DEADLINE_EXCEEDED,
        (),
        _past_default_deadline,
    ),
    Case(
        "malformed-reply",
        "WECHAT_MALFORMED_REPLY",
        C.INTERNAL,
        (),
        raised(lambda: malformed(ACCOUNT, Api.GET_INVOICE_INFO, "no invoice")),
        {"account": APPID, "wechat_api": "getinvoiceinfo"},
    ),
    Case(
        # wechat/upstream.py: a reply that is not JSON at all
        "not-json-reply",
        "WECHAT_MALFORMED_REPLY",
        C.UNAVAILABLE,
        ("RetryInfo",),
        raised(
            lambda: Unavailable(
                "WeChat's reply to getinvoiceinfo is not JSON.",
                reason="WECHAT_MALFORMED_REPLY",
                retry_after=1.0,
                account=APPID,
                wechat_api="getinvoiceinfo",
            )
        ),
        {"account": APPID},
    ),
    Case(
        # wechat/upstream.py: the transport failed
        "unreachable",
        "WECHAT_UNREACHABLE",
        C.UNAVAILABLE,
        ("RetryInfo",),
        raised(
            lambda: Unavailable(
                "WeChat could not be reached for getinvoiceinfo (refused).",
                reason="WECHAT_UNREACHABLE",
                retry_after=1.0,
                account=APPID,
                wechat_api="getinvoiceinfo",
            )
        ),
        {"account": APPID},
    ),
    Case(
        # wechat/upstream.py: HTTP 5xx
        "http-5xx",
        "WECHAT_HTTP_ERROR",
        C.UNAVAILABLE,
        ("RetryInfo",),
        raised(
            lambda: Unavailable(
                "WeChat answered getinvoiceinfo with HTTP 502.",
                reason="WECHAT_HTTP_ERROR",
                metadata={"http_status": "502"},
                retry_after=1.0,
                account=APPID,
                wechat_api="getinvoiceinfo",
            )
        ),
        {"http_status": "502"},
    ),
    Case(
        # wechat/upstream.py: an HTTP status neither 200 nor 5xx
        "http-4xx",
        "WECHAT_HTTP_ERROR",
        C.INTERNAL,
        (),
        raised(
            lambda: Internal(
                "WeChat answered getinvoiceinfo with HTTP 404.",
                reason="WECHAT_HTTP_ERROR",
                metadata={"http_status": "404"},
                account=APPID,
                wechat_api="getinvoiceinfo",
            )
        ),
        {"http_status": "404"},
    ),
    Case(
        # the same fapiao through another card (domain/errors.py, raised by the importer)
        "duplicate-fapiao",
        "INVOICE_DUPLICATE",
        C.ALREADY_EXISTS,
        ("ResourceInfo",),
        raised(
            lambda: InvoiceDuplicate(
                REF,
                tax_identity="044001900111-12345678",
                holder_account="wx-other",
                holder_biz_code="report-9",
                holder_import_time="2026-01-02T03:04:05+00:00",
            ),
            "ImportInvoices",
        ),
        {
            "tax_identity": "044001900111-12345678",
            "biz_code": "report-9",
            "holder_account": "wx-other",
            "holder_import_time": "2026-01-02T03:04:05+00:00",
        },
    ),
    Case(
        "document-pending",
        "DOCUMENT_PENDING",
        C.NOT_FOUND,
        ("ResourceInfo",),
        raised(_document(ArchiveState.PENDING), "GetInvoiceDocument"),
        {"document": "INVOICE", "account": APPID},
    ),
    Case(
        "document-pending-after-a-failed-attempt",
        "DOCUMENT_PENDING",
        C.NOT_FOUND,
        ("ResourceInfo",),
        raised(
            _document(ArchiveState.PENDING, attempts=1, reason="HTTP_502"), "GetInvoiceDocument"
        ),
        {"document": "INVOICE", "fetch_error": "HTTP_502"},
    ),
    Case(
        "document-fetch-failed",
        "DOCUMENT_FETCH_FAILED",
        C.NOT_FOUND,
        ("ResourceInfo",),
        raised(
            _document(ArchiveState.FAILED, attempts=5, reason="NOT_A_PDF"), "GetInvoiceDocument"
        ),
        {"document": "INVOICE", "fetch_error": "NOT_A_PDF"},
    ),
    Case(
        "document-not-archived",
        "DOCUMENT_NOT_ARCHIVED",
        C.NOT_FOUND,
        ("ResourceInfo",),
        raised(_document(None), "GetInvoiceDocument"),
        {"document": "INVOICE"},
    ),
    Case(
        "archive-disabled",
        "DOCUMENT_NOT_ARCHIVED",
        C.NOT_FOUND,
        ("ResourceInfo",),
        _archive_disabled,
        {"document": "INVOICE", "archive": "disabled"},
    ),
    Case(
        "watch-unopened-session",
        "IMPORT_SESSION_NOT_FOUND",
        C.NOT_FOUND,
        ("ResourceInfo",),
        raised(_unopened_session, "WatchImport"),
        {"biz_code": "report-1", "account": APPID},
    ),
    Case("ticket-forged", "IMPORT_TICKET_INVALID", C.UNAUTHENTICATED, (), _forged_ticket),
    Case("ticket-expired", "IMPORT_TICKET_EXPIRED", C.UNAUTHENTICATED, (), _ticket(EXPIRED)),
    Case(
        "ticket-out-of-scope",
        "IMPORT_TICKET_OUT_OF_SCOPE",
        C.PERMISSION_DENIED,
        (),
        _ticket(rpc="GetInvoice"),
        {"caller": "admin/import-ticket"},
    ),
    Case("unexpected", "INTERNAL_ERROR", C.INTERNAL, (), _unexpected),
]
CASES = [*DOMAIN_CASES, *errcode_cases()]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_each_failure_is_its_code_one_error_info_and_its_details(
    gateway: InProcessGateway, case: Case
) -> None:
    outcome = case.drive(gateway)

    assert outcome.code is case.code, outcome.details
    assert outcome.detail_names() == ["ErrorInfo", *case.extra]
    info = outcome.detail(details.ErrorInfo)
    assert (info.reason, info.domain) == (case.reason, ERROR_DOMAIN)
    assert dict(info.metadata).items() >= dict(case.metadata).items()


def test_every_documented_reason_is_driven_with_a_documented_code() -> None:
    driven: dict[str, set[grpc.StatusCode]] = {}
    for case in CASES:
        driven.setdefault(case.reason, set()).add(case.code)
    failures = {r for r, row in REASONS.items() if row.codes}
    missing = sorted(failures - driven.keys())
    assert not missing, f"reasons of reason_table.REASONS no case in CASES makes: {missing}"
    unlisted = sorted(driven.keys() - REASONS.keys())
    assert not unlisted, f"reasons CASES makes with no row in reason_table.REASONS: {unlisted}"
    wrong = {r: codes - REASONS[r].codes for r, codes in driven.items() if codes - REASONS[r].codes}
    assert not wrong, f"codes the docs do not give these reasons: {wrong}"
    undriven = {
        r: row.codes - driven[r]
        for r, row in REASONS.items()
        if row.codes - driven.get(r, row.codes)
    }
    assert not undriven, f"documented codes no case makes: {undriven}"


def test_a_getinvoices_slot_reports_an_invoice_wechat_left_out(gateway: InProcessGateway) -> None:
    gateway.use_cases.replies["get_invoices"] = [NOT_RETURNED]

    outcome = gateway.call("GetInvoices", valid("GetInvoices"))

    assert outcome.code is C.OK
    (slot,) = outcome.response.results
    assert slot.failure.reason == "INVOICE_NOT_RETURNED"
    assert not REASONS["INVOICE_NOT_RETURNED"].codes


def test_a_getinvoices_slot_carries_its_batch_failure(gateway: InProcessGateway) -> None:
    from fapiao_gateway.domain.invoice import LookupFailure

    gateway.use_cases.replies["get_invoices"] = [LookupFailure("WECHAT_BUSY", "busy", -1)]

    outcome = gateway.call("GetInvoices", valid("GetInvoices"))

    (slot,) = outcome.response.results
    assert (slot.failure.reason, slot.failure.wechat_errcode) == ("WECHAT_BUSY", -1)


# --- the extra detail the architecture page names, one family at a time -----------------


def _errcode(
    gateway: InProcessGateway, code: int, platform: Platform = Platform.OFFICIAL_ACCOUNT
) -> Outcome:
    row = errcode_tables.lookup(platform, code)
    gateway.use_cases.failure = to_error(code, "errmsg", account=APPID, ref=REF, row=row)
    return gateway.call("GetInvoice", valid("GetInvoice"))


def test_wrong_state_names_the_invoice_in_a_precondition_failure(gateway: InProcessGateway) -> None:
    (violation,) = _errcode(gateway, 72024).detail(details.PreconditionFailure).violations
    assert (violation.type, violation.subject) == ("INVOICE_STATUS_CONFLICT", "card-1/code-1")


def test_locked_by_another_account_also_names_the_invoice_as_a_resource(
    gateway: InProcessGateway,
) -> None:
    outcome = _errcode(gateway, 72023)
    resource = outcome.detail(details.ResourceInfo)
    assert (resource.resource_type, resource.resource_name) == (
        "fapiao.v1.Invoice",
        "card-1/code-1",
    )
    assert outcome.detail(details.PreconditionFailure).violations[0].subject == "card-1/code-1"


def test_not_found_is_a_resource_info_about_the_invoice(gateway: InProcessGateway) -> None:
    resource = _errcode(gateway, 40056).detail(details.ResourceInfo)
    assert (resource.resource_type, resource.resource_name) == (
        "fapiao.v1.Invoice",
        "card-1/code-1",
    )


def test_busy_says_when_to_retry(gateway: InProcessGateway) -> None:
    assert _errcode(gateway, -1).detail(details.RetryInfo).retry_delay.ToNanoseconds() == 10**9


def test_quota_names_the_account_and_the_rate_limit_says_when_to_retry(
    loop: Any, gateway: InProcessGateway
) -> None:
    daily = _errcode(gateway, 45009)
    assert daily.detail(details.QuotaFailure).violations[0].subject == account_subject(APPID)
    assert not daily.details_of(details.RetryInfo)
    rate = _errcode(InProcessGateway(loop), 45011)
    assert rate.detail(details.RetryInfo).retry_delay.seconds == 60


def test_a_broken_account_says_what_to_fix_on_which_account(gateway: InProcessGateway) -> None:
    outcome = _errcode(gateway, 40164)
    (violation,) = outcome.detail(details.PreconditionFailure).violations
    assert (violation.type, violation.subject) == ("WECHAT_ACCOUNT", account_subject(APPID))
    assert violation.description
    assert APPID in outcome.details


def test_unrecognized_errcodes_are_wechats_unknown_with_its_errcode_and_errmsg(
    gateway: InProcessGateway,
) -> None:
    outcome = _errcode(gateway, 99999)
    metadata = outcome.detail(details.ErrorInfo).metadata
    assert (outcome.code, metadata["wechat_errcode"], metadata["wechat_errmsg"]) == (
        C.UNKNOWN,
        "99999",
        "errmsg",
    )


def test_held_elsewhere_names_the_report_that_holds_the_invoice(gateway: InProcessGateway) -> None:
    gateway.use_cases.failure = InvoiceHeldElsewhere(REF, biz_code="report-9", status="LOCK")
    outcome = gateway.call("ImportInvoices", valid("ImportInvoices"))
    assert outcome.detail(details.ResourceInfo).owner == "bizCode:report-9"


def test_a_duplicate_fapiao_names_the_report_that_holds_it(gateway: InProcessGateway) -> None:
    case = next(c for c in CASES if c.id == "duplicate-fapiao")
    outcome = case.drive(gateway)

    resource = outcome.detail(details.ResourceInfo)
    assert resource.owner == "bizCode:report-9"
    assert "report-9" in outcome.details and "wx-other" in outcome.details


def test_a_document_not_archived_names_the_invoice_and_the_document(
    gateway: InProcessGateway,
) -> None:
    case = next(c for c in CASES if c.id == "document-fetch-failed")
    outcome = case.drive(gateway)

    resource = outcome.detail(details.ResourceInfo)
    assert REF.card_id in resource.resource_name
    assert "INVOICE document" in resource.description
    assert "NOT_A_PDF" in outcome.details


def test_an_unexpected_exception_is_internal_with_a_correlation_id_and_nothing_else(
    gateway: InProcessGateway, caplog: pytest.LogCaptureFixture
) -> None:
    outcome = _unexpected(gateway)

    correlation_id = outcome.detail(details.ErrorInfo).metadata["correlation_id"]
    assert correlation_id in outcome.details
    assert "hunter2" not in outcome.details
    assert "hunter2" not in str(outcome.status)
    assert any(correlation_id in r.getMessage() for r in caplog.records)


def test_a_long_list_of_violations_is_cut_to_fit_default_clients(gateway: InProcessGateway) -> None:
    gateway.use_cases.failure = invalid_fields(
        FieldViolation(f"invoices[{i}].card_id", "x" * 100) for i in range(500)
    )
    outcome = gateway.call("GetInvoices", valid("GetInvoices"))

    assert outcome.status.ByteSize() <= MAX_STATUS_BYTES
    violations = outcome.detail(details.BadRequest).field_violations
    assert 0 < len(violations) < 500
    assert "and more" in violations[-1].description


def test_the_call_ends_once_and_is_recorded_with_its_reason(gateway: InProcessGateway) -> None:
    gateway.use_cases.failure = OutcomePending("req-7")
    gateway.call("UpdateStatus", valid("UpdateStatus"))

    (facts,) = gateway.recorded
    assert (facts.rpc, facts.code, facts.reason, facts.caller) == (
        "UpdateStatus",
        C.UNAVAILABLE,
        "OUTCOME_PENDING",
        "admin",
    )


def test_every_rpc_has_a_valid_request() -> None:
    served = {m.name for m in SERVICE.methods}
    assert set(valid_requests()) == served, "tests/api/requests.py: one valid request per RPC"


FAMILIES = [kind for kind in GatewayError.__subclasses__() if kind is not GatewayError]


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.__name__)
def test_each_error_family_is_the_grpc_code_of_its_kind(
    gateway: InProcessGateway, family: type[GatewayError]
) -> None:
    gateway.use_cases.failure = family("Something went wrong.", reason="SOME_REASON")

    outcome = gateway.call("GetInvoice", valid("GetInvoice"))

    assert outcome.code is getattr(grpc.StatusCode, family.kind.value)
    assert outcome.detail(details.ErrorInfo).reason == "SOME_REASON"


def test_every_kind_of_error_has_its_family() -> None:
    assert {f.kind for f in FAMILIES} == set(ErrorKind)
