"""Third-party platform merchants across gateway processes sharing Redis: under a storm of
concurrent cold calls, one component_access_token fetch in all, one authorizer token refresh
per merchant, and the ticket one process received is every process's.

Real processes: a standalone sandbox (`fapiao-gateway sandbox`) and two `python -m
fapiao_gateway serve` with token_store = "redis". WeChat's push of the verify ticket reaches
one of them over HTTP (the sandbox's /sandbox/components/<appid>/push); the other finds it in
Redis.
"""

import asyncio
import json
import os
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fapiao.v1 import invoice_pb2, invoice_service_pb2
from fapiao_gateway.sandbox import seed
from redis.asyncio import Redis

from tests.rpc import Stub
from tests.support import auth
from tests.support.processes import run, standalone_sandbox, started

COMPONENT = seed.COMPONENT
MERCHANTS = (seed.MERCHANT, seed.MERCHANT_2)
STORM = 600


@pytest.fixture(autouse=True)
async def forget_keys(redis: Redis, prefix: str) -> AsyncIterator[None]:
    """Leaves Redis as it was: refresh tokens are stored without expiry."""
    yield
    async for name in redis.scan_iter(match=f"{prefix}*"):
        await redis.delete(name)


@pytest.fixture
async def sandbox_url() -> AsyncIterator[str]:
    async for url in standalone_sandbox():
        yield url


def environment(redis_url: str, prefix: str, sandbox_url: str, stored_key: str) -> dict[str, str]:
    components = [
        {
            "component_appid": COMPONENT.appid,
            "component_appsecret": COMPONENT.secret,
            "token": COMPONENT.token,
            "encoding_aes_key": COMPONENT.encoding_aes_key,
            "base_url": sandbox_url,
        }
    ]
    accounts = [
        {
            "platform": "component",
            "appid": merchant.appid,
            "component_appid": COMPONENT.appid,
            "refresh_token": merchant.refresh_token,
            "alias": merchant.alias,
        }
        for merchant in MERCHANTS
    ]
    names = [m.alias for m in MERCHANTS]
    return {
        **os.environ,
        "FAPIAO_LISTEN": "127.0.0.1:0",
        "FAPIAO_HTTP_LISTEN": "127.0.0.1:0",
        "FAPIAO_COMPONENTS": json.dumps(components),
        "FAPIAO_ACCOUNTS": json.dumps(accounts),
        "FAPIAO_TOKEN_STORE": "redis",
        "FAPIAO_REDIS_URL": redis_url,
        "FAPIAO_REDIS_PREFIX": prefix,
        "FAPIAO_AUTH_SECRET": auth.TEST_AUTH_SECRET,
        "FAPIAO_CALLERS": json.dumps([auth.caller("erp", names, ["read"], stored_key)]),
    }


async def test_a_storm_on_two_processes_costs_one_token_of_each_kind(
    redis_url: str, prefix: str, sandbox_url: str
) -> None:
    key, stored = auth.new_key()
    env = environment(redis_url, prefix, sandbox_url, stored)
    gateways = [await started("serve", env=env, ready="listening on") for _ in range(2)]
    try:
        banners = [banner for _, banner in gateways]
        addresses = [re.search(r"listening on (\S+)", b).group(1) for b in banners]  # type: ignore[union-attr]
        push = re.search(r"HTTP endpoint on (http://\S+)", banners[0]).group(1)  # type: ignore[union-attr]
        async with httpx.AsyncClient() as http:
            pushed = await http.post(
                f"{sandbox_url}/sandbox/components/{COMPONENT.appid}/push",
                json={"url": f"{push}/wechat/component/{COMPONENT.appid}"},
            )
            assert pushed.json() == {"status": 200, "body": "success"}

            invoices = seed.invoices()[:6]
            requests = [
                invoice_service_pb2.GetInvoiceRequest(
                    account=MERCHANTS[n % 2].alias,
                    invoice=invoice_pb2.InvoiceRef(
                        card_id=invoices[n % 6].card_id, encrypt_code=invoices[n % 6].encrypt_code
                    ),
                )
                for n in range(STORM)
            ]
            async with (
                auth.channel(addresses[0], key) as a,
                auth.channel(addresses[1], key) as b,
            ):
                stubs = [Stub(a), Stub(b)]
                replies = await asyncio.gather(
                    *(stubs[(n // 2) % 2].GetInvoice(r) for n, r in enumerate(requests))
                )
            calls = (await http.get(f"{sandbox_url}/sandbox/stats")).json()["calls"]
    finally:
        for process, _ in gateways:
            process.terminate()
            await process.wait()

    assert len(replies) == STORM
    assert calls["api_component_token"] == {COMPONENT.appid: 1}
    assert calls["api_authorizer_token"] == {m.appid: 1 for m in MERCHANTS}
    assert calls["getinvoiceinfo"] == {m.appid: STORM // 2 for m in MERCHANTS}


async def test_an_operator_sets_the_ticket_in_redis(
    redis: Redis, redis_url: str, prefix: str, sandbox_url: str
) -> None:
    env = environment(redis_url, prefix, sandbox_url, auth.new_key()[1])
    code, out, err = await run(
        "component", "set-ticket", COMPONENT.appid, "ticket@@@by-hand", env=env
    )
    assert (code, err) == (0, ""), err
    assert COMPONENT.appid in out
    stored = await redis.get(f"{prefix}cred:component_verify_ticket:{COMPONENT.appid}")
    assert isinstance(stored, bytes) and stored.decode().endswith(" ticket@@@by-hand")

    memory = {**env, "FAPIAO_TOKEN_STORE": "memory"}
    code, _, err = await run("component", "set-ticket", COMPONENT.appid, "t", env=memory)
    assert code == 2 and "components[].verify_ticket" in err
    code, _, err = await run("component", "set-ticket", "wx0000000000000000", "t", env=env)
    assert code == 2 and "no component" in err
