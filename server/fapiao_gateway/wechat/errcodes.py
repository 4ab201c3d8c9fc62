"""WeChat's errcodes, what each means for the gateway's caller, and which ones may be retried.

Every code on the upstream page is here (docs: ../shared/design/wechat-upstream.md), plus the
credential and card codes WeChat returns around them. A code that is not in the table becomes
INTERNAL (WECHAT_UNEXPECTED_ERRCODE) and is never retried: the safe default, because an
unknown code may well mean the call did something.

Decisions the architecture page left open:
- The gateway's own WeChat credentials or permissions broken (40001 after one refresh,
  40013, 40125, 40164, 61004, 48001, 72015, ...) is FAILED_PRECONDITION with a
  PreconditionFailure naming the account: the system is not in a state the call needs, and
  retrying will not help until an operator fixes the account. Never UNAUTHENTICATED, which
  would blame the caller; not INTERNAL, which we keep for bugs.
- 72037 (not this openid's invoice) is FAILED_PRECONDITION (type INVOICE_OWNER): the request
  names a user the invoice does not belong to. PERMISSION_DENIED stays reserved for what the
  gateway's own caller may do.
"""

from dataclasses import dataclass
from enum import Enum

from fapiao_gateway.domain.errors import (
    FailedPrecondition,
    FieldViolation,
    GatewayError,
    Internal,
    InvalidArgument,
    NotFound,
    PreconditionViolation,
    QuotaViolation,
    ResourceExhausted,
    Unavailable,
    invoice_resource,
)
from fapiao_gateway.domain.invoice import InvoiceRef


class Retry(Enum):
    """When a failed call may be sent again."""

    NEVER = "never"
    #: Transient, but WeChat may have acted: reads only.
    READS = "reads"
    #: WeChat refused before acting (e.g. 72036 "invoice is busy"): safe for writes too.
    ALWAYS = "always"


class Effect(Enum):
    """What kind of failure a code is, deciding the gRPC code and the detail attached."""

    BUSY = "busy"  # UNAVAILABLE + RetryInfo
    QUOTA = "quota"  # RESOURCE_EXHAUSTED + QuotaFailure (+ RetryInfo when retry_after)
    ACCOUNT = "account"  # FAILED_PRECONDITION about the gateway's account
    INVOICE_STATE = "invoice_state"  # FAILED_PRECONDITION about the invoice
    LOCKED_ELSEWHERE = "locked_elsewhere"  # FAILED_PRECONDITION + ResourceInfo
    NOT_FOUND = "not_found"  # NOT_FOUND + ResourceInfo
    BAD_ARGUMENT = "bad_argument"  # INVALID_ARGUMENT + BadRequest
    TOKEN = "token"  # access token refused: refresh once, then ACCOUNT
    INTERNAL = "internal"  # the gateway sent something it should not have


@dataclass(frozen=True, slots=True)
class Errcode:
    """One row of the table."""

    code: int
    reason: str
    meaning: str
    effect: Effect
    retry: Retry = Retry.NEVER
    retry_after: float | None = None
    field: str = ""


