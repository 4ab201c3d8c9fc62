"""Readiness that tells the truth: the ledger (PostgreSQL) or Redis goes away behind a proxy,
health goes NOT_SERVING for fapiao.v1.InvoiceService while liveness ("") stays SERVING, and
both come back when the dependency does."""

import grpc
import pytest
from fapiao_gateway.api.server import SERVICE_NAME
from fapiao_gateway.bootstrap import Gateway, start_gateway
from fapiao_gateway.config import HealthSettings, LedgerSettings, Settings
from fapiao_gateway.sandbox.app import Sandbox
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.conftest import gateway_settings
from tests.support.metrics import scrape
from tests.support.proxy import Proxy, proxied
from tests.support.waiting import eventually

#: Probes every tenth of a second, each given half a second.
FAST_PROBES = HealthSettings(probe_interval_seconds=0.1, probe_timeout_seconds=0.5)
FAST_LEDGER = LedgerSettings(
    connect_timeout_seconds=0.5, statement_timeout_seconds=1, pool_timeout_seconds=0.5
)


async def status(gateway: Gateway, service: str) -> str:
    async with grpc.aio.insecure_channel(gateway.address) as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=5
        )
    return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)


async def goes_away_and_comes_back(gateway: Gateway, proxy: Proxy, dependency: str) -> None:
    async def ready_is(expected: str) -> bool:
        return await status(gateway, SERVICE_NAME) == expected

    await eventually(lambda: ready_is("SERVING"))
    proxy.cut()
    await eventually(lambda: ready_is("NOT_SERVING"), within=20)
    assert await status(gateway, "") == "SERVING", "liveness does not follow a dependency"
    down = await scrape(gateway.http_port)
    assert down.value("fapiao_dependency_up", dependency=dependency) == 0
    proxy.restore()
    await eventually(lambda: ready_is("SERVING"), within=20)
    assert (await scrape(gateway.http_port)).value(
        "fapiao_dependency_up", dependency=dependency
    ) == 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_readiness_follows_the_ledger_going_away_and_coming_back(
    sandbox: Sandbox, database_url: str
) -> None:
    async with proxied(database_url.replace("+asyncpg", "")) as proxy:
        settings = observed(database_url=proxy.url(database_url), ledger=FAST_LEDGER)
        gateway = await start_gateway(settings, sandbox=sandbox)
        try:
            await goes_away_and_comes_back(gateway, proxy, "ledger")
        finally:
            await gateway.stop(0)


async def test_readiness_follows_redis_going_away_and_coming_back(
    sandbox: Sandbox, redis_url: str, prefix: str
) -> None:
    async with proxied(redis_url) as proxy:
        settings = observed(
            token_store="redis",
            redis_url=proxy.url(redis_url),
            redis_prefix=prefix,
            redis_timeout_seconds=0.3,
        )
        gateway = await start_gateway(settings, sandbox=sandbox)
        try:
            await goes_away_and_comes_back(gateway, proxy, "redis")
        finally:
            await gateway.stop(0)


def observed(**overrides: object) -> Settings:
    return gateway_settings(health=FAST_PROBES, http_listen="127.0.0.1:0", **overrides)
