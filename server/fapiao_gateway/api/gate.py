"""The authentication gate: InvoiceService calls without a valid API key are refused as soon
as their headers arrive.

gRPC reads a unary request's message before it runs the handler, so a refusal made in the
handler comes only after the message: a client that sends headers and never the message
would keep the call (and its memory) open indefinitely. The gate answers such a call at
once, without reading anything: the refusal is a stream-unary handler, which gRPC runs
before any message arrives. With mutual TLS required, a call without a key is let through
(the TLS handshake has already checked its certificate; the handler maps it to a caller).

The gate is a generic handler wrapped around the service's, not a grpc.aio interceptor:
gRPC asks a generic handler for the method's handler synchronously, once per call, while an
interceptor costs every call a coroutine and a continuation (issue 12: the gateway's own
cost per call).
"""

from collections.abc import Callable, Iterable
from typing import Any, TypeAlias

import grpc
from grpc_status import rpc_status

from fapiao_gateway.api import calls
from fapiao_gateway.api.errors import to_rpc_status
from fapiao_gateway.auth.directory import CallerDirectory, unauthenticated
from fapiao_gateway.domain.errors import GatewayError

Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"


def header(metadata: Any, name: str) -> str | None:
    """The first value of a text header; None when absent or not valid text."""
    for key, value in metadata or ():
        if key == name:
            return value if isinstance(value, str) else None
    return None


def refusal(error: GatewayError) -> Handler:
    """A handler that ends the call with `error` without reading its request. The status is
    built once: an unauthenticated caller gets the same answer every time, and a flood of
    them should cost as little as possible."""
    status = rpc_status.to_status(to_rpc_status(error))

    async def refuse(_requests: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        facts = calls.current()
        if facts is not None:  # for the access line
            facts.reason = error.reason
        await context.abort(status.code, status.details, status.trailing_metadata)

    return grpc.stream_unary_rpc_method_handler(refuse)


class AuthenticationGate(grpc.GenericRpcHandler):  # type: ignore[type-arg]
    """`service`'s calls, those without a valid credential refused before they are read."""

    def __init__(
        self,
        service: "grpc.GenericRpcHandler[Any, Any]",
        methods: Iterable[str],
        directory: Callable[[], CallerDirectory],
        *,
        certificates_required: bool,
    ) -> None:
        self._service = service
        self._guarded = frozenset(methods)
        self._directory = directory
        self._certificates_required = certificates_required
        self._refused = refusal(unauthenticated())

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> "Handler | None":
        if handler_call_details.method in self._guarded:
            metadata = handler_call_details.invocation_metadata
            present = any(key == "authorization" for key, _ in metadata or ())
            if present or not self._certificates_required:
                try:
                    self._directory().check_key(header(metadata, "authorization"))
                except GatewayError as refused:
                    # A key's failure says nothing; an import ticket's says why (expired).
                    return (
                        self._refused
                        if refused.reason == "CREDENTIAL_INVALID"
                        else (refusal(refused))
                    )
        return self._service.service(handler_call_details)
