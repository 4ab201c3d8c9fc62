"""Announcements within one process: the embedded default, and where the cross-replica relays
(postgres.py, redis.py) deliver what they hear."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

Topic = tuple[str, str]  # (account, bizCode)


class Doorbell:
    """One watcher's wake-up (services.ports.ImportWakeup)."""

    def __init__(self) -> None:
        self._rung = asyncio.Event()

    def ring(self) -> None:
        self._rung.set()

    async def wait(self) -> None:
        await self._rung.wait()
        self._rung.clear()


class LocalHub:
    """The watchers of this process by (account, bizCode); ringing is synchronous and cheap."""

    def __init__(self) -> None:
        self._watchers: dict[Topic, set[Doorbell]] = {}

    def deliver(self, account: str, biz_code: str) -> None:
        for bell in tuple(self._watchers.get((account, biz_code), ())):
            bell.ring()

    def deliver_all(self) -> None:
        """Rings every watcher (after a relay was deaf for a while)."""
        for bells in tuple(self._watchers.values()):
            for bell in tuple(bells):
                bell.ring()

    async def announce(self, account: str, biz_code: str) -> None:
        self.deliver(account, biz_code)

    @contextlib.asynccontextmanager
    async def listen(self, account: str, biz_code: str) -> AsyncIterator[Doorbell]:
        bell = Doorbell()
        topic = (account, biz_code)
        self._watchers.setdefault(topic, set()).add(bell)
        try:
            yield bell
        finally:
            bells = self._watchers.get(topic)
            if bells is not None:
                bells.discard(bell)
                if not bells:
                    del self._watchers[topic]

    @property
    def watched(self) -> int:
        """How many bizCodes have a watcher in this process."""
        return len(self._watchers)
