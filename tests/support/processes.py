"""Starting the project's own commands as real processes (standalone sandbox, gateways)."""

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator

import httpx

from tests.support import scratch


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(env: dict[str, str] | None) -> dict[str, str]:
    """`env` (default: this process's), serving with one worker unless it says otherwise:
    a test that kills "the gateway" means one process (tests/e2e/test_workers.py runs more)."""
    return {"FAPIAO_WORKERS": "1", **(env if env is not None else os.environ)}


async def started(
    *args: str, env: dict[str, str] | None = None, ready: str
) -> tuple[asyncio.subprocess.Process, str]:
    """Runs `python -m fapiao_gateway ARGS` until it prints `ready`; returns it and its output.
    It works in the test's scratch directory, so what it writes by default (the SQLite
    ledger var/fapiao-gateway.db) is the test's, never the working tree's."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "fapiao_gateway",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=environment(env),
        cwd=scratch.directory(),
    )
    assert process.stdout is not None
    seen = ""
    while ready not in seen:
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        assert line, seen
        seen += line.decode()
    return process, seen


async def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Runs `python -m fapiao_gateway ARGS` to the end, in the test's scratch directory:
    (exit code, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "fapiao_gateway",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=environment(env),
        cwd=scratch.directory(),
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode(), err.decode()


async def standalone_sandbox() -> AsyncIterator[str]:
    """`fapiao-gateway sandbox` on a free port; yields its base URL once it answers."""
    port = free_port()
    process, _ = await started("sandbox", "--port", str(port), ready="WeChat sandbox on")
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as http:
        for _ in range(200):
            try:
                await http.get(f"{url}/sandbox/stats")
                break
            except httpx.ConnectError:
                await asyncio.sleep(0.05)
    yield url
    process.terminate()
    await process.wait()
