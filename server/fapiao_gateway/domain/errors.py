"""The gateway's failures, as plain Python.

Each error says what kind of failure it is (the canonical classes of Google's AIP-193, which
the api layer turns into gRPC codes), a stable UPPER_SNAKE reason, a message for humans, the
facts it is about as typed attributes (account, invoice, WeChat errcode, ...) and the
structured details a caller needs to act. The api layer alone turns facts and details into
ErrorInfo metadata and google.rpc details; nothing here imports gRPC or protobuf.

The tree, by kind (reasons in docs/errors.md):

    GatewayError
    ├── InvalidArgument ........ bad fields (BadRequest), MALFORMED_REQUEST
    │   └── RequestIdReused .... one request_id, two different requests
    ├── NotFound ............... INVOICE_NOT_FOUND (ResourceInfo)
    ├── AlreadyExists
    │   ├── InvoiceHeldElsewhere  another report holds the invoice (ResourceInfo)
    │   └── InvoiceDuplicate ..... another card with the same tax identity is imported
    ├── FailedPrecondition ..... wrong invoice state, broken WeChat account, expired QR session
    ├── Aborted ................ a concurrent call got there first; retry (RetryInfo)
    │   ├── RequestInProgress .. the same request_id is still being worked on
    │   └── InvoiceBeingChanged  another request is changing the invoice at WeChat
    ├── PermissionDenied / Unauthenticated ... the gateway's own callers
    ├── ResourceExhausted ...... WeChat quota (QuotaFailure)
    ├── Unavailable ............ WeChat, the ledger or Redis unreachable (RetryInfo)
    │   ├── LedgerUnavailable
    │   └── OutcomePending ..... the gateway's recovery is settling what the request did
    ├── DeadlineExceeded
    ├── UnknownError ........... WeChat failed with an errcode no table knows
    └── Internal ............... the gateway's own bugs, with a correlation id
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum, IntEnum

from fapiao_gateway.domain.invoice import InvoiceRef


class ErrorKind(Enum):
    """Canonical failure classes (AIP-193); the api layer maps each to its gRPC code."""

    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    NOT_FOUND = "NOT_FOUND"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    FAILED_PRECONDITION = "FAILED_PRECONDITION"
    ABORTED = "ABORTED"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    RESOURCE_EXHAUSTED = "RESOURCE_EXHAUSTED"
    UNAVAILABLE = "UNAVAILABLE"
    DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"
    UNIMPLEMENTED = "UNIMPLEMENTED"
    UNKNOWN = "UNKNOWN"
    INTERNAL = "INTERNAL"


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One bad request field; `field` is a path such as "invoice.card_id" or "invoices[3]"."""

    field: str
    description: str


@dataclass(frozen=True, slots=True)
class PreconditionViolation:
    """A state the operation needed and did not find (type, subject, description)."""

    type: str
    subject: str
    description: str


@dataclass(frozen=True, slots=True)
class QuotaViolation:
    """A quota that ran out."""

    subject: str
    description: str


@dataclass(frozen=True, slots=True)
class Resource:
    """The resource an error is about (ResourceInfo on the wire)."""

    type: str
    name: str
    owner: str = ""
    description: str = ""


class WeChatCode(IntEnum):
    """The WeChat errcodes a use case branches on (GatewayError.wechat_errcode)."""

    #: The invoice's status does not allow the transition (e.g. it is not locked).
    STATUS_CONFLICT = 72024
    #: The invoice is locked by another WeChat account.
    LOCKED_BY_OTHER_ACCOUNT = 72023


def invoice_subject(ref: InvoiceRef) -> str:
    """How a precondition violation or resource names one invoice."""
    return f"{ref.card_id}/{ref.encrypt_code}"


def account_subject(appid: str) -> str:
    """How a precondition or quota violation names a WeChat account (the thing to fix)."""
    return f"wechat-account:{appid}"


def invoice_resource(ref: InvoiceRef, *, owner: str = "", description: str = "") -> Resource:
    """The ResourceInfo naming one invoice: type fapiao.v1.Invoice, name card_id/encrypt_code."""
    return Resource(
        type="fapiao.v1.Invoice", name=invoice_subject(ref), owner=owner, description=description
    )


