"""Recovery: the gateway settles intents left unsettled by a process that died, gave up or
lost its answers, at start and then periodically, and renews the leases of its own.

Every process runs it; intents are taken over one at a time with a compare-and-set on the
owner, so several replicas never settle one intent twice. An intent is picked up only once
its owner's lease has passed and a write it sent can no longer land late.
"""

import asyncio
import contextlib
import logging

from fapiao_gateway.domain.context import Deadline
from fapiao_gateway.domain.errors import GatewayError
from fapiao_gateway.domain.intents import IntentKind, IntentState
from fapiao_gateway.services.ports import Clock, IntentLog
from fapiao_gateway.services.reservations import IntentPolicy, Reservations
from fapiao_gateway.services.resolution import Resolver

log = logging.getLogger("fapiao_gateway.recovery")

#: Time to settle one intent (reads and releases at WeChat).
_RESOLVE_SECONDS = 20.0


class Recovery:
    """Settles due intents; renews this process's leases."""

    def __init__(
        self,
        log: IntentLog,
        resolver: Resolver,
        reservations: Reservations,
        policy: IntentPolicy,
        clock: Clock,
    ) -> None:
        self._log = log
        self._resolver = resolver
        self._reservations = reservations
        self._policy = policy
        self._now_us = clock

    async def run_once(self, *, limit: int = 100) -> int:
        """Settles the intents due now; returns how many it settled."""
        settled = 0
        due = await self._log.due(
            sent_before_us=self._now_us() - self._policy.settle_us, limit=limit
        )
        for intent in due:
            legacy = intent.kind is IntentKind.STATUS_CHANGE and intent.plan is None
            if legacy and intent.state is IntentState.ARMED:
                continue  # recorded before plans existed: its retry settles it
            taken = await self._log.take_over(
                intent.id, owner=self._policy.owner, lease_us=self._policy.lease_us
            )
            if taken is None:
                continue  # another process got there first, or it settled meanwhile
            try:
                await self._resolver.resolve(taken, Deadline.after(_RESOLVE_SECONDS))
            except GatewayError as error:
                log.warning(
                    "intent not settled yet intent=%d account=%s reason=%s",
                    taken.id,
                    taken.account,
                    error.reason,
                )
                continue
            settled += 1
        await self._log.purge_lapsed_claims()
        return settled

    async def heartbeat(self) -> None:
        """Keeps the intents of this process's calls under way owned while they work."""
        await self._log.renew(
            set(self._reservations.working),
            owner=self._policy.owner,
            lease_us=self._policy.lease_us,
        )

    async def run(self, interval: float) -> None:
        """Recovery now and every `interval` seconds, and the heartbeat, until cancelled."""
        beat = max(0.05, self._policy.lease_seconds / 3)
        next_recovery = 0.0
        loop = asyncio.get_running_loop()
        while True:
            with contextlib.suppress(GatewayError):
                await self.heartbeat()
            if loop.time() >= next_recovery:
                try:
                    await self.run_once()
                except GatewayError as error:
                    log.warning("recovery round skipped: %s", error.reason)
                next_recovery = loop.time() + interval
            await asyncio.sleep(min(beat, interval))

    async def hand_over(self) -> int:
        """At shutdown: gives up every intent this process still owns (their calls have
        ended), so recovery elsewhere or at the next start settles them without waiting
        for the lease. Returns how many."""
        own = await self._log.owned_by(self._policy.owner)
        for intent in own:
            await self._log.release(intent, owner=self._policy.owner, just_sent=True)
        return len(own)
