"""Typed exceptions from the gateway's rich errors, in the spirit of google-api-core's.

Every failed call carries a google.rpc.Status (the `grpc-status-details-bin` trailer) with
one ErrorInfo and the details that help the caller act (see the contract and
docs/errors.md). `from_rpc_error` turns a grpc error into the exception class of its status
code (`InvalidArgument`, `FailedPrecondition`, `Unavailable`, ...), whose attributes hold
what the details said: the reason, the WeChat errcode, the retry delay, the violated fields
and preconditions, the resource and who holds it, the quota. The channel factory
(fapiao_client.channel) raises these from every call; `from_rpc_error` is for code that
makes its own channels.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

import grpc
from google.protobuf import message as _message
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

#: ErrorInfo.domain of the errors the gateway itself raises.
GATEWAY_DOMAIN = "fapiao-gateway"

#: The detail types this module decodes, by their full protobuf name.
DETAIL_TYPES: dict[str, type[_message.Message]] = {
    t.DESCRIPTOR.full_name: t
    for t in (
        error_details_pb2.ErrorInfo,
        error_details_pb2.BadRequest,
        error_details_pb2.PreconditionFailure,
        error_details_pb2.RetryInfo,
        error_details_pb2.ResourceInfo,
        error_details_pb2.QuotaFailure,
        error_details_pb2.DebugInfo,
        error_details_pb2.RequestInfo,
        error_details_pb2.Help,
        error_details_pb2.LocalizedMessage,
    )
}


@dataclass(frozen=True)
class FieldViolation:
    """A request field that is wrong (BadRequest), e.g. `invoice.card_id`."""

    field: str
    description: str


@dataclass(frozen=True)
class PreconditionViolation:
    """A state the call needed and did not find (PreconditionFailure)."""

    type: str
    subject: str
    description: str


@dataclass(frozen=True)
class QuotaViolation:
    """A quota the call ran into (QuotaFailure)."""

    subject: str
    description: str


class GatewayError(Exception):
    """A failed call: its status code, message and decoded details.

    Subclasses stand for the status codes; catch the one you can act on, or this one.
    """

    #: The gRPC status code this class stands for (None: any code without a class).
    grpc_status_code: ClassVar[grpc.StatusCode | None] = None

    def __init__(
        self,
        message: str,
        *,
        code: grpc.StatusCode | None = None,
        details: list[_message.Message] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        #: The call's status code (the class's own, unless it is GatewayError itself).
        self.code = code or self.grpc_status_code or grpc.StatusCode.UNKNOWN
        #: Every decoded detail, in the order the gateway sent them.
        self.details: list[_message.Message] = list(details or [])

    def __str__(self) -> str:
        reason = f" {self.reason}" if self.reason else ""
        return f"{self.code.name}{reason}: {self.message}"

    def _detail(self, kind: type[Any]) -> Any:
        return next((d for d in self.details if isinstance(d, kind)), None)

    @property
    def error_info(self) -> error_details_pb2.ErrorInfo | None:
        """The ErrorInfo; every error the gateway raises has exactly one."""
        info: error_details_pb2.ErrorInfo | None = self._detail(error_details_pb2.ErrorInfo)
        return info

    @property
    def reason(self) -> str:
        """ErrorInfo.reason, e.g. INVALID_REQUEST_FIELDS; empty without an ErrorInfo."""
        return self.error_info.reason if self.error_info else ""

    @property
    def domain(self) -> str:
        """ErrorInfo.domain: "fapiao-gateway" for the gateway's own errors."""
        return self.error_info.domain if self.error_info else ""

    @property
    def metadata(self) -> dict[str, str]:
        """ErrorInfo.metadata: account, card_id, wechat_errcode, correlation_id, ... as known."""
        return dict(self.error_info.metadata) if self.error_info else {}

    @property
    def wechat_errcode(self) -> int | None:
        """The WeChat errcode behind the error, when WeChat answered with one."""
        value = self.metadata.get("wechat_errcode")
        return int(value) if value is not None else None

    @property
    def retry_delay(self) -> timedelta | None:
        """How long to wait before trying again (RetryInfo); None: do not retry as is."""
        info = self._detail(error_details_pb2.RetryInfo)
        if info is None:
            return None
        delay: timedelta = info.retry_delay.ToTimedelta()
        return delay

    @property
    def field_violations(self) -> list[FieldViolation]:
        """The request fields that are wrong (BadRequest)."""
        found = self._detail(error_details_pb2.BadRequest)
        return (
            [FieldViolation(v.field, v.description) for v in found.field_violations]
            if found
            else []
        )

    @property
    def precondition_violations(self) -> list[PreconditionViolation]:
        """The states the call needed and did not find (PreconditionFailure)."""
        found = self._detail(error_details_pb2.PreconditionFailure)
        if found is None:
            return []
        return [PreconditionViolation(v.type, v.subject, v.description) for v in found.violations]

    @property
    def quota_violations(self) -> list[QuotaViolation]:
        """The quotas the call ran into (QuotaFailure)."""
        found = self._detail(error_details_pb2.QuotaFailure)
        return [QuotaViolation(v.subject, v.description) for v in found.violations] if found else []

    @property
    def resource(self) -> error_details_pb2.ResourceInfo | None:
        """The resource the error is about (ResourceInfo), e.g. the invoice."""
        info: error_details_pb2.ResourceInfo | None = self._detail(error_details_pb2.ResourceInfo)
        return info

    @property
    def holder(self) -> str | None:
        """Who holds the resource, when known: e.g. "bizCode:EXP-1001" for an invoice
        another expense report has locked (ResourceInfo.owner)."""
        return (self.resource.owner or None) if self.resource else None


