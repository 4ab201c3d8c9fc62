"""The gateway's failures, as plain Python.

Each error says what kind of failure it is (the canonical error classes of Google's AIP-193,
which the api layer turns into gRPC codes), a stable UPPER_SNAKE reason, a message for
humans, metadata (WeChat's errcode and errmsg, the account, the invoice) and the structured
details a caller needs to act. Nothing here imports gRPC or protobuf.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum

from fapiao_gateway.domain.invoice import InvoiceRef


class ErrorKind(Enum):
    """Canonical failure classes (AIP-193); the api layer maps each to its gRPC code."""

    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    NOT_FOUND = "NOT_FOUND"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    FAILED_PRECONDITION = "FAILED_PRECONDITION"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    RESOURCE_EXHAUSTED = "RESOURCE_EXHAUSTED"
    UNAVAILABLE = "UNAVAILABLE"
    DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"
    UNIMPLEMENTED = "UNIMPLEMENTED"
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


def invoice_resource(ref: InvoiceRef, *, owner: str = "", description: str = "") -> Resource:
    """The ResourceInfo naming one invoice: type fapiao.v1.Invoice, name card_id/encrypt_code."""
    return Resource(
        type="fapiao.v1.Invoice",
        name=f"{ref.card_id}/{ref.encrypt_code}",
        owner=owner,
        description=description,
    )


class GatewayError(Exception):
    """A failure the gateway explains to its caller. Subclasses fix the kind."""

    kind: ErrorKind = ErrorKind.INTERNAL

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        metadata: Mapping[str, str] | None = None,
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
        self.field_violations = tuple(field_violations)
        self.precondition_violations = tuple(precondition_violations)
        self.quota_violations = tuple(quota_violations)
        self.resource = resource
        self.retry_after = retry_after
        #: True when a write may have reached WeChat and been applied although it failed
        #: (a timeout after sending, a dropped reply, HTTP 5xx, errcode -1): its outcome is
        #: unknown, and only a read can tell.
        self.maybe_applied = False

    def with_metadata(self, **extra: str) -> "GatewayError":
        """Adds metadata (e.g. the account or invoice) known only further out; returns self."""
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
