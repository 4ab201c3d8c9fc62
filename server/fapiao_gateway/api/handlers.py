"""How a call reaches the servicer: authenticate, decode, build the context, map failures.

InvoiceService is registered through this generic handler rather than the generated
add_..._to_server, so that the gateway, not gRPC, decodes requests: a body that is not a
valid message is INVALID_ARGUMENT with an ErrorInfo (gRPC's own deserializer would answer
INTERNAL). Authentication comes first, so an anonymous caller learns nothing from how its
request would have been judged. Health and reflection are registered apart and stay open.
"""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from fapiao.v1 import invoice_service_pb2
from google.protobuf.message import DecodeError, Message

from fapiao_gateway.api.errors import abort_with, unexpected
from fapiao_gateway.api.servicer import InvoiceServicer
from fapiao_gateway.auth.directory import CallerDirectory
from fapiao_gateway.domain.context import Deadline, RequestContext
from fapiao_gateway.domain.errors import GatewayError, InvalidArgument

log = logging.getLogger("fapiao_gateway.api")

SERVICE = invoice_service_pb2.DESCRIPTOR.services_by_name["InvoiceService"]
Context = grpc.aio.ServicerContext[Any, Any]
Method = Callable[[Any, RequestContext], Awaitable[Message]]


def _authorization(context: Context) -> str | None:
    for key, value in context.invocation_metadata() or ():
        if key == "authorization":
            return value if isinstance(value, str) else None
    return None


def _tls_common_name(context: Context) -> str | None:
    names = list(context.auth_context().get("x509_common_name") or [])
    return names[0].decode(errors="replace") if names else None


def _entry(
    rpc: str, request_type: type[Message], method: Method, directory: Callable[[], CallerDirectory]
) -> Callable[[bytes, Context], Awaitable[Message]]:
    async def handle(raw: bytes, context: Context) -> Message:
        caller = "-"
        try:
            who = directory().authenticate(_authorization(context), _tls_common_name(context))
            caller = who.name
            try:
                request = request_type.FromString(raw)
            except (DecodeError, UnicodeDecodeError):
                raise InvalidArgument(
                    f"The request is not a valid {request_type.DESCRIPTOR.full_name} message.",
                    reason="MALFORMED_REQUEST",
                ) from None
            ctx = RequestContext(caller=who, deadline=Deadline.after(context.time_remaining()))
            return await method(request, ctx)
        except GatewayError as error:
            log.info(
                "rpc=%s caller=%s code=%s reason=%s metadata=%s",
                rpc,
                caller,
                error.kind.value,
                error.reason,
                error.metadata,
            )
            await abort_with(context, error)
        except Exception as exc:
            await abort_with(context, unexpected(exc))
        raise AssertionError("unreachable")

    return handle


def invoice_service_handler(
    servicer: InvoiceServicer, directory: Callable[[], CallerDirectory]
) -> "grpc.GenericRpcHandler[Any, Any]":
    """The generic handler serving every InvoiceService RPC through `servicer`."""
    handlers = {}
    for method in SERVICE.methods:
        request_type = getattr(invoice_service_pb2, method.input_type.name)
        handlers[method.name] = grpc.unary_unary_rpc_method_handler(
            _entry(method.name, request_type, getattr(servicer, method.name), directory),
            request_deserializer=None,
            response_serializer=lambda message: message.SerializeToString(),
        )
    return grpc.method_handlers_generic_handler(SERVICE.full_name, handlers)
