"""Announcements across replicas: every announcement goes out through a shared medium
(PostgreSQL NOTIFY, Redis PUBLISH), and one listener per process hands what it hears to the
process's LocalHub, its own announcements included.

The listener reconnects by itself when the medium drops it (with a capped backoff), and after
reconnecting rings every local watcher: whatever was announced while it was deaf is then read
from the ledger, which is the truth; an announcement is only a wake-up.
"""

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable

from fapiao_gateway.notify.local import Doorbell, LocalHub

log = logging.getLogger("fapiao_gateway.notify")

#: Longest pause between two attempts to reach the medium again.
_MAX_BACKOFF_SECONDS = 10.0

Deliver = Callable[[str], None]


def encode(account: str, biz_code: str) -> str:
    return json.dumps([account, biz_code], separators=(",", ":"))


def decode(payload: str | bytes) -> tuple[str, str] | None:
    try:
        account, biz_code = json.loads(payload)
    except (ValueError, TypeError):
        return None
    if not isinstance(account, str) or not isinstance(biz_code, str):
        return None
    return account, biz_code


class Medium:
    """A shared channel: send a payload to every replica; hear them until the link drops."""

    name: str

    async def send(self, payload: str) -> None: ...

    async def hear(self, deliver: Deliver, ready: Callable[[], None]) -> None:
        """Delivers every payload heard; calls `ready` once listening; returns or raises when
        the link is lost."""


class Relay:
    """services.ports.ImportSignals over a Medium, delivering to a LocalHub."""

    def __init__(self, medium: Medium, hub: LocalHub | None = None) -> None:
        self._medium = medium
        self._hub = hub or LocalHub()
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    async def announce(self, account: str, biz_code: str) -> None:
        try:
            await self._medium.send(encode(account, biz_code))
        except Exception:  # a watcher still sees it at its next wake-up or at the end
            log.warning("import announcement over %s failed", self._medium.name, exc_info=True)
            self._hub.deliver(account, biz_code)

    @contextlib.asynccontextmanager
    async def listen(self, account: str, biz_code: str) -> AsyncIterator[Doorbell]:
        async with self._hub.listen(account, biz_code) as bell:
            yield bell

    def _deliver(self, payload: str) -> None:
        topic = decode(payload)
        if topic is not None:
            self._hub.deliver(*topic)

    def _ready(self) -> None:
        self._listening.set()
        self._hub.deliver_all()

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            try:
                await self._medium.hear(self._deliver, self._ready)
            except asyncio.CancelledError:
                raise
            except Exception as lost:
                log.warning("import announcements over %s lost: %s", self._medium.name, lost)
            else:
                backoff = 0.1
            self._listening.clear()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, _MAX_BACKOFF_SECONDS)

    async def start(self, wait_seconds: float = 5.0) -> None:
        """Starts listening; waits (at most `wait_seconds`) until the listener is subscribed,
        so announcements made after start reach this process."""
        self._task = asyncio.create_task(self._run(), name=f"fapiao-notify-{self._medium.name}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait(), wait_seconds)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