class Cancelled(GatewayError):
    grpc_status_code = grpc.StatusCode.CANCELLED


class Unknown(GatewayError):
    grpc_status_code = grpc.StatusCode.UNKNOWN


class InvalidArgument(GatewayError):
    """The request is wrong; `field_violations` says where. Do not retry it unchanged."""

    grpc_status_code = grpc.StatusCode.INVALID_ARGUMENT


class DeadlineExceeded(GatewayError):
    """The deadline ran out (or REQUEST_IN_PROGRESS: the same request_id is still running)."""

    grpc_status_code = grpc.StatusCode.DEADLINE_EXCEEDED


class NotFound(GatewayError):
    """WeChat does not know the invoice; `resource` names it."""

    grpc_status_code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(GatewayError):
    """Another business document holds the invoice; `holder` says which."""

    grpc_status_code = grpc.StatusCode.ALREADY_EXISTS


class PermissionDenied(GatewayError):
    """This caller may not use that account or operation."""

    grpc_status_code = grpc.StatusCode.PERMISSION_DENIED


class ResourceExhausted(GatewayError):
    """A WeChat quota ran out (`quota_violations`; `retry_delay` when it refills soon)."""

    grpc_status_code = grpc.StatusCode.RESOURCE_EXHAUSTED


class FailedPrecondition(GatewayError):
    """The invoice or account is not in the state the call needs (`precondition_violations`;
    `resource` for an invoice locked by another account)."""

    grpc_status_code = grpc.StatusCode.FAILED_PRECONDITION


class Aborted(GatewayError):
    grpc_status_code = grpc.StatusCode.ABORTED


class OutOfRange(GatewayError):
    grpc_status_code = grpc.StatusCode.OUT_OF_RANGE


class Unimplemented(GatewayError):
    """The gateway does not offer this RPC (yet)."""

    grpc_status_code = grpc.StatusCode.UNIMPLEMENTED


class Internal(GatewayError):
    """A bug or an unexpected WeChat reply; quote `metadata["correlation_id"]`."""

    grpc_status_code = grpc.StatusCode.INTERNAL


class Unavailable(GatewayError):
    """WeChat, the ledger or the gateway is unavailable for now; retry after `retry_delay`
    (writes with the same request_id)."""

    grpc_status_code = grpc.StatusCode.UNAVAILABLE


class DataLoss(GatewayError):
    grpc_status_code = grpc.StatusCode.DATA_LOSS


class Unauthenticated(GatewayError):
    """No, or no valid, API key or client certificate."""

    grpc_status_code = grpc.StatusCode.UNAUTHENTICATED


#: The exception class of each status code.
EXCEPTION_CLASSES: dict[grpc.StatusCode, type[GatewayError]] = {
    cls.grpc_status_code: cls
    for cls in GatewayError.__subclasses__()
    if cls.grpc_status_code is not None
}


def decode_details(status: status_pb2.Status) -> list[_message.Message]:
    """The details of a google.rpc.Status this module knows, decoded; others are skipped."""
    decoded = []
    for packed in status.details:
        kind = DETAIL_TYPES.get(packed.TypeName())
        if kind is not None:
            detail = kind()
            packed.Unpack(detail)
            decoded.append(detail)
    return decoded


def from_rpc_error(error: grpc.RpcError) -> GatewayError:
    """The typed exception for a failed call (a grpc.RpcError or grpc.aio.AioRpcError)."""
    call: Any = error  # both carry code(), details() and trailing_metadata()
    code: grpc.StatusCode = call.code()
    status = rpc_status.from_call(call)
    details = decode_details(status) if status is not None else []
    message = status.message if status is not None else (call.details() or "")
    cls = EXCEPTION_CLASSES.get(code, GatewayError)
    return cls(message, code=code, details=details)
