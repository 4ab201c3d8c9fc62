"""The credential cache's guarantees: single flight, margin, empty is a miss, compare-and-expire."""

import asyncio

import pytest
from fapiao_gateway.wechat.credentials import Credential, CredentialCache, MemoryCredentialStore


class Fetcher:
    def __init__(
        self, clock: list[float], ttl: float = 7200, values: list[str] | None = None
    ) -> None:
        self.clock, self.ttl, self.calls = clock, ttl, 0
        self.values = values

    async def __call__(self) -> Credential:
        self.calls += 1
        await asyncio.sleep(0.01)
        value = self.values.pop(0) if self.values else f"token-{self.calls}"
        return Credential(value, self.clock[0] + self.ttl)


@pytest.fixture
def clock() -> list[float]:
    return [1000.0]


def cache_for(clock: list[float], store: MemoryCredentialStore | None = None) -> CredentialCache:
    return CredentialCache(store or MemoryCredentialStore(), margin=300, clock=lambda: clock[0])


async def test_concurrent_misses_share_one_fetch(clock: list[float]) -> None:
    cache, fetch = cache_for(clock), Fetcher(clock)
    values = await asyncio.gather(*(cache.get("k", fetch) for _ in range(200)))
    assert set(values) == {"token-1"}
    assert fetch.calls == 1


async def test_renewed_only_inside_the_safety_margin(clock: list[float]) -> None:
    cache, fetch = cache_for(clock), Fetcher(clock)
    assert await cache.get("k", fetch) == "token-1"
    clock[0] += 7200 - 301
    assert await cache.get("k", fetch) == "token-1"
    clock[0] += 2
    assert await cache.get("k", fetch) == "token-2"


async def test_an_empty_value_is_never_a_hit(clock: list[float]) -> None:
    store = MemoryCredentialStore()
    await store.save("k", Credential("", clock[0] + 7200))
    cache, fetch = cache_for(clock, store), Fetcher(clock)
    assert await cache.get("k", fetch) == "token-1"
    assert fetch.calls == 1


async def test_expire_drops_only_the_value_that_failed(clock: list[float]) -> None:
    cache, fetch = cache_for(clock), Fetcher(clock)
    stale = await cache.get("k", fetch)
    await cache.expire("k", stale)
    fresh = await cache.get("k", fetch)
    assert fresh != stale
    await cache.expire("k", stale)  # a late refusal of the old token
    assert await cache.get("k", fetch) == fresh
    assert fetch.calls == 2


async def test_a_failed_fetch_reaches_every_waiter_and_is_not_cached(clock: list[float]) -> None:
    cache = cache_for(clock)
    calls = 0

    async def failing() -> Credential:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        raise RuntimeError("upstream down")

    results = await asyncio.gather(
        *(cache.get("k", failing) for _ in range(10)), return_exceptions=True
    )
    assert all(isinstance(r, RuntimeError) for r in results)
    assert calls == 1
    assert await cache.get("k", Fetcher(clock)) == "token-1"


async def test_a_caller_giving_up_does_not_cancel_the_shared_fetch(clock: list[float]) -> None:
    cache, fetch = cache_for(clock), Fetcher(clock)
    with pytest.raises(TimeoutError):
        await cache.get("k", fetch, timeout=0.001)
    assert await cache.get("k", fetch) == "token-1"
    assert fetch.calls == 1


async def test_a_value_already_in_the_store_is_used_without_fetching(clock: list[float]) -> None:
    store = MemoryCredentialStore()
    await store.save("k", Credential("shared", clock[0] + 7200))
    cache, fetch = cache_for(clock, store), Fetcher(clock)
    assert await cache.get("k", fetch) == "shared"
    assert fetch.calls == 0
