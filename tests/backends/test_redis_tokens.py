"""Tokens shared through Redis: one fetch across processes, locks only their holder releases."""

import asyncio
import json
import os
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fapiao.v1 import invoice_pb2, invoice_service_pb2
from fapiao_gateway.sandbox import seed
from fapiao_gateway.wechat.credentials import Credential, CredentialCache
from fapiao_gateway.wechat.redis_store import RedisCredentialStore
from redis.asyncio import Redis

from tests.rpc import Stub
from tests.support import auth
from tests.support.processes import standalone_sandbox, started


async def test_two_caches_on_one_redis_fetch_once(redis: Redis, prefix: str) -> None:
    fetches = 0

    async def fetch() -> Credential:
        nonlocal fetches
        fetches += 1
        await asyncio.sleep(0.05)
        return Credential(f"token-{fetches}", 2_000_000_000.0)

    # Two caches = two processes' views: separate memory, one Redis.
    caches = [
        CredentialCache(RedisCredentialStore(redis, prefix=prefix), margin=300) for _ in range(2)
    ]
    values = await asyncio.gather(*(caches[n % 2].get("k", fetch) for n in range(500)))
    assert set(values) == {"token-1"}
    assert fetches == 1


async def test_compare_and_expire_in_redis(redis: Redis, prefix: str) -> None:
    store = RedisCredentialStore(redis, prefix=prefix)
    await store.save("k", Credential("fresh", 2_000_000_000.0))
    await store.expire_if("k", "stale")
    loaded = await store.load("k")
    assert loaded is not None and loaded.value == "fresh"
    await store.expire_if("k", "fresh")
    assert await store.load("k") is None


async def test_the_fetch_lock_is_released_only_by_its_holder(redis: Redis, prefix: str) -> None:
    store = RedisCredentialStore(redis, prefix=prefix, lock_ttl=0.2)
    async with store.fetch_lock("k"):
        # The holder outlives its TTL; another process takes the lapsed lock...
        await asyncio.sleep(0.3)
        other = RedisCredentialStore(redis, prefix=prefix, lock_ttl=5)
        async with asyncio.timeout(1):
            entered = other.fetch_lock("k")
            await entered.__aenter__()
    # ...and the first holder's release did not delete the second holder's lock.
    assert await redis.get(f"{prefix}lock:k") is not None
    await entered.__aexit__(None, None, None)
    assert await redis.get(f"{prefix}lock:k") is None


@pytest.fixture
async def sandbox_url() -> AsyncIterator[str]:
    async for url in standalone_sandbox():
        yield url


async def test_two_gateway_processes_sharing_redis_fetch_one_token(
    redis_url: str, prefix: str, sandbox_url: str
) -> None:
    key, stored = auth.new_key()
    accounts = [
        {
            "appid": seed.PRIMARY.appid,
            "secret": seed.PRIMARY.secret,
            "alias": "shared",
            "base_url": sandbox_url,
        }
    ]
    env = {
        **os.environ,
        "FAPIAO_LISTEN": "127.0.0.1:0",
        "FAPIAO_ACCOUNTS": json.dumps(accounts),
        "FAPIAO_TOKEN_STORE": "redis",
        "FAPIAO_REDIS_URL": redis_url,
        "FAPIAO_REDIS_PREFIX": prefix,
        "FAPIAO_AUTH_SECRET": auth.TEST_AUTH_SECRET,
        "FAPIAO_CALLERS": json.dumps([auth.caller("erp", ["shared"], ["read"], stored)]),
    }
    gateways = [await started("serve", env=env, ready="listening on") for _ in range(2)]
    try:
        addresses = [re.search(r"listening on (\S+)", banner).group(1) for _, banner in gateways]  # type: ignore[union-attr]
        invoice = seed.invoices()[0]
        request = invoice_service_pb2.GetInvoiceRequest(
            account="shared",
            invoice=invoice_pb2.InvoiceRef(
                card_id=invoice.card_id, encrypt_code=invoice.encrypt_code
            ),
        )
        async with (
            auth.channel(addresses[0], key) as a,
            auth.channel(addresses[1], key) as b,
        ):
            stubs = [Stub(a), Stub(b)]
            replies = await asyncio.gather(*(stubs[n % 2].GetInvoice(request) for n in range(500)))
        assert len(replies) == 500
        async with httpx.AsyncClient() as http:
            calls = (await http.get(f"{sandbox_url}/sandbox/stats")).json()["calls"]
        assert calls["stable_token"] == {seed.PRIMARY.appid: 1}
        assert calls["getinvoiceinfo"] == {seed.PRIMARY.appid: 500}
    finally:
        for process, _ in gateways:
            process.terminate()
            await process.wait()
