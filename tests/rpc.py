"""Helpers for asserting on gRPC failures as a caller decodes them (grpcio-status)."""

from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import grpc
from fapiao_gateway.sandbox import seed

if TYPE_CHECKING:
    # mypy-protobuf types an aio channel's stub as InvoiceServiceAsyncStub (stubs only).
    from fapiao.v1.invoice_service_pb2_grpc import InvoiceServiceAsyncStub as Stub
else:
    from fapiao.v1.invoice_service_pb2_grpc import InvoiceServiceStub as Stub

__all__ = ["Failure", "Stub", "decode", "failure_of", "seeded"]
from fapiao_gateway.sandbox.emulator import SandboxInvoice
from google.rpc import error_details_pb2
from grpc_status import rpc_status

_DETAIL_TYPES: dict[str, type[Any]] = {
    t.DESCRIPTOR.full_name: t
    for t in (
        error_details_pb2.ErrorInfo,
        error_details_pb2.BadRequest,
        error_details_pb2.PreconditionFailure,
        error_details_pb2.ResourceInfo,
        error_details_pb2.QuotaFailure,
        error_details_pb2.RetryInfo,
    )
}


@dataclass
class Failure:
    """A failed call: its code, message and every decoded google.rpc detail, by type name."""

    code: grpc.StatusCode
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    detail_types: list[str] = field(default_factory=list)

    @property
    def info(self) -> error_details_pb2.ErrorInfo:
        return self.details["ErrorInfo"]


def decode(error: grpc.aio.AioRpcError) -> Failure:
    """Decodes the rich status a caller receives; asserts there is exactly one ErrorInfo."""
    # AioRpcError offers what from_call reads (code, details, trailing_metadata).
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None, f"no google.rpc.Status in {error.code()}: {error.details()}"
    assert status.code == error.code().value[0]
    failure = Failure(code=error.code(), message=status.message)
    for packed in status.details:
        name = packed.type_url.rsplit("/", 1)[-1]
        message = _DETAIL_TYPES[name]()
        assert packed.Unpack(message)
        short = name.rsplit(".", 1)[-1]
        failure.detail_types.append(short)
        failure.details[short] = message
    assert failure.detail_types.count("ErrorInfo") == 1, failure.detail_types
    assert failure.info.domain == "fapiao-gateway"
    return failure


async def failure_of(call: Awaitable[Any]) -> Failure:
    """Awaits a call that must fail and decodes its status."""
    try:
        await call
    except grpc.aio.AioRpcError as error:
        return decode(error)
    raise AssertionError("the call succeeded")


def seeded(card_id: str, encrypt_code: str | None = None) -> SandboxInvoice:
    """A seeded invoice by card_id (and encrypt_code when card_ids repeat)."""
    for invoice in seed.invoices():
        if invoice.card_id == card_id and encrypt_code in (None, invoice.encrypt_code):
            return invoice
    raise KeyError(card_id)
