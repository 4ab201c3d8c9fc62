"""Which HTTP client should carry the adapter's upstream calls? Measured, not guessed.

Drives WeChatInvoices.fetch (token cache, envelope, pydantic parsing: the whole adapter)
with N concurrent callers for a fixed time against nginx (bench/upstream.py; without it,
bench/fake_upstream.py) in another process,
in interleaved rounds, and reports calls/s and this process's CPU per call (the adapter
and its HTTP client), each as a ratio to httpx's default transport (the baseline).

    .venv/bin/python -m bench.transport [--seconds 5] [--concurrency 64] [--rounds 3]
"""

import argparse
import asyncio
import contextlib
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
from fapiao_gateway.domain.context import Deadline
from fapiao_gateway.domain.invoice import InvoiceRef
from fapiao_gateway.sandbox import seed
from fapiao_gateway.wechat.accounts import Account, AccountRegistry
from fapiao_gateway.wechat.aiohttp_transport import AiohttpTransport
from fapiao_gateway.wechat.credentials import CredentialCache, MemoryCredentialStore
from fapiao_gateway.wechat.httptools_transport import HttptoolsTransport
from fapiao_gateway.wechat.invoices import WeChatInvoices
from fapiao_gateway.wechat.tokens import AccessTokens
from fapiao_gateway.wechat.transport import HttpxTransport, Transport
from fapiao_gateway.wechat.upstream import RetryPolicy, Upstream
from pydantic import SecretStr

from bench import canned, procs
from bench.upstream import nginx_upstream

INVOICE = seed.invoices()[0]
REF = InvoiceRef(INVOICE.card_id, INVOICE.encrypt_code)
assert seed.PRIMARY.appid == canned.APPID  # nginx's canned replies are this account's


def transports(pool: int) -> dict[str, Callable[[], Transport]]:
    limits = httpx.Limits(max_connections=pool, max_keepalive_connections=pool)
    return {
        "httpx (baseline)": lambda: HttpxTransport(httpx.AsyncClient(limits=limits)),
        "aiohttp": lambda: AiohttpTransport(max_connections=pool),
        "httptools": lambda: HttptoolsTransport(max_connections=pool),
    }


@contextlib.asynccontextmanager
async def fake_upstream() -> AsyncIterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.fake_upstream", str(port), stdout=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    await asyncio.wait_for(process.stdout.readline(), 30)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        await process.wait()


async def measure(
    make: Callable[[], Transport], base_url: str, seconds: float, concurrency: int
) -> tuple[float, float]:
    """(calls/s, CPU microseconds per call of this process: the adapter and its client)."""
    account = Account(seed.PRIMARY.appid, SecretStr(seed.PRIMARY.secret), base_url=base_url)
    transport = make()
    upstream = Upstream(transport, request_timeout=5, retry=RetryPolicy(1))
    tokens = AccessTokens(
        upstream, CredentialCache(MemoryCredentialStore(), margin=300), fetch_timeout=5
    )
    wechat = WeChatInvoices(AccountRegistry([account]), tokens)
    await wechat.fetch(account.appid, REF, Deadline())  # warm the token and the pool
    done = 0
    stop = time.monotonic() + seconds

    async def caller() -> None:
        nonlocal done
        while time.monotonic() < stop:
            await wechat.fetch(account.appid, REF, Deadline())
            done += 1

    started, cpu = time.monotonic(), time.process_time()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    elapsed, cpu = time.monotonic() - started, time.process_time() - cpu
    await transport.aclose()
    return done / elapsed, cpu / done * 1e6


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    made = transports(args.concurrency)
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in made}
    async with upstream() as (base_url, kind):
        for _round in range(args.rounds):  # interleaved, so drift hits every transport alike
            for name, make in made.items():
                results[name].append(await measure(make, base_url, args.seconds, args.concurrency))
    rate0, cpu0 = _median(results["httpx (baseline)"])
    print(
        f"GetInvoice through the adapter against {kind}, {args.concurrency} concurrent "
        f"callers, {args.rounds} round(s) of {args.seconds:g} s per transport (medians)"
    )
    print(f"  {'transport':<18} {'calls/s':>8} {'ratio':>7} {'CPU us/call':>12} {'ratio':>7}")
    for name, runs in results.items():
        rate, cpu = _median(runs)
        print(f"  {name:<18} {rate:8.0f} {rate / rate0:7.2f} {cpu:12.0f} {cpu / cpu0:7.2f}")


def _median(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(r for r, _ in runs), statistics.median(c for _, c in runs)


@contextlib.asynccontextmanager
async def upstream() -> AsyncIterator[tuple[str, str]]:
    """nginx serving canned replies when it is installed (it costs the upstream next to
    nothing); otherwise bench/fake_upstream.py, a Python server that may itself be the
    bottleneck for calls/s (CPU per call is still the adapter's own)."""
    if procs.which("nginx") is None:
        async with fake_upstream() as base_url:
            yield base_url, "bench/fake_upstream.py"
        return
    with (
        tempfile.TemporaryDirectory(prefix="fapiao-bench-") as root,
        nginx_upstream(Path(root)) as (base_url, _pid),
    ):
        yield base_url, "nginx"


if __name__ == "__main__":
    asyncio.run(main())
