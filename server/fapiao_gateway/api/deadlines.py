"""The wrapper that gives every call its deadline, in one place.

A call's Deadline (domain/context.py) bounds every upstream attempt, retry and wait its use
case makes. It is the caller's (gRPC's grpc-timeout), or, for a unary call whose caller set
none, the configured `default_deadline_seconds` when there is one: then the gateway also ends
the call at that time, DEADLINE_EXCEEDED (reason DEFAULT_DEADLINE_EXCEEDED), as gRPC ends
a call at its caller's deadline. Streamed replies (a watch) have no default: they are meant
to last.
"""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from fapiao_gateway.api.calls import Context, Handler, Streaming, Unary, current, wrapped
from fapiao_gateway.api.errors import abort_with
from fapiao_gateway.domain.context import Deadline
from fapiao_gateway.domain.errors import DeadlineExceeded


def call_deadline(context: Context) -> Deadline:
    """The deadline of the call being served: the one this wrapper set, else the caller's."""
    facts = current()
    if facts is not None and facts.deadline.at is not None:
        return facts.deadline
    return Deadline.after(context.time_remaining())


class DeadlinePolicy:
    """Sets each call's deadline (see the module docstring; `wrap` is its api.calls.Wrapper)."""

    def __init__(self, default_seconds: float) -> None:
        self._default = default_seconds if default_seconds > 0 else None

    def wrap(self, _method: str, handler: Handler) -> Handler:
        # Streamed replies (a watch) are meant to last: no default for them.
        default = None if handler.response_streaming else self._default

        def unary(behaviour: Unary) -> Unary:
            async def bounded(request: Any, context: Context) -> Any:
                left = context.time_remaining()
                if left is not None or default is None:
                    _note(Deadline.after(left))
                    return await behaviour(request, context)
                _note(Deadline.after(default))
                try:
                    async with asyncio.timeout(default):
                        return await behaviour(request, context)
                except TimeoutError:
                    await abort_with(context, _past_default(default))

            return bounded

        def streaming(behaviour: Streaming) -> Streaming:
            async def bounded(request: Any, context: Context) -> AsyncIterator[Any]:
                _note(Deadline.after(context.time_remaining()))
                async for message in behaviour(request, context):
                    yield message

            return bounded

        return wrapped(handler, unary, streaming)


def _note(deadline: Deadline) -> None:
    facts = current()
    if facts is not None:
        facts.deadline = deadline


def _past_default(seconds: float) -> DeadlineExceeded:
    return DeadlineExceeded(
        f"The call ran longer than the gateway's default deadline of {seconds:g} s (its "
        "caller set none); set a deadline to allow longer.",
        reason="DEFAULT_DEADLINE_EXCEEDED",
    )
