"""`serve --workers N`: one port, several real gateway processes, a supervisor that replaces a
dead worker, forwards SIGHUP and SIGTERM, and takes its workers down when it is killed."""

import asyncio
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from fapiao.v1 import invoice_pb2, invoice_service_pb2, invoice_service_pb2_grpc
from fapiao_gateway.sandbox import seed

from tests.support import auth, scratch
from tests.support.fleet import SandboxProcess, gateway_env, sandbox_process
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow

KEY, STORED = auth.new_key()
NEW_KEY, NEW_STORED = auth.new_key()
INVOICE = seed.invoices()[0]
REQUEST = invoice_service_pb2.GetInvoiceRequest(
    account=seed.PRIMARY.alias,
    invoice=invoice_pb2.InvoiceRef(card_id=INVOICE.card_id, encrypt_code=INVOICE.encrypt_code),
)


def callers_toml(*stored: str) -> str:
    keys = ", ".join(json.dumps(s) for s in stored)
    return f'[[callers]]\nname = "erp"\naccounts = ["*"]\noperations = ["*"]\nkeys = [{keys}]\n'


@dataclass
class Fleet:
    """A supervisor process and what it printed."""

    process: asyncio.subprocess.Process
    config: Path
    address: str = ""
    output: list[str] = field(default_factory=list)

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def listening(self) -> int:
        return sum("Fapiao gateway listening on" in line for line in self.output)


async def read_into(fleet: Fleet) -> None:
    assert fleet.process.stdout is not None
    while line := await fleet.process.stdout.readline():
        fleet.output.append(line.decode(errors="replace"))


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxProcess]:
    async with sandbox_process() as running:
        yield running


@pytest.fixture
async def fleet(sandbox: SandboxProcess) -> AsyncIterator[Fleet]:
    config = scratch.directory() / "gateway.toml"
    config.write_text(callers_toml(STORED))
    env = gateway_env(sandbox.url, STORED, scratch.ledger_url())
    del env["FAPIAO_CALLERS"]  # from the file, so that SIGHUP can change them
    env["FAPIAO_HTTP_LISTEN"] = "127.0.0.1:0"  # /metrics, shared by the workers
    env["FAPIAO_BROWSER_LISTEN"] = "127.0.0.1:0"  # the import pages, likewise
    # Given, so a supervisor the test kills leaves it in scratch space (one the supervisor
    # makes itself it removes when it stops: tests/unit/test_workers.py).
    env["PROMETHEUS_MULTIPROC_DIR"] = str(scratch.directory() / "metrics")
    os.mkdir(env["PROMETHEUS_MULTIPROC_DIR"])
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "fapiao_gateway", "serve", "--config", str(config)),
        *("--listen", "127.0.0.1:0", "--workers", "2"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
        cwd=scratch.directory(),
    )
    running = Fleet(process, config)
    reader = asyncio.create_task(read_into(running))
    await eventually(lambda: running.listening() >= 2, within=60)
    banner = next(line for line in running.output if "supervisor" in line)
    running.address = banner.rsplit(" on ", 1)[1].strip()
    yield running
    if process.returncode is None:
        process.kill()
        await process.wait()
    for pid in running.workers():
        os.kill(pid, signal.SIGKILL)
    reader.cancel()


def gone(pids: list[int]) -> bool:
    return all(not Path(f"/proc/{pid}").exists() for pid in pids)