_ROWS = (
    Errcode(-1, "WECHAT_BUSY", "WeChat is busy; try again later", Effect.BUSY, Retry.READS, 1.0),
    Errcode(
        40001,
        "WECHAT_ACCESS_TOKEN_REJECTED",
        "access token invalid or not the latest",
        Effect.TOKEN,
    ),
    Errcode(40014, "WECHAT_ACCESS_TOKEN_REJECTED", "access token invalid", Effect.TOKEN),
    Errcode(42001, "WECHAT_ACCESS_TOKEN_REJECTED", "access token expired", Effect.TOKEN),
    Errcode(40002, "WECHAT_INVALID_GRANT_TYPE", "invalid grant_type", Effect.INTERNAL),
    Errcode(41001, "WECHAT_ACCESS_TOKEN_MISSING", "access token missing", Effect.INTERNAL),
    Errcode(47001, "WECHAT_MALFORMED_REQUEST", "request body is not valid JSON", Effect.INTERNAL),
    Errcode(40013, "WECHAT_INVALID_APPID", "the configured appid is invalid", Effect.ACCOUNT),
    Errcode(40125, "WECHAT_INVALID_SECRET", "the configured app secret is invalid", Effect.ACCOUNT),
    Errcode(
        40164,
        "WECHAT_IP_NOT_WHITELISTED",
        "the gateway's IP is not in the account's whitelist",
        Effect.ACCOUNT,
    ),
    Errcode(
        61004,
        "WECHAT_IP_NOT_WHITELISTED",
        "the gateway's IP is not in the account's whitelist",
        Effect.ACCOUNT,
    ),
    Errcode(
        61023,
        "WECHAT_REFRESH_TOKEN_INVALID",
        "third-party platform refresh_token invalid",
        Effect.ACCOUNT,
    ),
    Errcode(
        48001,
        "WECHAT_API_UNAUTHORIZED",
        "the account is not authorized for this API",
        Effect.ACCOUNT,
    ),
    Errcode(
        72015,
        "WECHAT_INVOICE_PERMISSION_MISSING",
        "the account has no permission for invoice operations",
        Effect.ACCOUNT,
    ),
    Errcode(
        45009,
        "WECHAT_DAILY_QUOTA_EXCEEDED",
        "the account's daily API quota is used up",
        Effect.QUOTA,
    ),
    Errcode(
        45011,
        "WECHAT_RATE_LIMITED",
        "API called too often; retry next minute",
        Effect.QUOTA,
        retry_after=60.0,
    ),
    Errcode(
        50001,
        "USER_API_UNAUTHORIZED",
        "the user has not authorized this API",
        Effect.INVOICE_STATE,
    ),
    Errcode(72017, "INVOICE_TITLE_MISMATCH", "invoice title mismatch", Effect.INVOICE_STATE),
    Errcode(
        72023,
        "INVOICE_LOCKED_BY_OTHER_ACCOUNT",
        "the invoice is locked by another account",
        Effect.LOCKED_ELSEWHERE,
    ),
    Errcode(
        72024,
        "INVOICE_STATUS_CONFLICT",
        "the invoice's status does not allow this transition",
        Effect.INVOICE_STATE,
    ),
    Errcode(
        72039,
        "INVOICE_NOT_LOCKED",
        "the invoice must be locked before it is written off",
        Effect.INVOICE_STATE,
    ),
    Errcode(
        72037,
        "INVOICE_OWNER_MISMATCH",
        "the invoice does not belong to the given openid",
        Effect.INVOICE_STATE,
    ),
    Errcode(
        72038,
        "INVOICE_ORDER_NOT_AUTHORIZED",
        "the order was never authorized",
        Effect.INVOICE_STATE,
    ),
    Errcode(40078, "INVOICE_CARD_STATUS_INVALID", "invalid card status", Effect.INVOICE_STATE),
    Errcode(
        72036,
        "INVOICE_BUSY",
        "the invoice is being modified; try again later",
        Effect.BUSY,
        Retry.ALWAYS,
        1.0,
    ),
    Errcode(
        72025,
        "INVALID_WX_INVOICE_TOKEN",
        "invalid wx_invoice_token",
        Effect.BAD_ARGUMENT,
        field="wx_invoice_token",
    ),
    Errcode(
        72031,
        "WECHAT_INVALID_PARAMS",
        "WeChat rejected the request's parameters",
        Effect.BAD_ARGUMENT,
        field="invoice",
    ),
    Errcode(72040, "INVOICE_PDF_INVALID", "invalid invoice PDF", Effect.BAD_ARGUMENT, field="pdf"),
    # Card-family codes for an unknown card_id (40073) or encrypt_code (40056); inferred from
    # WeChat's card API, not confirmed by its invoice pages.
    Errcode(40073, "INVOICE_NOT_FOUND", "WeChat does not know this card_id", Effect.NOT_FOUND),
    Errcode(40056, "INVOICE_NOT_FOUND", "WeChat does not know this encrypt_code", Effect.NOT_FOUND),
)

