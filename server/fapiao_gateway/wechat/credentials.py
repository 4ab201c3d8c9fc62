"""Caching of short-lived upstream credentials (access tokens and tickets), done once.

The rules that public SDKs get wrong, kept here for both tokens and tickets:
- A credential is used only while it has more than `margin` seconds left; an empty value is
  never a hit.
- Concurrent misses in one process share one fetch (single flight).
- With a shared store (Redis), one process fetches while the others wait: a lock taken with
  SET NX PX, released only by its holder, and a second look at the store after taking it.
- A credential WeChat refused is expired only if it is still the stored one
  (compare-and-expire), so a stale refusal cannot throw away a fresh credential.
- A shared store that stops answering (StoreUnavailable) does not fail calls: the cache works
  from its own process (single flight per process, no cross-process lock) and says so in
  the log, until the store answers again.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger("fapiao_gateway.credentials")

#: How often a store outage is logged again while it lasts.
_OUTAGE_LOG_SECONDS = 30.0


class StoreUnavailable(Exception):
    """The shared credential store (Redis) did not answer."""


@dataclass(frozen=True, slots=True)
class Credential:
    """A token or ticket, with its expiry as unix seconds (wall clock, shared by processes)."""

    value: str = field(repr=False)
    expires_at: float

    def usable(self, now: float, margin: float) -> bool:
        return bool(self.value) and self.expires_at - margin > now


class CredentialStore(Protocol):
    """Where credentials live between fetches; shared by processes when it is Redis. Any
    method may raise StoreUnavailable."""

    async def load(self, key: str) -> Credential | None: ...

    async def save(self, key: str, credential: Credential) -> None: ...

    async def expire_if(self, key: str, value: str) -> None:
        """Deletes the credential at `key` only if its value is still `value`."""
        ...

    def fetch_lock(self, key: str) -> contextlib.AbstractAsyncContextManager[None]:
        """Held while fetching `key`, so only one holder of the store fetches at a time."""
        ...


class MemoryCredentialStore:
    """One process's store. Its fetch lock is free: single flight already serializes fetches."""

    def __init__(self) -> None:
        self._items: dict[str, Credential] = {}

    async def load(self, key: str) -> Credential | None:
        return self._items.get(key)

    async def save(self, key: str, credential: Credential) -> None:
        self._items[key] = credential

    async def expire_if(self, key: str, value: str) -> None:
        current = self._items.get(key)
        if current is not None and current.value == value:
            del self._items[key]

    @contextlib.asynccontextmanager
    async def fetch_lock(self, key: str) -> AsyncIterator[None]:
        yield


class CredentialCache:
    """Gets a credential from memory, the store, or one fetch, in that order."""

    def __init__(
        self,
        store: CredentialStore,
        *,
        margin: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._margin = margin
        self._clock = clock
        self._local: dict[str, Credential] = {}
        self._flights: dict[str, asyncio.Future[Credential]] = {}
        self._outage_logged_at = -_OUTAGE_LOG_SECONDS

    async def get(
        self,
        key: str,
        fetch: Callable[[], Awaitable[Credential]],
        *,
        timeout: float | None = None,
    ) -> str:
        """The credential's value. Raises what `fetch` raised, or TimeoutError after `timeout`.

        The shared fetch is shielded: a caller that gives up does not cancel it for the others.
        """
        local = self._local.get(key)
        if local is not None and local.usable(self._clock(), self._margin):
            return local.value
        flight = self._flights.get(key)
        if flight is None:
            flight = asyncio.ensure_future(self._load_or_fetch(key, fetch))
            self._flights[key] = flight
            flight.add_done_callback(lambda _done: self._flights.pop(key, None))
        credential = await asyncio.wait_for(asyncio.shield(flight), timeout)
        return credential.value

    async def expire(self, key: str, value: str) -> None:
        """Forgets `value` if it is still the cached credential (compare-and-expire)."""
        local = self._local.get(key)
        if local is not None and local.value == value:
            del self._local[key]
        try:
            await self._store.expire_if(key, value)
        except StoreUnavailable as outage:
            self._degraded(outage)

    async def _load_or_fetch(
        self, key: str, fetch: Callable[[], Awaitable[Credential]]
    ) -> Credential:
        fetched: Credential | None = None
        try:
            credential = await self._usable_in_store(key)
            if credential is None:
                async with self._store.fetch_lock(key):
                    # Another process may have fetched while we waited for the lock.
                    credential = await self._usable_in_store(key)
                    if credential is None:
                        credential = fetched = await fetch()
                        await self._store.save(key, credential)
        except StoreUnavailable as outage:
            self._degraded(outage)
            credential = fetched or await fetch()
        self._local[key] = credential
        return credential

    def _degraded(self, outage: StoreUnavailable) -> None:
        now = time.monotonic()
        if now - self._outage_logged_at >= _OUTAGE_LOG_SECONDS:
            self._outage_logged_at = now
            log.warning(
                "credential store unavailable (%s): fetching per process until it answers",
                outage,
            )

    async def _usable_in_store(self, key: str) -> Credential | None:
        credential = await self._store.load(key)
        if credential is not None and credential.usable(self._clock(), self._margin):
            return credential
        return None
