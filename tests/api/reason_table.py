"""Every reason docs/errors.md documents, with the gRPC codes it documents for it.

test_reason_table.py holds this table, the docs and the code to one another: a reason the
code can raise with no row here or in the docs fails, and so does a row with no reason in the
code. test_error_model.py drives a call through the gRPC face for every row and checks the
code. To add a reason: a row in docs/errors.md, a row here, and a case in
test_error_model.CASES that makes the gateway answer it.
"""

from dataclasses import dataclass

import grpc
from fapiao_gateway.wechat.errcodes import Effect

C = grpc.StatusCode


@dataclass(frozen=True)
class Documented:
    """A reason and the codes docs/errors.md gives it (none: a GetInvoices slot's reason,
    never a failed call's)."""

    reason: str
    codes: frozenset[grpc.StatusCode]


def _rows(*rows: tuple[str, *tuple[grpc.StatusCode, ...]]) -> dict[str, Documented]:
    table: dict[str, Documented] = {}
    for reason, *codes in rows:
        assert reason not in table, f"{reason} listed twice"
        table[reason] = Documented(reason, frozenset(codes))
    return table


REASONS = _rows(
    # the gateway's own callers
    ("CREDENTIAL_INVALID", C.UNAUTHENTICATED),
    ("PERMISSION_DENIED", C.PERMISSION_DENIED),
    # a browser's import ticket
    ("IMPORT_TICKET_INVALID", C.UNAUTHENTICATED),
    ("IMPORT_TICKET_EXPIRED", C.UNAUTHENTICATED),
    ("IMPORT_TICKET_OUT_OF_SCOPE", C.PERMISSION_DENIED),
    ("CALLER_QUOTA_EXCEEDED", C.RESOURCE_EXHAUSTED),
    ("ACCOUNT_QUOTA_EXCEEDED", C.RESOURCE_EXHAUSTED),
    # the request
    ("MALFORMED_REQUEST", C.INVALID_ARGUMENT),
    ("INVALID_REQUEST_FIELDS", C.INVALID_ARGUMENT),
    # WeChat refused a parameter
    ("WECHAT_INVALID_PARAMS", C.INVALID_ARGUMENT),
    ("INVALID_WX_INVOICE_TOKEN", C.INVALID_ARGUMENT),
    ("INVOICE_PDF_INVALID", C.INVALID_ARGUMENT),
    ("WECHAT_INVALID_OPENID", C.INVALID_ARGUMENT),
    # the invoice's state
    ("INVOICE_STATUS_CONFLICT", C.FAILED_PRECONDITION),
    ("INVOICE_NOT_LOCKED", C.FAILED_PRECONDITION),
    ("INVOICE_LOCKED_BY_OTHER_ACCOUNT", C.FAILED_PRECONDITION),
    ("INVOICE_OWNER_MISMATCH", C.FAILED_PRECONDITION),
    ("INVOICE_TITLE_MISMATCH", C.FAILED_PRECONDITION),
    ("INVOICE_ISSUE_REJECTED", C.FAILED_PRECONDITION),
    ("INVOICE_ORDER_NOT_AUTHORIZED", C.FAILED_PRECONDITION),
    ("INVOICE_NUMBER_DUPLICATE", C.FAILED_PRECONDITION),
    ("INVOICE_NUMBER_INVALID", C.FAILED_PRECONDITION),
    ("INVOICE_TITLE_QR_EXPIRED", C.FAILED_PRECONDITION),
    ("USER_API_UNAUTHORIZED", C.FAILED_PRECONDITION),
    ("INVOICE_NOT_IMPORTED", C.FAILED_PRECONDITION),
    ("INVOICE_NOT_LOCKABLE", C.FAILED_PRECONDITION),
    ("INVOICE_NOT_REIMBURSABLE", C.FAILED_PRECONDITION),
    ("INVOICE_ALREADY_IMPORTED", C.ALREADY_EXISTS),
    ("INVOICE_DUPLICATE", C.ALREADY_EXISTS),
    ("INVOICE_NOT_FOUND", C.NOT_FOUND),
    # WeChat busy or unreachable
    ("WECHAT_BUSY", C.UNAVAILABLE),
    ("INVOICE_BUSY", C.UNAVAILABLE),
    ("WECHAT_HTTP_ERROR", C.UNAVAILABLE, C.INTERNAL),
    ("WECHAT_UNREACHABLE", C.UNAVAILABLE),
    ("WECHAT_DAILY_QUOTA_EXCEEDED", C.RESOURCE_EXHAUSTED),
    ("WECHAT_RATE_LIMITED", C.RESOURCE_EXHAUSTED),
    # the gateway's own WeChat account
    ("WECHAT_ACCESS_TOKEN_REJECTED", C.FAILED_PRECONDITION),
    ("WECHAT_INVALID_APPID", C.FAILED_PRECONDITION),
    ("WECHAT_INVALID_SECRET", C.FAILED_PRECONDITION),
    ("WECHAT_INVALID_AGENT_ID", C.FAILED_PRECONDITION),
    ("WECHAT_IP_NOT_WHITELISTED", C.FAILED_PRECONDITION),
    ("WECHAT_HTTPS_REQUIRED", C.FAILED_PRECONDITION),
    ("WECHAT_API_UNAUTHORIZED", C.FAILED_PRECONDITION),
    ("WECHAT_API_BANNED", C.FAILED_PRECONDITION),
    ("WECHAT_ACCOUNT_RESTRICTED", C.FAILED_PRECONDITION),
    ("WECHAT_APP_DISABLED", C.FAILED_PRECONDITION),
    ("WECHAT_COMPONENT_UNAUTHORIZED", C.FAILED_PRECONDITION),
    ("WECHAT_REFRESH_TOKEN_INVALID", C.FAILED_PRECONDITION),
    ("WECHAT_INVOICE_PERMISSION_MISSING", C.FAILED_PRECONDITION),
    ("WECHAT_CARD_PERMISSION_MISSING", C.FAILED_PRECONDITION),
    ("WECHAT_PAY_MERCHANT_NOT_SET", C.FAILED_PRECONDITION),
    ("WECHAT_INVOICE_AUTH_FIELDS_NOT_SET", C.FAILED_PRECONDITION),
    ("WECHAT_INVALID_MCHID", C.FAILED_PRECONDITION),
    ("WECHAT_ACCOUNT_NOT_CONFIGURED", C.FAILED_PRECONDITION),
    # third-party platforms
    ("COMPONENT_VERIFY_TICKET_MISSING", C.FAILED_PRECONDITION),
    ("COMPONENT_VERIFY_TICKET_INVALID", C.FAILED_PRECONDITION),
    ("COMPONENT_NOT_AUTHORIZED", C.FAILED_PRECONDITION),
    ("COMPONENT_API_UNAUTHORIZED", C.FAILED_PRECONDITION),
    ("COMPONENT_INVALID", C.FAILED_PRECONDITION, C.INTERNAL),
    # deadlines and concurrent calls
    ("DEADLINE_EXHAUSTED", C.DEADLINE_EXCEEDED),
    ("DEFAULT_DEADLINE_EXCEEDED", C.DEADLINE_EXCEEDED),
    ("REQUEST_IN_PROGRESS", C.DEADLINE_EXCEEDED, C.ABORTED),
    ("INVOICE_CHANGE_IN_PROGRESS", C.ABORTED),
    ("OUTCOME_PENDING", C.UNAVAILABLE),
    ("LEDGER_UNAVAILABLE", C.UNAVAILABLE),
    # import sessions
    ("IMPORT_SESSION_EXPIRED", C.FAILED_PRECONDITION),
    ("IMPORT_PAGE_NOT_CONFIGURED", C.FAILED_PRECONDITION),
    ("IMPORT_SESSION_NOT_FOUND", C.NOT_FOUND),
    # the archive of invoice documents (GetInvoiceDocument)
    ("DOCUMENT_PENDING", C.NOT_FOUND),
    ("DOCUMENT_FETCH_FAILED", C.NOT_FOUND),
    ("DOCUMENT_NOT_ARCHIVED", C.NOT_FOUND),
    # the gateway's bugs, WeChat's surprises
    ("WECHAT_MALFORMED_REPLY", C.INTERNAL, C.UNAVAILABLE),
    ("WECHAT_INVALID_GRANT_TYPE", C.INTERNAL),
    ("WECHAT_ACCESS_TOKEN_MISSING", C.INTERNAL),
    ("WECHAT_WRONG_HTTP_METHOD", C.INTERNAL),
    ("WECHAT_MALFORMED_REQUEST", C.INTERNAL),
    ("WECHAT_INVALID_AUTH_CODE", C.INTERNAL),
    ("WECHAT_INVALID_TICKET", C.INTERNAL),
    ("WECHAT_UNRECOGNIZED_ERRCODE", C.UNKNOWN),
    ("INTERNAL_ERROR", C.INTERNAL),
    # GetInvoices' slots (LookupFailure), not a failed call
    ("INVOICE_NOT_RETURNED",),
)


