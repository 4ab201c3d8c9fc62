"""Turning failures into google.rpc.Status, so no call ever ends as UNKNOWN.

Every failure leaves with exactly one ErrorInfo (domain "fapiao-gateway") plus the detail
that helps the caller act: BadRequest, PreconditionFailure, ResourceInfo, QuotaFailure,
RetryInfo. Anything unexpected is logged with a correlation id and leaves as INTERNAL with
that id, never with a stack trace or a secret.
"""

import logging
import uuid
from typing import Any, NoReturn

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from fapiao_gateway.domain.errors import ErrorKind, GatewayError, Internal

log = logging.getLogger("fapiao_gateway.api")

#: ErrorInfo.domain of every error the gateway returns.
ERROR_DOMAIN = "fapiao-gateway"

_CODES: dict[ErrorKind, int] = {kind: code_pb2.Code.Value(kind.value) for kind in ErrorKind}


def _pack(message: Any) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def to_rpc_status(error: GatewayError) -> status_pb2.Status:
    """The google.rpc.Status for a domain error."""
    details = [
        error_details_pb2.ErrorInfo(
            reason=error.reason, domain=ERROR_DOMAIN, metadata=error.metadata
        )
    ]
    if error.field_violations:
        details.append(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(
                        field=v.field, description=v.description
                    )
                    for v in error.field_violations
                ]
            )
        )
    if error.precondition_violations:
        details.append(
            error_details_pb2.PreconditionFailure(
                violations=[
                    error_details_pb2.PreconditionFailure.Violation(
                        type=v.type, subject=v.subject, description=v.description
                    )
                    for v in error.precondition_violations
                ]
            )
        )
    if error.resource is not None:
        details.append(
            error_details_pb2.ResourceInfo(
                resource_type=error.resource.type,
                resource_name=error.resource.name,
                owner=error.resource.owner,
                description=error.resource.description,
            )
        )
    if error.quota_violations:
        details.append(
            error_details_pb2.QuotaFailure(
                violations=[
                    error_details_pb2.QuotaFailure.Violation(
                        subject=v.subject, description=v.description
                    )
                    for v in error.quota_violations
                ]
            )
        )
    if error.retry_after is not None:
        delay = duration_pb2.Duration()
        delay.FromNanoseconds(int(error.retry_after * 1e9))
        details.append(error_details_pb2.RetryInfo(retry_delay=delay))
    return status_pb2.Status(
        code=_CODES[error.kind], message=error.message, details=[_pack(d) for d in details]
    )


async def abort_with(context: grpc.aio.ServicerContext[Any, Any], error: GatewayError) -> NoReturn:
    """Ends the call with `error` as a rich status (grpc-status-details-bin trailer)."""
    status = rpc_status.to_status(to_rpc_status(error))
    await context.abort(status.code, status.details, status.trailing_metadata)
    raise AssertionError("context.abort returned")


def unexpected(exc: BaseException) -> Internal:
    """Logs an unexpected exception under a new correlation id; the error the caller sees."""
    correlation_id = uuid.uuid4().hex
    log.error("unexpected error correlation_id=%s", correlation_id, exc_info=exc)
    return Internal(
        f"The gateway failed unexpectedly; quote correlation id {correlation_id}.",
        reason="INTERNAL_ERROR",
        metadata={"correlation_id": correlation_id},
    )
