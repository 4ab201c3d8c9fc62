"""The wrapper that records every call: it opens the call's facts (api/calls.py), binds
its request id to every log line written while it runs, times it, finds the status it ended
with, and hands the whole to its listeners (the access line, the metrics) once it is over.

The status comes from how the behaviour ended: normally (OK), by context.abort (the code it
was given: every refusal of the gateway ends this way), cancelled (the caller went away, or
its deadline passed), or by an exception gRPC turns into UNKNOWN. Health checks, reflection
and unauthenticated refusals are recorded like the rest; unknown methods are gRPC's own
UNIMPLEMENTED, not recorded.
"""

import asyncio
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import grpc
import structlog

from fapiao_gateway.api.calls import (
    CallFacts,
    Context,
    Handler,
    Streaming,
    Unary,
    begin,
    wrapped,
)
from fapiao_gateway.api.gate import header

log = logging.getLogger("fapiao_gateway.api")

Listener = Callable[[CallFacts], None]
#: The header a caller (or its proxy) may send to name the call in the gateway's logs.
REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def request_id_from(metadata: Any) -> str:
    """The caller's x-request-id if it is a plain id (else a new one): log lines quote it."""
    given = header(metadata, REQUEST_ID_HEADER)
    if given is not None and _REQUEST_ID.fullmatch(given):
        return given
    return secrets.token_hex(8)


def status_of(failure: BaseException, context: Context) -> grpc.StatusCode:
    """The status a behaviour that raised `failure` ends the call with."""
    if isinstance(failure, grpc.aio.AbortError):
        return context.code() or grpc.StatusCode.UNKNOWN
    if isinstance(failure, asyncio.CancelledError):
        left = context.time_remaining()
        late = left is not None and left <= 0
        return grpc.StatusCode.DEADLINE_EXCEEDED if late else grpc.StatusCode.CANCELLED
    return grpc.StatusCode.UNKNOWN


class CallRecorder:
    """Records each call and tells `listeners` how it went (`wrap` is its api.calls.Wrapper)."""

    def __init__(self, listeners: Sequence[Listener]) -> None:
        self._listeners = tuple(listeners)

    def wrap(self, method: str, handler: Handler) -> Handler:
        service, _, rpc = method.lstrip("/").partition("/")

        def opened(context: Context) -> CallFacts:
            metadata = context.invocation_metadata()
            facts = CallFacts(service, rpc, time.perf_counter(), request_id_from(metadata))
            begin(facts)
            structlog.contextvars.bind_contextvars(rpc=rpc, request_id=facts.request_id)
            return facts

        def unary(behaviour: Unary) -> Unary:
            async def recorded(request: Any, context: Context) -> Any:
                facts = opened(context)
                try:
                    return await behaviour(request, context)
                except BaseException as failure:
                    facts.code = status_of(failure, context)
                    raise
                finally:
                    self._report(facts)

            return recorded

        def streaming(behaviour: Streaming) -> Streaming:
            async def recorded(request: Any, context: Context) -> AsyncIterator[Any]:
                facts = opened(context)
                try:
                    async for message in behaviour(request, context):
                        yield message
                except BaseException as failure:
                    facts.code = status_of(failure, context)
                    raise
                finally:
                    self._report(facts)

            return recorded

        return wrapped(handler, unary, streaming)

    def _report(self, facts: CallFacts) -> None:
        facts.seconds = time.perf_counter() - facts.started
        for listener in self._listeners:
            try:
                listener(facts)
            except Exception:  # a report must never change how the call ends
                log.exception("recording the call %s failed", facts.rpc)