class GatewayError(Exception):
    """A failure the gateway explains to its caller. Subclasses fix the kind.

    Facts (typed): `account` (appid), `ref`, `wechat_errcode`, `wechat_errmsg`, `wechat_api`;
    anything else worth a machine-readable key goes in `metadata`. Facts known only further
    out are added once, at the boundary that knows them (`about`).
    """

    kind: ErrorKind = ErrorKind.INTERNAL

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        metadata: Mapping[str, str] | None = None,
        account: str = "",
        ref: InvoiceRef | None = None,
        wechat_errcode: int | None = None,
        wechat_errmsg: str = "",
        wechat_api: str = "",
        field_violations: Iterable[FieldViolation] = (),
        precondition_violations: Iterable[PreconditionViolation] = (),
        quota_violations: Iterable[QuotaViolation] = (),
        resource: Resource | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.metadata: dict[str, str] = dict(metadata or {})
        self.account = account
        self.ref = ref
        self.wechat_errcode = wechat_errcode
        self.wechat_errmsg = wechat_errmsg
        self.wechat_api = wechat_api
        self.field_violations = tuple(field_violations)
        self.precondition_violations = tuple(precondition_violations)
        self.quota_violations = tuple(quota_violations)
        self.resource = resource
        self.retry_after = retry_after
        #: True when a write may have reached WeChat and been applied although it failed
        #: (a timeout after sending, a dropped reply, HTTP 5xx, errcode -1): its outcome is
        #: unknown, and only a read can tell.
        self.maybe_applied = False

    def about(
        self, *, account: str = "", ref: InvoiceRef | None = None, wechat_api: str = ""
    ) -> "GatewayError":
        """Adds the facts a boundary knows and the error did not; returns self."""
        self.account = self.account or account
        self.ref = self.ref or ref
        self.wechat_api = self.wechat_api or wechat_api
        return self

    def copy(self) -> "GatewayError":
        """A shallow copy, for a boundary that adds facts to an error it did not create (one
        failure can reach several callers, e.g. a shared token fetch)."""
        twin = type(self).__new__(type(self))
        twin.__dict__.update(self.__dict__)
        twin.metadata = dict(self.metadata)
        twin.args = self.args
        return twin

    def with_metadata(self, **extra: str) -> "GatewayError":
        """Adds machine-readable facts that have no typed attribute; returns self."""
        for key, value in extra.items():
            if value:
                self.metadata.setdefault(key, value)
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.reason}: {self.message})"


class InvalidArgument(GatewayError):
    kind = ErrorKind.INVALID_ARGUMENT


class NotFound(GatewayError):
    kind = ErrorKind.NOT_FOUND


class AlreadyExists(GatewayError):
    kind = ErrorKind.ALREADY_EXISTS


class FailedPrecondition(GatewayError):
    kind = ErrorKind.FAILED_PRECONDITION


class Aborted(GatewayError):
    kind = ErrorKind.ABORTED


class PermissionDenied(GatewayError):
    kind = ErrorKind.PERMISSION_DENIED


class Unauthenticated(GatewayError):
    kind = ErrorKind.UNAUTHENTICATED


class ResourceExhausted(GatewayError):
    kind = ErrorKind.RESOURCE_EXHAUSTED


class Unavailable(GatewayError):
    kind = ErrorKind.UNAVAILABLE


class DeadlineExceeded(GatewayError):
    kind = ErrorKind.DEADLINE_EXCEEDED


class Unimplemented(GatewayError):
    kind = ErrorKind.UNIMPLEMENTED


class UnknownError(GatewayError):
    """Another system (WeChat) failed in a way the gateway cannot classify (gRPC UNKNOWN)."""

    kind = ErrorKind.UNKNOWN


class Internal(GatewayError):
    kind = ErrorKind.INTERNAL


def invalid_fields(violations: Iterable[FieldViolation]) -> InvalidArgument:
    """The one error for a request with bad fields: every violation listed, not just the first."""
    found = tuple(violations)
    names = ", ".join(v.field for v in found)
    return InvalidArgument(
        f"The request has invalid fields: {names}.",
        reason="INVALID_REQUEST_FIELDS",
        field_violations=found,
    )


