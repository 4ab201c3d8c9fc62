"""Which HTTP client should carry the adapter's upstream calls? Measured, not guessed.

Drives WeChatInvoices.get_invoice (token cache, envelope, pydantic parsing: the whole adapter)
with N concurrent callers for a fixed time against bench/fake_upstream.py in another process,
once per transport, in one run, and reports calls/s with the ratio to httpx's default
transport (the baseline).

    .venv/bin/python -m bench.transport [--seconds 5] [--concurrency 64]
"""

import argparse
import asyncio
import contextlib
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable

import httpx
from fapiao_gateway.domain.context import Deadline
from fapiao_gateway.domain.invoice import InvoiceRef
from fapiao_gateway.sandbox import seed
from fapiao_gateway.wechat.accounts import Account
from fapiao_gateway.wechat.aiohttp_transport import AiohttpTransport
from fapiao_gateway.wechat.client import WeChatInvoices
from fapiao_gateway.wechat.credentials import CredentialCache, MemoryCredentialStore
from fapiao_gateway.wechat.tokens import AccessTokens
from fapiao_gateway.wechat.transport import HttpxTransport, Transport
from fapiao_gateway.wechat.upstream import RetryPolicy, Upstream
from pydantic import SecretStr

INVOICE = seed.invoices()[0]
REF = InvoiceRef(INVOICE.card_id, INVOICE.encrypt_code)


def transports(pool: int) -> dict[str, Callable[[], Transport]]:
    limits = httpx.Limits(max_connections=pool, max_keepalive_connections=pool)
    return {
        "httpx (baseline)": lambda: HttpxTransport(httpx.AsyncClient(limits=limits)),
        "aiohttp": lambda: AiohttpTransport(max_connections=pool),
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
) -> float:
    account = Account(seed.PRIMARY.appid, SecretStr(seed.PRIMARY.secret), base_url=base_url)
    transport = make()
    upstream = Upstream(transport, request_timeout=5, retry=RetryPolicy(1))
    tokens = AccessTokens(
        upstream, CredentialCache(MemoryCredentialStore(), margin=300), fetch_timeout=5
    )
    wechat = WeChatInvoices(tokens)
    await wechat.get_invoice(account, REF, Deadline())  # warm the token and the pool
    done = 0
    stop = time.monotonic() + seconds

    async def caller() -> None:
        nonlocal done
        while time.monotonic() < stop:
            await wechat.get_invoice(account, REF, Deadline())
            done += 1

    started = time.monotonic()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    elapsed = time.monotonic() - started
    await transport.aclose()
    return done / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    async with fake_upstream() as base_url:
        results = {
            name: await measure(make, base_url, args.seconds, args.concurrency)
            for name, make in transports(args.concurrency).items()
        }
    baseline = results["httpx (baseline)"]
    print(
        f"GetInvoice through the adapter, {args.concurrency} concurrent callers,"
        f" {args.seconds:g} s per transport"
    )
    for name, rate in results.items():
        print(f"  {name:<18} {rate:8.0f} calls/s   x{rate / baseline:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