#: What the error model says each kind of WeChat errcode becomes: its code and the details
#: after its ErrorInfo (QUOTA rows with a retry_after add a RetryInfo).
BY_EFFECT: dict[Effect, tuple[grpc.StatusCode, tuple[str, ...]]] = {
    Effect.BUSY: (C.UNAVAILABLE, ("RetryInfo",)),
    Effect.QUOTA: (C.RESOURCE_EXHAUSTED, ("QuotaFailure",)),
    Effect.ACCOUNT: (C.FAILED_PRECONDITION, ("PreconditionFailure",)),
    Effect.TOKEN: (C.FAILED_PRECONDITION, ("PreconditionFailure",)),
    Effect.INVOICE_STATE: (C.FAILED_PRECONDITION, ("PreconditionFailure",)),
    Effect.LOCKED_ELSEWHERE: (C.FAILED_PRECONDITION, ("PreconditionFailure", "ResourceInfo")),
    Effect.NOT_FOUND: (C.NOT_FOUND, ("ResourceInfo",)),
    Effect.BAD_ARGUMENT: (C.INVALID_ARGUMENT, ("BadRequest",)),
    Effect.INTERNAL: (C.INTERNAL, ()),
    Effect.UNRECOGNIZED: (C.UNKNOWN, ()),
}