class RequestIdReused(InvalidArgument):
    """The request_id was used before for a different request (AIP-155)."""

    def __init__(self, request_id: str) -> None:
        super().__init__(
            "The request has invalid fields: request_id.",
            reason="INVALID_REQUEST_FIELDS",
            field_violations=[
                FieldViolation(
                    "request_id", "Already used for a different request; use a new request_id."
                )
            ],
        )
        self.request_id = request_id


class RequestInProgress(Aborted):
    """Another call with the same request_id is still being worked on."""

    def __init__(self, request_id: str, *, retry_after: float) -> None:
        super().__init__(
            "A call with the same request_id is still running; retry it later.",
            reason="REQUEST_IN_PROGRESS",
            metadata={"request_id": request_id},
            retry_after=retry_after,
        )
        self.request_id = request_id


class InvoiceBeingChanged(Aborted):
    """Another request of the gateway is changing the invoice at WeChat right now (it holds
    the invoice's claim), so this one must not touch it until that one is settled."""

    def __init__(self, ref: InvoiceRef, *, retry_after: float) -> None:
        super().__init__(
            "Another request is changing this invoice at WeChat; retry when it has finished.",
            reason="INVOICE_CHANGE_IN_PROGRESS",
            ref=ref,
            resource=invoice_resource(ref, description="being changed by another request"),
            retry_after=retry_after,
        )


class InvoiceHeldElsewhere(AlreadyExists):
    """The invoice is held by another report (bizCode) in a reimbursement process."""

    def __init__(self, ref: InvoiceRef, *, biz_code: str, status: str) -> None:
        super().__init__(
            f"The invoice is already imported under bizCode {biz_code!r} with status "
            f"{status}; one invoice is reimbursed once.",
            reason="INVOICE_ALREADY_IMPORTED",
            ref=ref,
            metadata={"biz_code": biz_code},
            resource=invoice_resource(
                ref,
                owner=f"bizCode:{biz_code}",
                description=f"imported under bizCode {biz_code} ({status})",
            ),
        )
        self.biz_code = biz_code
        self.status = status


class InvoiceDuplicate(AlreadyExists):
    """Another ledger row (another account, or another card of the same account) holds an
    invoice with the same tax identity (domain/tax_identity.py): the same fapiao reached the
    company twice. Its holder is named so the caller can find the report."""

    def __init__(
        self,
        ref: InvoiceRef,
        *,
        tax_identity: str,
        holder_account: str,
        holder_biz_code: str,
        holder_import_time: str,
    ) -> None:
        super().__init__(
            f"The invoice {tax_identity} is already imported under bizCode "
            f"{holder_biz_code!r} of account {holder_account} (at {holder_import_time}), "
            "through another WeChat card; one invoice is reimbursed once.",
            reason="INVOICE_DUPLICATE",
            ref=ref,
            metadata={
                "tax_identity": tax_identity,
                "biz_code": holder_biz_code,
                "holder_account": holder_account,
                "holder_import_time": holder_import_time,
            },
            resource=invoice_resource(
                ref,
                owner=f"bizCode:{holder_biz_code}",
                description=(
                    f"tax identity {tax_identity} imported under bizCode {holder_biz_code} "
                    f"of account {holder_account} at {holder_import_time}"
                ),
            ),
        )
        self.tax_identity = tax_identity
        self.holder_account = holder_account
        self.holder_biz_code = holder_biz_code


class OutcomePending(Unavailable):
    """The request reached WeChat, but its outcome is being settled by the gateway's recovery
    (this process lost its claim on it, e.g. during a ledger outage). Retrying with the same
    request_id answers with the outcome once it is settled."""

    def __init__(self, request_id: str) -> None:
        super().__init__(
            "The request's outcome is being settled by the gateway; retry with the same "
            "request_id to learn it.",
            reason="OUTCOME_PENDING",
            metadata={"request_id": request_id},
            retry_after=1.0,
        )


class LedgerUnavailable(Unavailable):
    """The ledger database could not be reached or did not answer in time."""

    def __init__(self, cause: str) -> None:
        super().__init__(
            f"The ledger database is not available ({cause}); retry shortly.",
            reason="LEDGER_UNAVAILABLE",
            retry_after=1.0,
        )
