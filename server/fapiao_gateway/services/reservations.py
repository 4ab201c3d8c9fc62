"""One AIP-155 model for every mutating use case, on top of the intent log.

A request is reserved before anything else: a request done before replays its first outcome
without touching WeChat; a duplicate of a request still running waits for it (then replays);
the same request_id with another body is INVALID_ARGUMENT; a request whose earlier attempt
died or lost its answer is settled first (by reading WeChat, see services/resolution.py) and
then replayed or run again. Without a request_id a request is still recorded (for recovery),
just not replayable.
"""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from fapiao_gateway.domain.commands import Command, fingerprint
from fapiao_gateway.domain.context import RequestContext
from fapiao_gateway.domain.errors import DeadlineExceeded, RequestInProgress
from fapiao_gateway.domain.intents import Begun, Intent, IntentKind, Plan, Reservation
from fapiao_gateway.services.ports import Clock, IntentLog, ReplayObserver
from fapiao_gateway.services.resolution import Resolver


@dataclass(frozen=True, slots=True)
class IntentPolicy:
    """How this process owns intents."""

    #: This process's identity as an intent owner (unique per process start).
    owner: str
    #: How long an owner is presumed alive without renewing (its heartbeat renews at 1/3).
    lease_seconds: float = 15.0
    #: How long a write whose answer was lost may still land at WeChat: nothing is concluded
    #: from a read, and no claim is let go, until this long after it was sent.
    settle_seconds: float = 15.0
    #: How long a duplicate request waits for the first when the caller set no deadline.
    max_wait_seconds: float = 30.0
    poll_seconds: float = 0.05

    @property
    def lease_us(self) -> int:
        return int(self.lease_seconds * 1_000_000)

    @property
    def settle_us(self) -> int:
        return int(self.settle_seconds * 1_000_000)


class Reservations:
    """Reserves requests for the use cases (see the module docstring), and knows which
    intents this process is working on right now (the only ones its heartbeat renews: an
    intent whose call has ended lapses to recovery even if settling it failed)."""

    def __init__(
        self,
        log: IntentLog,
        resolver: Resolver,
        policy: IntentPolicy,
        clock: Clock,
        replays: ReplayObserver | None = None,
    ) -> None:
        self._log = log
        self._replays = replays
        self._resolver = resolver
        self._policy = policy
        self._now_us = clock
        self.working: set[int] = set()

    @contextlib.asynccontextmanager
    async def reserved(
        self,
        ctx: RequestContext,
        kind: IntentKind,
        command: Command,
        *,
        plan_hint: Plan | None = None,
    ) -> AsyncIterator[Begun]:
        """`reserve`, with the intent counted as worked on until the block ends."""
        begun = await self.reserve(ctx, kind, command, plan_hint=plan_hint)
        if begun.intent is None:
            yield begun
            return
        self.working.add(begun.intent.id)
        try:
            yield begun
        finally:
            self.working.discard(begun.intent.id)

    async def reserve(
        self,
        ctx: RequestContext,
        kind: IntentKind,
        command: Command,
        *,
        plan_hint: Plan | None = None,
    ) -> Begun:
        """NEW (the caller goes ahead with `intent`) or REPLAY (answer with `outcome`).

        `plan_hint` is what the command would do, for an earlier attempt recorded without a
        plan (intents written before plans existed).
        """
        waited_since = time.monotonic()
        while True:
            begun = await self._log.begin(
                kind=kind,
                rpc=command.rpc,
                account=command.appid,
                request_id=command.request_id,
                caller=ctx.caller.name,
                fingerprint=fingerprint(command),
                owner=self._policy.owner,
                lease_us=self._policy.lease_us,
            )
            match begun.state:
                case Reservation.NEW:
                    return begun
                case Reservation.REPLAY:
                    if self._replays is not None:
                        self._replays.replayed(command.rpc)
                    return begun
                case Reservation.RESOLVE:
                    assert begun.intent is not None
                    await self._settle_earlier(ctx, begun.intent, plan_hint)
                case Reservation.BUSY:
                    await self._wait(ctx, command.request_id, begun.retry_after, waited_since)

    async def _settle_earlier(
        self, ctx: RequestContext, intent: Intent, plan_hint: Plan | None
    ) -> None:
        """Settles an earlier attempt of this request before anything else, waiting (within
        the deadline) until a write it sent can no longer land late."""
        ready_at = intent.sent_us + self._policy.settle_us
        wait = max(0.0, (ready_at - self._now_us()) / 1e6)
        left = ctx.deadline.remaining()
        if wait > 0 and left is not None and left <= wait:
            await self._log.release(intent, owner=self._policy.owner)
            raise RequestInProgress(intent.request_id, retry_after=wait)
        if wait > 0:
            await asyncio.sleep(wait)
        await self._resolver.resolve(intent, ctx.deadline, plan_hint=plan_hint)

    async def _wait(
        self, ctx: RequestContext, request_id: str, retry_after: float, since: float
    ) -> None:
        poll = self._policy.poll_seconds
        left = ctx.deadline.remaining()
        if left is not None and left <= poll:
            raise DeadlineExceeded(
                "A call with the same request_id is still running; retry it later.",
                reason="REQUEST_IN_PROGRESS",
                metadata={"request_id": request_id},
            )
        if left is None and time.monotonic() - since >= self._policy.max_wait_seconds:
            raise RequestInProgress(request_id, retry_after=retry_after)
        await asyncio.sleep(poll)
