"""Fixtures shared by the suite: a sandbox, a real gateway on 127.0.0.1:0, its client; and the
guard that the suite leaves the working tree and the temporary directory as it found them."""

import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
import pytest
from fapiao.v1 import invoice_service_pb2_grpc
from fapiao_gateway.config import (
    ArchiveSettings,
    IntentSettings,
    ReconcileSettings,
    Settings,
    UpstreamSettings,
)

from tests.rpc import Stub
from tests.support import auth as support_auth
from tests.support import scratch

if TYPE_CHECKING:
    # Imported where a fixture needs them: the composition root costs seconds to import, and
    # in-process tests (tests/api, tests/unit) never start a gateway.
    from fapiao_gateway.bootstrap import Gateway
    from fapiao_gateway.sandbox.app import Sandbox

#: The session hooks that check the suite leaves no trace (tests/support/hygiene.py).
pytest_plugins = ["tests.support.hygiene"]

#: Fast retries so failure paths finish quickly; the policy itself is what is tested.
FAST_UPSTREAM = UpstreamSettings(
    request_timeout_seconds=2.0,
    backoff_base_seconds=0.001,
    backoff_max_seconds=0.005,
)
#: Recovery in tenths of a second rather than seconds (the sandbox answers in microseconds,
#: so a write can no longer land late well within that).
FAST_INTENTS = IntentSettings(
    lease_seconds=2.0, settle_seconds=0.3, recovery_interval_seconds=0.1, max_wait_seconds=10.0
)


def gateway_settings(**overrides: object) -> Settings:
    """Settings for a test gateway: sandbox, any free port, fast retries, its own SQLite file
    in the running test's directory (removed with it)."""
    options: dict[str, object] = {
        "database_url": overrides.get("database_url") or scratch.ledger_url(),
        "sandbox": True,
        "listen": "127.0.0.1:0",
        "upstream": FAST_UPSTREAM,
        "intents": FAST_INTENTS,
        # No background rounds unless a test asks: they would add upstream calls to the
        # counts tests assert (tests/e2e/test_reconciliation.py runs them).
        "reconcile": ReconcileSettings(enabled=False),
        # No background downloads either (their getpdf calls would share the sandbox's
        # faults); tests/e2e/test_archive.py turns the archiver on. Its store is the test's.
        # (Disabled, nothing is ever written there; module-scoped gateways start before a
        # test's scratch directory exists.)
        "archive": ArchiveSettings(
            enabled=False,
            directory=str((scratch.current or Path(tempfile.gettempdir())) / "archive-unused"),
        ),
        "shutdown_grace_seconds": 0.5,
    }
    options.update(overrides)
    return Settings(**options)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _scratch(tmp_path: Path) -> Iterator[Path]:
    """Every test's gateways and gateway processes write under its tmp_path."""
    scratch.current = tmp_path
    yield tmp_path
    scratch.current = None


@pytest.fixture
def sandbox() -> "Sandbox":
    from fapiao_gateway.sandbox.app import create_sandbox

    return create_sandbox()


@pytest.fixture
async def gateway(sandbox: "Sandbox") -> AsyncIterator["Gateway"]:
    from fapiao_gateway.bootstrap import start_gateway

    running = await start_gateway(gateway_settings(), sandbox=sandbox)
    yield running
    await running.stop(0)


@pytest.fixture
async def channel(gateway: "Gateway") -> AsyncIterator[grpc.aio.Channel]:
    """A channel authenticated as the gateway's (sandbox) development caller."""
    async with support_auth.channel(gateway.address, gateway.callers.development_key) as opened:
        yield opened


@pytest.fixture
def stub(channel: grpc.aio.Channel) -> Stub:
    return invoice_service_pb2_grpc.InvoiceServiceStub(channel)


GatewayFactory = Callable[..., Awaitable["Gateway"]]


@pytest.fixture
async def make_gateway(sandbox: "Sandbox") -> AsyncIterator[GatewayFactory]:
    """Starts gateways with settings of the test's choosing (stopped at the end)."""
    from fapiao_gateway.bootstrap import start_gateway

    started: list[Gateway] = []

    async def make(**overrides: object) -> "Gateway":
        running = await start_gateway(gateway_settings(**overrides), sandbox=sandbox)
        started.append(running)
        return running

    yield make
    for running in started:
        await running.stop(0)
