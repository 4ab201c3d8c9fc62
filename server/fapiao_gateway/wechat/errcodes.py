"""WeChat's errcodes, what each means for the gateway's caller, and which ones may be retried.

Where the rows come from:
- every code of seed 001 §9 (the invoice reimbursement API's own table: 72015-72044, 40078)
  and of ../shared/design/wechat-upstream.md (tokens, quota, whitelist, card codes);
- WeChat's global return codes as public SDKs tabulate them: wechatpy's
  `wechatpy/constants.py` WeChatErrorCode (commit 5b8502e, 2025-02), which mirrors WeChat's
  "Global Return Code" page: -1000, 40003, 40035, 41002, 41004, 41009, 43001-43003, 44002,
  47003, 48004, 50002, 61003, 61007. Codes of other API families (menus, media, messages)
  are left out: the gateway never calls those APIs.

An errcode no row knows is reported as WeChat's, not as the gateway's: UNKNOWN (gRPC's code
for "an error from another system whose error space is not known here"), reason
WECHAT_UNRECOGNIZED_ERRCODE, the errcode and errmsg in ErrorInfo, logged at WARNING so the
table can grow; never retried, because an unknown code may mean the call did something.
INTERNAL stays reserved for the gateway's own bugs (a request WeChat calls malformed: 40002,
41001, 43001, 43002, 44002, 47001).

Decisions the architecture page left open:
- The gateway's own WeChat account broken or lacking a permission (40001 after one refresh,
  40013, 40125, 40164, 61004, 48001, 72015, 40078, 72028-72030, ...) is FAILED_PRECONDITION
  with one PreconditionViolation of type WECHAT_ACCOUNT whose subject is
  "wechat-account:<appid>" and whose description says what to fix there, the same for every
  such code and every RPC: the system is not in a state the call needs, and retrying will not
  help until an operator fixes the account. Never UNAUTHENTICATED, which would blame the
  caller; not INTERNAL, which we keep for bugs.
- 40078 is an account problem (seed 001 §9): the account lacks the Cards & Offers (卡券)
  permission, or, in WeChat's sandbox, the user is not on the test list; not an invoice state.
- Codes of the issuer's side (72035 invoicing rejected, 72042 duplicate code and number,
  72043 malformed code or number, 72044 title QR code expired) reach a reimburser only when
  WeChat holds the invoice in that state: FAILED_PRECONDITION naming the invoice; the
  caller cannot fix them by changing its request, so never INVALID_ARGUMENT.
- 72037 (not this openid's invoice) is FAILED_PRECONDITION (type INVOICE_OWNER): the request
  names a user the invoice does not belong to. PERMISSION_DENIED stays reserved for what the
  gateway's own caller may do.
"""

import logging
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
    UnknownError,
    account_subject,
    invoice_resource,
    invoice_subject,
)
from fapiao_gateway.domain.invoice import InvoiceRef

log = logging.getLogger("fapiao_gateway.wechat")


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
    UNRECOGNIZED = "unrecognized"  # a code no row knows: UNKNOWN, WeChat's own failure


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
    #: For ACCOUNT rows: what an operator must fix on the account.
    remedy: str = ""


