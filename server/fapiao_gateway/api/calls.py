"""What is known about the call being served, shared by the wrappers and the handler.

The outermost wrapper of the gateway's handlers (api/call_recorder.py) opens a CallFacts for
each call; the deadline wrapper sets its deadline; the handler adds what only it learns (the
caller, the account, the request's request_id, the failure's reason); the recorder reports
the whole on the way out (the access line, the metrics). gRPC serves each call in a task of
its own, so a context variable holds the call's facts without any locking.

`wrapped` is how a wrapper puts its own code around a handler's behaviour, whatever the
handler's kind (unary or streaming, either way); `WrappedHandlers` applies wrappers to every
handler the server has. Wrappers, not grpc.aio interceptors: gRPC asks a generic handler for
each call's handler synchronously, and the wrapped handler is made once per method and
cached, where an interceptor costs every call a coroutine and new handler objects
(issue 12: the gateway's own cost per call).
"""

import contextvars
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import grpc

from fapiao_gateway.domain.context import Deadline

Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"
Context: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"
#: A behaviour whose reply is one message, and one whose reply is a stream.
Unary = Callable[[Any, Context], Awaitable[Any]]
Streaming = Callable[[Any, Context], AsyncIterator[Any]]


@dataclass(slots=True)
class CallFacts:
    """One call, as the access line and the metrics describe it."""

    service: str
    rpc: str
    started: float
    request_id: str = ""
    deadline: Deadline = field(default_factory=Deadline)
    caller: str = ""
    account: str = ""
    reason: str = ""
    correlation_id: str = ""
    wechat_errcode: str = ""
    code: grpc.StatusCode = grpc.StatusCode.OK
    seconds: float = 0.0


_current: contextvars.ContextVar[CallFacts | None] = contextvars.ContextVar(
    "fapiao_call", default=None
)


def current() -> CallFacts | None:
    """The facts of the call this task serves (None outside a recorded call)."""
    return _current.get()


def begin(facts: CallFacts) -> None:
    """Makes `facts` the current call's (the task serves this call only)."""
    _current.set(facts)


def wrapped(
    handler: Handler,
    unary: Callable[[Unary], Unary],
    streaming: Callable[[Streaming], Streaming],
) -> Handler:
    """`handler` with its behaviour passed through `unary` (for a one-message reply) or
    `streaming` (for a streamed reply); its (de)serializers kept."""

    def reply_stream(behaviour: Any) -> Any:
        # A streamed reply is an async generator, or a coroutine that calls context.write
        # (grpc_health's Watch): that one is wrapped like a unary behaviour.
        if inspect.iscoroutinefunction(behaviour):
            return unary(behaviour)
        return streaming(behaviour)

    options = {
        "request_deserializer": handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    # grpc-stubs types the behaviours as the sync API's; the aio server's are coroutines.
    behaviours: Any = handler
    if handler.request_streaming and handler.response_streaming:
        return grpc.stream_stream_rpc_method_handler(
            reply_stream(behaviours.stream_stream), **options
        )
    if handler.request_streaming:
        return grpc.stream_unary_rpc_method_handler(unary(behaviours.stream_unary), **options)
    if handler.response_streaming:
        return grpc.unary_stream_rpc_method_handler(
            reply_stream(behaviours.unary_stream), **options
        )
    return grpc.unary_unary_rpc_method_handler(unary(behaviours.unary_unary), **options)


#: A wrapper: the handler that serves `method` instead of `handler`.
Wrapper = Callable[[str, Handler], Handler]


class WrappedHandlers(grpc.GenericRpcHandler):  # type: ignore[type-arg]
    """The handlers of `inner` (the first that has one for a method), each passed through
    `wrappers` (the first outermost) once per method and handler, and cached."""

    def __init__(
        self, inner: "Sequence[grpc.GenericRpcHandler[Any, Any]]", wrappers: Sequence[Wrapper]
    ) -> None:
        self._inner = tuple(inner)
        self._wrappers = tuple(reversed(wrappers))
        self._made: dict[tuple[str, int], tuple[Handler, Handler]] = {}

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> "Handler | None":
        for generic in self._inner:
            handler = generic.service(handler_call_details)
            if handler is not None:
                break
        else:
            return None
        method = handler_call_details.method
        made = self._made.get((method, id(handler)))
        if made is None or made[0] is not handler:
            serving = handler
            for wrap in self._wrappers:
                serving = wrap(method, serving)
            made = (handler, serving)
            if len(self._made) < _MAX_MADE:  # methods x handlers: a few dozen in practice
                self._made[(method, id(handler))] = made
        return made[1]


_MAX_MADE = 1024