def connections_of(pid: int, port: int) -> int:
    """Established TCP connections to `port` that process `pid` holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "01" and fields[9] in inodes:
                count += 1
    return count


#: gRPC shares one connection among a process's channels to the same address unless each
#: has a subchannel pool of its own: a client spreading its load over workers needs this.
OWN_CONNECTION = [("grpc.use_local_subchannel_pool", 1)]


async def read_on_fresh_channels(address: str, key: str, count: int) -> list[grpc.aio.Channel]:
    """`count` new channels, each on its own connection, each with one GetInvoice answered."""
    interceptors: Any = [auth.BearerAuth(key)]
    channels = [
        grpc.aio.insecure_channel(address, options=OWN_CONNECTION, interceptors=interceptors)
        for _ in range(count)
    ]
    for channel in channels:
        stub = invoice_service_pb2_grpc.InvoiceServiceStub(channel)
        # wait_for_ready: a connection caught in a dying worker's backlog is reset, and the
        # client connects again (to a live worker) instead of failing the call.
        reply = await stub.GetInvoice(REQUEST, timeout=10, wait_for_ready=True)
        assert reply.invoice.ref.card_id == INVOICE.card_id
    return channels


async def test_workers_share_the_port_survive_a_death_and_stop_together(fleet: Fleet) -> None:
    port = int(fleet.address.rsplit(":", 1)[1])
    workers = fleet.workers()
    assert len(workers) == 2

    # The kernel spreads connections over both workers.
    channels = await read_on_fresh_channels(fleet.address, KEY, 20)
    held = {pid: connections_of(pid, port) for pid in workers}
    assert sum(held.values()) == 20 and all(held.values()), held
    for channel in channels:
        await channel.close(None)

    # A worker killed outright is replaced; the port answers all along.
    os.kill(workers[0], signal.SIGKILL)
    channels = await read_on_fresh_channels(fleet.address, KEY, 5)
    await eventually(lambda: len(fleet.workers()) == 2 and workers[0] not in fleet.workers())
    await eventually(lambda: fleet.listening() >= 3, within=60)
    assert any("exited with SIGKILL" in line for line in fleet.output)
    for channel in channels:
        await channel.close(None)

    # SIGHUP reaches every worker: a key added to the file works on every connection.
    fleet.config.write_text(callers_toml(STORED, NEW_STORED))
    fleet.process.send_signal(signal.SIGHUP)
    await eventually(lambda: sum("callers reloaded" in line for line in fleet.output) >= 2)
    channels = await read_on_fresh_channels(fleet.address, NEW_KEY, 12)
    for channel in channels:
        await channel.close(None)

    # SIGTERM: the workers stop gracefully, then the supervisor, with 0.
    survivors = fleet.workers()
    fleet.process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(fleet.process.wait(), 30) == 0
    assert sum("Fapiao gateway stopped." in line for line in fleet.output) == 2
    assert gone(survivors)


def handled(exposition: str, method: str) -> float:
    """grpc_server_handled_total of `method` (code OK) in a /metrics text."""
    prefix = "grpc_server_handled_total{"
    total = 0.0
    for line in exposition.splitlines():
        if line.startswith(prefix) and f'grpc_method="{method}"' in line and '"OK"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


async def test_metrics_add_up_every_worker_whichever_answers_the_scrape(fleet: Fleet) -> None:
    """A scrape reaches one worker; it reports the calls both answered, and no worker's
    process figures as if they were the gateway's. A dead worker's counts stay counted."""
    # Port 0 became one port for every worker, for each listener.
    http_ports = {line for line in fleet.output if line.startswith("HTTP endpoint on ")}
    browser_ports = {
        re.sub(r".*browser endpoint .* on port (\d+).*", r"\1", line).strip()
        for line in fleet.output
        if "browser endpoint" in line
    }
    assert len(http_ports) == 1 and len(browser_ports) == 1, (http_ports, browser_ports)
    line = next(iter(http_ports))
    metrics_url = line.split(" on ", 1)[1].strip() + "/metrics"
    port = int(fleet.address.rsplit(":", 1)[1])
    channels = await read_on_fresh_channels(fleet.address, KEY, 20)
    assert all(connections_of(pid, port) for pid in fleet.workers())  # both answered some

    async def scrape() -> str:
        async with httpx.AsyncClient(timeout=10) as client:  # a new connection each time
            return (await client.get(metrics_url)).text

    for _ in range(6):
        exposition = await scrape()
        assert handled(exposition, "GetInvoice") == 20
        assert "process_resident_memory_bytes" not in exposition
        assert "fapiao_gateway_build_info{" in exposition
    for channel in channels:
        await channel.close(None)

    os.kill(fleet.workers()[0], signal.SIGKILL)
    await eventually(lambda: fleet.listening() >= 3, within=60)
    for channel in await read_on_fresh_channels(fleet.address, KEY, 2):
        await channel.close(None)
    assert handled(await scrape(), "GetInvoice") == 22


async def test_workers_go_down_with_a_killed_supervisor(fleet: Fleet) -> None:
    workers = fleet.workers()
    fleet.process.kill()
    await fleet.process.wait()

    await eventually(lambda: gone(workers), within=20)


@pytest.mark.parametrize(
    ("args", "env", "why"),
    [
        (["--sandbox", "--workers", "2"], {}, "sandbox mode emulates WeChat"),
        (
            ["--workers", "2"],
            {
                "FAPIAO_DATABASE_URL": "sqlite+aiosqlite:///:memory:",
                "FAPIAO_CALLERS": json.dumps([auth.caller("erp", ["*"], ["*"], STORED)]),
                "FAPIAO_AUTH_SECRET": auth.TEST_AUTH_SECRET,
            },
            "in-memory SQLite",
        ),
        (
            ["--workers", "2"],
            {
                "FAPIAO_ACCOUNTS": json.dumps(
                    [{"appid": "wx1", "secret": "s", "token_endpoint": "classic"}]
                ),
                "FAPIAO_CALLERS": json.dumps([auth.caller("erp", ["*"], ["*"], STORED)]),
                "FAPIAO_AUTH_SECRET": auth.TEST_AUTH_SECRET,
            },
            'token_store = "redis"',
        ),
        (["--workers", "-1", "--sandbox"], {}, "0 or more"),
    ],
)
async def test_workers_that_could_not_share_are_refused(
    args: list[str], env: dict[str, str], why: str
) -> None:
    from tests.support.processes import run

    inherited = {k: v for k, v in os.environ.items() if not k.startswith("FAPIAO_")}
    code, _out, err = await run("serve", "--listen", "127.0.0.1:0", *args, env=inherited | env)
    assert code == 2
    assert why in err
