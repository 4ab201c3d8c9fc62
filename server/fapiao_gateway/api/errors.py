"""Turning failures into google.rpc.Status, so no call ever ends as UNKNOWN.

Every failure leaves with exactly one ErrorInfo (domain "fapiao-gateway"; metadata from the
error's typed facts: account, card_id/encrypt_code, wechat_errcode/wechat_errmsg/wechat_api,
plus its other metadata) and the detail that helps the caller act: BadRequest,
PreconditionFailure, ResourceInfo, QuotaFailure, RetryInfo. The status travels in a trailer
that default clients accept only up to 8 KiB, so long lists of violations are cut (the last
one says how many more there were) until it fits. Anything unexpected is logged with a
correlation id and leaves as INTERNAL with that id, never with a stack trace or a secret.
"""

import logging
import uuid
from collections.abc import Sequence
from typing import Any, NoReturn, TypeVar

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from fapiao_gateway.domain.errors import (
    ErrorKind,
    FieldViolation,
    GatewayError,
    Internal,
    PreconditionViolation,
    QuotaViolation,
)

log = logging.getLogger("fapiao_gateway.api")

#: ErrorInfo.domain of every error the gateway returns.
ERROR_DOMAIN = "fapiao-gateway"

_CODES: dict[ErrorKind, int] = {kind: code_pb2.Code.Value(kind.value) for kind in ErrorKind}

#: Largest serialized google.rpc.Status sent: base64 in the trailer makes it ~4/3 larger,
#: and the trailer shares default clients' 8 KiB metadata limit with grpc-message.
MAX_STATUS_BYTES = 4096
#: Longest message and metadata value sent.
MAX_MESSAGE_CHARS = 1024
MAX_METADATA_VALUE_CHARS = 512

V = TypeVar("V", FieldViolation, PreconditionViolation, QuotaViolation)


def _pack(message: Any) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def error_metadata(error: GatewayError) -> dict[str, str]:
    """ErrorInfo.metadata: the error's typed facts, then its other metadata."""
    facts: dict[str, str] = {}
    if error.account:
        facts["account"] = error.account
    if error.ref is not None:
        facts["card_id"] = error.ref.card_id
        facts["encrypt_code"] = error.ref.encrypt_code
    if error.wechat_errcode is not None:
        facts["wechat_errcode"] = str(error.wechat_errcode)
        facts["wechat_errmsg"] = error.wechat_errmsg
    if error.wechat_api:
        facts["wechat_api"] = error.wechat_api
    merged = {**error.metadata, **facts}
    return {k: _clip(v, MAX_METADATA_VALUE_CHARS) for k, v in merged.items()}


def _status(
    error: GatewayError,
    fields: Sequence[FieldViolation],
    preconditions: Sequence[PreconditionViolation],
    quotas: Sequence[QuotaViolation],
) -> status_pb2.Status:
    details: list[Any] = [
        error_details_pb2.ErrorInfo(
            reason=error.reason, domain=ERROR_DOMAIN, metadata=error_metadata(error)
        )
    ]
    if fields:
        details.append(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(
                        field=v.field, description=v.description
                    )
                    for v in fields
                ]
            )
        )
    if preconditions:
        details.append(
            error_details_pb2.PreconditionFailure(
                violations=[
                    error_details_pb2.PreconditionFailure.Violation(
                        type=v.type, subject=v.subject, description=v.description
                    )
                    for v in preconditions
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
    if quotas:
        details.append(
            error_details_pb2.QuotaFailure(
                violations=[
                    error_details_pb2.QuotaFailure.Violation(
                        subject=v.subject, description=v.description
                    )
                    for v in quotas
                ]
            )
        )
    if error.retry_after is not None:
        delay = duration_pb2.Duration()
        delay.FromNanoseconds(int(error.retry_after * 1e9))
        details.append(error_details_pb2.RetryInfo(retry_delay=delay))
    return status_pb2.Status(
        code=_CODES[error.kind],
        message=_clip(error.message, MAX_MESSAGE_CHARS),
        details=[_pack(d) for d in details],
    )


def _cut(violations: Sequence[V], keep: int, more: V) -> list[V]:
    kept = list(violations[:keep])
    if keep < len(violations):
        kept.append(more)
    return kept


def to_rpc_status(error: GatewayError) -> status_pb2.Status:
    """The google.rpc.Status for a domain error, no larger than MAX_STATUS_BYTES."""
    fields, preconditions, quotas = (
        error.field_violations,
        error.precondition_violations,
        error.quota_violations,
    )
    status = _status(error, fields, preconditions, quotas)
    keep = max(len(fields), len(preconditions), len(quotas))
    while status.ByteSize() > MAX_STATUS_BYTES and keep > 0:
        keep //= 2
        dropped = f"…and more, not listed to keep the error small (first {keep} shown)."
        status = _status(
            error,
            _cut(fields, keep, FieldViolation("…", dropped)),
            _cut(preconditions, keep, PreconditionViolation("…", "…", dropped)),
            _cut(quotas, keep, QuotaViolation("…", dropped)),
        )
    return status


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
