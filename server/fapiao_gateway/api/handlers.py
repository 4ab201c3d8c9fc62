"""How a call reaches the servicer: authenticate, decode, build the context, map failures.

InvoiceService is registered through this generic handler rather than the generated
add_..._to_server, so that the gateway, not gRPC, decodes requests: a body that is not a
valid message is INVALID_ARGUMENT with an ErrorInfo (gRPC's own deserializer would answer
INTERNAL). Authentication comes first, so an anonymous caller learns nothing from how its
request would have been judged: the gate (api/gate.py) refuses a call without a valid key
before its request is read, and the handler maps the key, or the client certificate, to the
caller. Health and reflection are registered apart and stay open.
What the handler learns about the call (caller, account, request_id, the failure's reason)
goes into the call's facts for the access line and the metrics (api/calls.py); its deadline
comes from the deadline interceptor (api/deadlines.py); an admission step (api/quotas.py)
may refuse a call over its rate limits once it is authenticated and decoded.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, NoReturn, Protocol

import grpc
from fapiao.v1 import invoice_service_pb2
from google.protobuf.message import DecodeError, Message
from google.protobuf.message_factory import GetMessageClass

from fapiao_gateway.api import calls
from fapiao_gateway.api.deadlines import call_deadline
from fapiao_gateway.api.errors import abort_with, unexpected
from fapiao_gateway.api.gate import AuthenticationGate, header
from fapiao_gateway.api.servicer import InvoiceServicer
from fapiao_gateway.api.ticket_scope import confine
from fapiao_gateway.auth.directory import CallerDirectory
from fapiao_gateway.domain.callers import Caller
from fapiao_gateway.domain.context import RequestContext
from fapiao_gateway.domain.errors import GatewayError, InvalidArgument

SERVICE = invoice_service_pb2.DESCRIPTOR.services_by_name["InvoiceService"]
Context = grpc.aio.ServicerContext[Any, Any]
Method = Callable[[Any, RequestContext], Awaitable[Message]]
StreamMethod = Callable[[Any, RequestContext], AsyncIterator[Message]]
#: Longest request_id (or account name) the call's facts keep for the logs.
_MAX_FACT_CHARS = 128


class Admission(Protocol):
    """Lets a decoded call in, or refuses it (GatewayError); returns the configured name of
    the account it names, "" for none (api/quotas.py)."""

    async def admit(self, rpc: str, caller: Caller, account_name: str) -> str: ...


def _authorization(context: Context) -> str | None:
    return header(context.invocation_metadata(), "authorization")


def _tls_common_name(context: Context) -> str | None:
    names = list(context.auth_context().get("x509_common_name") or [])
    return names[0].decode(errors="replace") if names else None


def _no_certificate(_context: Context) -> None:
    """Without client certificates there is no name to read (auth_context costs a call
    ~25 us)."""


class _Call:
    """One call's way in and out: who it is from, its decoded request, its failures."""

    def __init__(
        self,
        rpc: str,
        request_type: type[Message],
        directory: Callable[[], CallerDirectory],
        context: Context,
        certificate_name: Callable[[Context], str | None],
    ) -> None:
        self.rpc, self.request_type, self.context = rpc, request_type, context
        self._directory = directory
        self._certificate_name = certificate_name
        self.facts = calls.current()

    def open(self, raw: bytes) -> tuple[Message, RequestContext]:
        """Authenticates the caller and decodes the request (GatewayError otherwise)."""
        context = self.context
        who = self._directory().authenticate(
            _authorization(context), self._certificate_name(context)
        )
        if self.facts is not None:
            self.facts.caller = who.name
        try:
            request = self.request_type.FromString(raw)
        except (DecodeError, UnicodeDecodeError):
            raise InvalidArgument(
                f"The request is not a valid {self.request_type.DESCRIPTOR.full_name} message.",
                reason="MALFORMED_REQUEST",
            ) from None
        confine(self.rpc, request, who)
        request_id = getattr(request, "request_id", "")
        if request_id and self.facts is not None:
            self.facts.request_id = request_id[:_MAX_FACT_CHARS]
        return request, RequestContext(caller=who, deadline=call_deadline(context))

    async def admit(
        self, admission: Admission | None, request: Message, ctx: RequestContext
    ) -> None:
        """Lets the call in past its rate limits (and names its account for the logs)."""
        account_name = str(getattr(request, "account", ""))[:_MAX_FACT_CHARS]
        if admission is None:
            return
        label = await admission.admit(self.rpc, ctx.caller, account_name)
        if self.facts is not None:
            self.facts.account = label

    async def fail(self, failure: Exception) -> NoReturn:
        """Ends the call with `failure` as a rich status (unexpected ones as INTERNAL)."""
        error = failure if isinstance(failure, GatewayError) else unexpected(failure)
        facts = self.facts
        if facts is not None:
            facts.reason = error.reason
            facts.correlation_id = error.metadata.get("correlation_id", "")
            if error.wechat_errcode is not None:
                facts.wechat_errcode = str(error.wechat_errcode)
        await abort_with(self.context, error)


