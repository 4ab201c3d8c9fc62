"""Real processes for the tests that kill, stop and starve them: a standalone WeChat sandbox
(`fapiao-gateway sandbox`, controlled over HTTP) and gateways (`fapiao-gateway serve`) in
front of it, configured as production would be (accounts, callers, a database URL)."""

import asyncio
import contextlib
import json
import os
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import httpx
from fapiao.v1 import invoice_service_pb2_grpc
from fapiao_gateway.sandbox import seed

from tests.rpc import Stub
from tests.support import auth
from tests.support.processes import standalone_sandbox, started


@dataclass
class SandboxProcess:
    """The standalone sandbox: WeChat for the gateways, and its /sandbox/ controls."""

    url: str
    http: httpx.AsyncClient

    async def fault(self, **body: Any) -> None:
        (await self.http.post(f"{self.url}/sandbox/faults", json=body)).raise_for_status()

    async def clear_faults(self) -> None:
        (await self.http.delete(f"{self.url}/sandbox/faults")).raise_for_status()

    async def add_synthetic(self, count: int, start: int = 0, holder: str = seed.ZHANG) -> None:
        body = {"count": count, "start": start, "holder": holder}
        (
            await self.http.post(f"{self.url}/sandbox/invoices/synthetic", json=body)
        ).raise_for_status()

    async def calls(self, endpoint: str) -> int:
        stats = (await self.http.get(f"{self.url}/sandbox/stats")).json()["calls"]
        return sum(stats.get(endpoint, {}).values())

    async def statuses(self) -> dict[tuple[str, str], tuple[str, str]]:
        """(card_id, encrypt_code) -> (status, lock owner) of every invoice WeChat holds."""
        held = (await self.http.get(f"{self.url}/sandbox/invoices")).json()
        return {(i["card_id"], i["encrypt_code"]): (i["status"], i["lock_owner"]) for i in held}


@contextlib.asynccontextmanager
async def sandbox_process() -> AsyncIterator[SandboxProcess]:
    async with (
        contextlib.asynccontextmanager(standalone_sandbox)() as url,
        httpx.AsyncClient(timeout=30) as http,
    ):
        yield SandboxProcess(url, http)


@dataclass
class GatewayProcess:
    """A running `fapiao-gateway serve`, and what it printed."""

    process: asyncio.subprocess.Process
    address: str
    key: str
    output: list[str] = field(default_factory=list)
    _reader: "asyncio.Task[None] | None" = None

    def channel(self) -> grpc.aio.Channel:
        return auth.channel(self.address, self.key)

    def stub(self, channel: grpc.aio.Channel) -> Stub:
        return invoice_service_pb2_grpc.InvoiceServiceStub(channel)

    def _drain(self) -> None:
        async def read() -> None:
            assert self.process.stdout is not None
            while line := await self.process.stdout.readline():
                self.output.append(line.decode(errors="replace"))

        self._reader = asyncio.ensure_future(read())

    def kill(self) -> None:
        """SIGKILL: nothing of the gateway runs any more, no handler, no cleanup."""
        self.process.kill()

    async def stop(self, timeout: float) -> tuple[int | None, float]:
        """SIGTERM, then waits up to `timeout` s; (exit code or None if still running, s)."""
        began = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            return None, time.monotonic() - began
        return code, time.monotonic() - began

    async def close(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        if self._reader is not None:
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(self._reader, 5)


def gateway_env(
    sandbox_url: str, stored_key: str, database_url: str, **more: str
) -> dict[str, str]:
    """A production-shaped configuration: the sandbox's accounts at `sandbox_url`, one caller
    allowed everything, fast retries and fast intents (see tests/conftest.py)."""
    accounts = [
        {"appid": a.appid, "secret": a.secret, "alias": a.alias, "base_url": sandbox_url}
        for a in seed.ACCOUNTS
    ]
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("FAPIAO_")}
    return inherited | {
        "FAPIAO_ACCOUNTS": json.dumps(accounts),
        "FAPIAO_CALLERS": json.dumps([auth.caller("fault-test", ["*"], ["*"], stored_key)]),
        "FAPIAO_AUTH_SECRET": auth.TEST_AUTH_SECRET,
        "FAPIAO_DATABASE_URL": database_url,
        "FAPIAO_UPSTREAM__MAX_ATTEMPTS": "2",
        "FAPIAO_UPSTREAM__BACKOFF_BASE_SECONDS": "0.001",
        "FAPIAO_UPSTREAM__BACKOFF_MAX_SECONDS": "0.005",
        "FAPIAO_INTENTS__LEASE_SECONDS": "1",
        "FAPIAO_INTENTS__SETTLE_SECONDS": "0.3",
        "FAPIAO_INTENTS__RECOVERY_INTERVAL_SECONDS": "0.2",
        "FAPIAO_SHUTDOWN_GRACE_SECONDS": "2",
        **more,
    }


async def start_gateway_process(env: dict[str, str], key: str) -> GatewayProcess:
    process, banner = await started(
        "serve", "--listen", "127.0.0.1:0", env=env, ready="Fapiao gateway listening on"
    )
    address = banner.rsplit("listening on ", 1)[1].split()[0]
    running = GatewayProcess(process, address, key, [banner])
    running._drain()
    return running


@contextlib.asynccontextmanager
async def gateway_process(env: dict[str, str], key: str) -> AsyncIterator[GatewayProcess]:
    running = await start_gateway_process(env, key)
    try:
        yield running
    finally:
        await running.close()