#: The table, by errcode.
ERRCODES: dict[int, Errcode] = {row.code: row for row in _ROWS}

#: Errcodes that mean "this access token is refused": compare-and-expire it, fetch, retry once.
TOKEN_ERRCODES = frozenset(row.code for row in _ROWS if row.effect is Effect.TOKEN)


def lookup(errcode: int) -> Errcode:
    """The row for `errcode`; unknown codes get the safe default (INTERNAL, never retried)."""
    return ERRCODES.get(errcode) or Errcode(
        errcode,
        "WECHAT_UNEXPECTED_ERRCODE",
        "WeChat answered with an unexpected errcode",
        Effect.INTERNAL,
    )


class TokenRejected(FailedPrecondition):
    """WeChat refused the access token (40001/40014/42001). The client refreshes once."""

    def __init__(self, error: FailedPrecondition, token: str) -> None:
        super().__init__(
            error.message,
            reason=error.reason,
            metadata=error.metadata,
            precondition_violations=error.precondition_violations,
        )
        self.token = token


def to_error(
    errcode: int,
    errmsg: str,
    *,
    appid: str,
    ref: InvoiceRef | None = None,
    token: str = "",
) -> GatewayError:
    """The domain error for a WeChat errcode, with the metadata and details the caller needs."""
    row = lookup(errcode)
    metadata = {"wechat_errcode": str(errcode), "wechat_errmsg": errmsg, "account": appid}
    if ref is not None:
        metadata |= {"card_id": ref.card_id, "encrypt_code": ref.encrypt_code}
    message = f"WeChat errcode {errcode}: {row.meaning}."
    invoice_subject = f"{ref.card_id}/{ref.encrypt_code}" if ref else f"wechat-account:{appid}"
    account_subject = f"wechat-account:{appid}"
    match row.effect:
        case Effect.BUSY:
            return Unavailable(
                message, reason=row.reason, metadata=metadata, retry_after=row.retry_after
            )
        case Effect.QUOTA:
            return ResourceExhausted(
                message,
                reason=row.reason,
                metadata=metadata,
                quota_violations=[QuotaViolation(account_subject, row.meaning)],
                retry_after=row.retry_after,
            )
        case Effect.ACCOUNT | Effect.TOKEN:
            error = FailedPrecondition(
                message + " The gateway's WeChat account needs an operator's attention.",
                reason=row.reason,
                metadata=metadata,
                precondition_violations=[
                    PreconditionViolation("WECHAT_ACCOUNT", account_subject, row.meaning)
                ],
            )
            return TokenRejected(error, token) if row.effect is Effect.TOKEN else error
        case Effect.INVOICE_STATE | Effect.LOCKED_ELSEWHERE:
            # 72023 also names the invoice as a resource: the caller may look up who holds it.
            resource = None
            if row.effect is Effect.LOCKED_ELSEWHERE and ref is not None:
                resource = invoice_resource(ref, description=row.meaning)
            return FailedPrecondition(
                message,
                reason=row.reason,
                metadata=metadata,
                precondition_violations=[
                    PreconditionViolation(row.reason, invoice_subject, row.meaning)
                ],
                resource=resource,
            )
        case Effect.NOT_FOUND:
            return NotFound(
                message,
                reason=row.reason,
                metadata=metadata,
                resource=invoice_resource(ref, description=row.meaning) if ref else None,
            )
        case Effect.BAD_ARGUMENT:
            return InvalidArgument(
                message,
                reason=row.reason,
                metadata=metadata,
                field_violations=[FieldViolation(row.field, row.meaning)],
            )
        case Effect.INTERNAL:
            return Internal(message, reason=row.reason, metadata=metadata)