_ROWS = (
    Errcode(-1, "WECHAT_BUSY", "WeChat is busy; try again later", Effect.BUSY, Retry.READS, 1.0),
    Errcode(
        -1000, "WECHAT_BUSY", "WeChat system error; try again later", Effect.BUSY, Retry.READS, 1.0
    ),
    Errcode(
        40001,
        "WECHAT_ACCESS_TOKEN_REJECTED",
        "access token invalid or not the latest",
        Effect.TOKEN,
        remedy="check the account's secret, and that no other system fetches its tokens "
        "with /cgi-bin/token",
    ),
    Errcode(
        40014,
        "WECHAT_ACCESS_TOKEN_REJECTED",
        "access token invalid",
        Effect.TOKEN,
        remedy="check the account's appid and secret",
    ),
    Errcode(
        42001,
        "WECHAT_ACCESS_TOKEN_REJECTED",
        "access token expired",
        Effect.TOKEN,
        remedy="check the gateway's clock and the account's token store",
    ),
    Errcode(40002, "WECHAT_INVALID_GRANT_TYPE", "invalid grant_type", Effect.INTERNAL),
    Errcode(41001, "WECHAT_ACCESS_TOKEN_MISSING", "access token missing", Effect.INTERNAL),
    Errcode(47001, "WECHAT_MALFORMED_REQUEST", "request body is not valid JSON", Effect.INTERNAL),
    Errcode(44002, "WECHAT_MALFORMED_REQUEST", "the request body is empty", Effect.INTERNAL),
    Errcode(43001, "WECHAT_WRONG_HTTP_METHOD", "WeChat requires GET here", Effect.INTERNAL),
    Errcode(43002, "WECHAT_WRONG_HTTP_METHOD", "WeChat requires POST here", Effect.INTERNAL),
    Errcode(
        43003,
        "WECHAT_HTTPS_REQUIRED",
        "WeChat requires HTTPS",
        Effect.ACCOUNT,
        remedy="point the account's base_url at an https:// address",
    ),
    Errcode(
        40013,
        "WECHAT_INVALID_APPID",
        "the configured appid is invalid",
        Effect.ACCOUNT,
        remedy="correct the account's appid in the configuration",
    ),
    Errcode(
        41002,
        "WECHAT_INVALID_APPID",
        "the appid is missing",
        Effect.ACCOUNT,
        remedy="set the account's appid in the configuration",
    ),
    Errcode(
        40125,
        "WECHAT_INVALID_SECRET",
        "the configured app secret is invalid",
        Effect.ACCOUNT,
        remedy="set the account's current AppSecret in the configuration",
    ),
    Errcode(
        41004,
        "WECHAT_INVALID_SECRET",
        "the app secret is missing",
        Effect.ACCOUNT,
        remedy="set the account's AppSecret in the configuration",
    ),
    Errcode(
        40164,
        "WECHAT_IP_NOT_WHITELISTED",
        "the gateway's IP is not in the account's whitelist",
        Effect.ACCOUNT,
        remedy="add the gateway's egress IP to the account's IP whitelist",
    ),
    Errcode(
        61004,
        "WECHAT_IP_NOT_WHITELISTED",
        "the gateway's IP is not in the account's whitelist",
        Effect.ACCOUNT,
        remedy="add the gateway's egress IP to the account's IP whitelist",
    ),
    Errcode(
        61023,
        "WECHAT_REFRESH_TOKEN_INVALID",
        "third-party platform refresh_token invalid",
        Effect.ACCOUNT,
        remedy="authorize the third-party platform for the account again",
    ),
    Errcode(
        61003,
        "WECHAT_COMPONENT_UNAUTHORIZED",
        "the account has not authorized the third-party platform",
        Effect.ACCOUNT,
        remedy="authorize the third-party platform for the account",
    ),
    Errcode(
        61007,
        "WECHAT_COMPONENT_UNAUTHORIZED",
        "the account has not authorized this API to the third-party platform",
        Effect.ACCOUNT,
        remedy="authorize the invoice APIs to the third-party platform",
    ),
    Errcode(
        48001,
        "WECHAT_API_UNAUTHORIZED",
        "the account is not authorized for this API",
        Effect.ACCOUNT,
        remedy="obtain the permission for this API for the account (e.g. verify the account)",
    ),
    Errcode(
        48004,
        "WECHAT_API_BANNED",
        "the account's use of this API is banned",
        Effect.ACCOUNT,
        remedy="see the account's notices in the WeChat platform",
    ),
    Errcode(
        50002,
        "WECHAT_ACCOUNT_RESTRICTED",
        "the account is restricted (its APIs are blocked after a violation)",
        Effect.ACCOUNT,
        remedy="see the account's notices in the WeChat platform",
    ),
    Errcode(
        72015,
        "WECHAT_INVOICE_PERMISSION_MISSING",
        "the account has no permission for invoice operations",
        Effect.ACCOUNT,
        remedy="activate the e-invoice permission of the account",
    ),
    Errcode(
        40078,
        "WECHAT_CARD_PERMISSION_MISSING",
        "the account is not authorized for this card (invalid card status)",
        Effect.ACCOUNT,
        remedy="activate the Cards & Offers (卡券) permission of the account; in WeChat's "
        "sandbox, add the WeChat user to the account's test list",
    ),
    Errcode(
        72028,
        "WECHAT_PAY_MERCHANT_NOT_SET",
        "the WeChat Pay merchant information is not set",
        Effect.ACCOUNT,
        remedy="set the account's WeChat Pay merchant information",
    ),
    Errcode(
        72029,
        "WECHAT_INVOICE_AUTH_FIELDS_NOT_SET",
        "the invoice authorization fields are not set",
        Effect.ACCOUNT,
        remedy="set the account's invoice authorization fields",
    ),
    Errcode(
        72030,
        "WECHAT_INVALID_MCHID",
        "the WeChat Pay merchant id (mchid) is invalid",
        Effect.ACCOUNT,
        remedy="correct the WeChat Pay merchant id bound to the account",
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
    Errcode(
        72035,
        "INVOICE_ISSUE_REJECTED",
        "the issuer rejected invoicing for this order",
        Effect.INVOICE_STATE,
    ),
    Errcode(
        72042,
        "INVOICE_NUMBER_DUPLICATE",
        "another invoice has the same invoice code and number",
        Effect.INVOICE_STATE,
    ),
    Errcode(
        72043,
        "INVOICE_NUMBER_INVALID",
        "the invoice code or number has the wrong length",
        Effect.INVOICE_STATE,
    ),
    Errcode(
        72044,
        "INVOICE_TITLE_QR_EXPIRED",
        "the invoice title QR code timed out",
        Effect.INVOICE_STATE,
    ),
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
    Errcode(
        40035,
        "WECHAT_INVALID_PARAMS",
        "WeChat rejected a parameter of the request",
        Effect.BAD_ARGUMENT,
        field="invoice",
    ),
    Errcode(
        40097,
        "WECHAT_INVALID_PARAMS",
        "WeChat rejected the request's arguments",
        Effect.BAD_ARGUMENT,
        field="invoice",
    ),
    Errcode(
        47003,
        "WECHAT_INVALID_PARAMS",
        "WeChat rejected an argument of the request",
        Effect.BAD_ARGUMENT,
        field="invoice",
    ),
    Errcode(
        40003,
        "WECHAT_INVALID_OPENID",
        "the openid is not a user of this account",
        Effect.BAD_ARGUMENT,
        field="openid",
    ),
    Errcode(
        41009, "WECHAT_INVALID_OPENID", "the openid is missing", Effect.BAD_ARGUMENT, field="openid"
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


def unrecognized(errcode: int) -> Errcode:
    """The row of an errcode no table knows: WeChat's own failure (UNKNOWN), never retried."""
    return Errcode(
        errcode,
        "WECHAT_UNRECOGNIZED_ERRCODE",
        "WeChat answered with an errcode the gateway does not know",
        Effect.UNRECOGNIZED,
    )


def lookup(errcode: int) -> Errcode:
    """The row for `errcode` in the Official Account table (unrecognized() for others)."""
    return ERRCODES.get(errcode) or unrecognized(errcode)


class WeChatRefused(Exception):
    """WeChat answered a non-zero errcode (after the retries its row allows).

    Internal to the adapter: the boundary that knows which account and invoice the call was
    for turns it into the domain error (`to_error`), so nothing below it needs that context.
    """

    def __init__(self, errcode: int, errmsg: str, *, api: str) -> None:
        super().__init__(f"WeChat errcode {errcode} from {api}")
        self.errcode = errcode
        self.errmsg = errmsg
        #: The API that answered it (a token fetch can fail inside an invoice call).
        self.api = api
        self.maybe_applied = False
        #: Its row in the table of the platform that answered (errcode_tables), set by the
        #: upstream call; None means the Official Account table.
        self.row: Errcode | None = None


def to_error(
    errcode: int,
    errmsg: str,
    *,
    account: str,
    api: str = "",
    ref: InvoiceRef | None = None,
    row: Errcode | None = None,
) -> GatewayError:
    """The domain error for a WeChat errcode, with the facts and details the caller needs.
    `row` is the code's row in its platform's table (default: this module's)."""
    row = row or lookup(errcode)
    if row.effect is Effect.UNRECOGNIZED:
        log.warning(
            "WeChat errcode the table does not know errcode=%d errmsg=%r api=%s account=%s",
            errcode,
            errmsg[:200],
            api,
            account,
        )
    error = _error_for(row, account, ref)
    error.wechat_errcode = errcode
    error.wechat_errmsg = errmsg
    return error.about(account=account, ref=ref, wechat_api=api)


def _error_for(row: Errcode, account: str, ref: InvoiceRef | None) -> GatewayError:
    message = f"WeChat errcode {row.code}: {row.meaning}."
    subject = invoice_subject(ref) if ref else account_subject(account)
    match row.effect:
        case Effect.BUSY:
            return Unavailable(message, reason=row.reason, retry_after=row.retry_after)
        case Effect.QUOTA:
            return ResourceExhausted(
                message,
                reason=row.reason,
                quota_violations=[QuotaViolation(account_subject(account), row.meaning)],
                retry_after=row.retry_after,
            )
        case Effect.ACCOUNT | Effect.TOKEN:
            fix = row.remedy or "see the account's settings in the WeChat platform"
            return FailedPrecondition(
                f"{message} The WeChat account {account} needs an operator: {fix}.",
                reason=row.reason,
                precondition_violations=[
                    PreconditionViolation(
                        "WECHAT_ACCOUNT", account_subject(account), f"{row.meaning}: {fix}"
                    )
                ],
            )
        case Effect.INVOICE_STATE | Effect.LOCKED_ELSEWHERE:
            # 72023 also names the invoice as a resource: the caller may look up who holds it.
            resource = None
            if row.effect is Effect.LOCKED_ELSEWHERE and ref is not None:
                resource = invoice_resource(ref, description=row.meaning)
            return FailedPrecondition(
                message,
                reason=row.reason,
                precondition_violations=[PreconditionViolation(row.reason, subject, row.meaning)],
                resource=resource,
            )
        case Effect.NOT_FOUND:
            return NotFound(
                message,
                reason=row.reason,
                resource=invoice_resource(ref, description=row.meaning) if ref else None,
            )
        case Effect.BAD_ARGUMENT:
            return InvalidArgument(
                message,
                reason=row.reason,
                field_violations=[FieldViolation(row.field, row.meaning)],
            )
        case Effect.INTERNAL:
            return Internal(message, reason=row.reason)
        case Effect.UNRECOGNIZED:
            return UnknownError(
                f"WeChat answered errcode {row.code}, which the gateway does not know; its "
                "errmsg is in the error's metadata.",
                reason=row.reason,
            )