def _unary(
    rpc: str, method: Method, opener: Callable[[str, Context], _Call], admission: Admission | None
) -> Callable[[bytes, Context], Awaitable[Message]]:
    async def handle(raw: bytes, context: Context) -> Message:
        call = opener(rpc, context)
        try:
            request, ctx = call.open(raw)
            await call.admit(admission, request, ctx)
            return await method(request, ctx)
        except Exception as failure:
            await call.fail(failure)

    return handle


def _server_streaming(
    rpc: str,
    method: StreamMethod,
    opener: Callable[[str, Context], _Call],
    admission: Admission | None,
) -> Callable[[bytes, Context], AsyncIterator[Message]]:
    """A server-streaming RPC: the servicer's method is an async generator of messages; a
    failure before or between them ends the stream with its rich status."""

    async def handle(raw: bytes, context: Context) -> AsyncIterator[Message]:
        call = opener(rpc, context)
        try:
            request, ctx = call.open(raw)
            await call.admit(admission, request, ctx)
            async for message in method(request, ctx):
                yield message
        except Exception as failure:
            await call.fail(failure)

    return handle


def _serialize(message: Message) -> bytes:
    return message.SerializeToString()


def invoice_service_handler(
    servicer: InvoiceServicer,
    directory: Callable[[], CallerDirectory],
    admission: Admission | None = None,
    *,
    certificates_required: bool = False,
) -> "grpc.GenericRpcHandler[Any, Any]":
    """The generic handler serving every InvoiceService RPC through `servicer` behind the
    authentication gate: unary ones, and server-streaming ones (whose servicer method is an
    async generator). `admission` decides whether a decoded call may go on (rate limits);
    `certificates_required`: the server requires client certificates (mutual TLS), so a
    caller may be named by its certificate instead of a key."""
    name_of = _tls_common_name if certificates_required else _no_certificate
    request_types = {m.name: GetMessageClass(m.input_type) for m in SERVICE.methods}

    def opener(rpc: str, context: Context) -> _Call:
        return _Call(rpc, request_types[rpc], directory, context, name_of)

    handlers: dict[str, Any] = {}
    for method in SERVICE.methods:
        implementation = getattr(servicer, method.name)
        if method.client_streaming:
            raise TypeError(f"{method.name}: client-streaming RPCs are not served")
        if method.server_streaming:
            handlers[method.name] = grpc.unary_stream_rpc_method_handler(
                _server_streaming(method.name, implementation, opener, admission),
                request_deserializer=None,
                response_serializer=_serialize,
            )
        else:
            handlers[method.name] = grpc.unary_unary_rpc_method_handler(
                _unary(method.name, implementation, opener, admission),
                request_deserializer=None,
                response_serializer=_serialize,
            )
    return AuthenticationGate(
        grpc.method_handlers_generic_handler(SERVICE.full_name, handlers),
        [f"/{SERVICE.full_name}/{method.name}" for method in SERVICE.methods],
        directory,
        certificates_required=certificates_required,
    )
