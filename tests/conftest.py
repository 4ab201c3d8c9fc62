"""Fixtures shared by the suite: a sandbox, a real gateway on 127.0.0.1:0, its client."""

import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable

import grpc
import pytest
from fapiao.v1 import invoice_service_pb2_grpc
from fapiao_gateway.bootstrap import Gateway, start_gateway
from fapiao_gateway.config import Settings, UpstreamSettings
from fapiao_gateway.sandbox.app import Sandbox, create_sandbox

from tests.rpc import Stub
from tests.support import auth as support_auth

#: Fast retries so failure paths finish quickly; the policy itself is what is tested.
FAST_UPSTREAM = UpstreamSettings(
    request_timeout_seconds=2.0,
    backoff_base_seconds=0.001,
    backoff_max_seconds=0.005,
)


def gateway_settings(**overrides: object) -> Settings:
    """Settings for a test gateway: sandbox, any free port, fast retries, its own SQLite file."""
    options: dict[str, object] = {
        "database_url": f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='fapiao-ledger-')}/ledger.db",
        "sandbox": True,
        "listen": "127.0.0.1:0",
        "upstream": FAST_UPSTREAM,
        "shutdown_grace_seconds": 0.5,
    }
    options.update(overrides)
    return Settings(**options)  # type: ignore[arg-type]


@pytest.fixture
def sandbox() -> Sandbox:
    return create_sandbox()


@pytest.fixture
async def gateway(sandbox: Sandbox) -> AsyncIterator[Gateway]:
    running = await start_gateway(gateway_settings(), sandbox=sandbox)
    yield running
    await running.stop(0)


@pytest.fixture
async def channel(gateway: Gateway) -> AsyncIterator[grpc.aio.Channel]:
    """A channel authenticated as the gateway's (sandbox) development caller."""
    async with support_auth.channel(gateway.address, gateway.callers.development_key) as opened:
        yield opened


@pytest.fixture
def stub(channel: grpc.aio.Channel) -> Stub:
    return invoice_service_pb2_grpc.InvoiceServiceStub(channel)


GatewayFactory = Callable[..., Awaitable[Gateway]]


@pytest.fixture
async def make_gateway(sandbox: Sandbox) -> AsyncIterator[GatewayFactory]:
    """Starts gateways with settings of the test's choosing (stopped at the end)."""
    started: list[Gateway] = []

    async def make(**overrides: object) -> Gateway:
        running = await start_gateway(gateway_settings(**overrides), sandbox=sandbox)
        started.append(running)
        return running

    yield make
    for running in started:
        await running.stop(0)
