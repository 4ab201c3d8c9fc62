"""SearchInvoices latency on a million ledger rows, per filter, on SQLite and PostgreSQL.

Loads N synthetic rows (one account; 10 invoices per bizCode; 1,000 invoice codes; 500 buyers;
5,000 sellers; 60% INIT, 30% LOCK, 10% CLOSURE; two years of billing and update times),
then runs each filter `--queries` times with varying values through Ledger.search, the code
SearchInvoices uses: the first page (50 rows, with its total_size count) and a later page
(keyset cursor, no count). Reports median and p99 in ms, and each median as a ratio to the
baseline measured in the same run: the unfiltered first page.

    .venv/bin/python -m bench.ledger_search --rows 1000000 --backend sqlite
    .venv/bin/python -m bench.ledger_search --rows 1000000 --backend postgresql \\
        --postgres postgresql://postgres@127.0.0.1:5432/test
"""

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
from fapiao_gateway.domain.imports import SearchFilters
from fapiao_gateway.domain.status import ReimburseStatus
from fapiao_gateway.ledger.engine import create_engine, migrate
from fapiao_gateway.ledger.schema import imported_invoices
from fapiao_gateway.ledger.store import Ledger
from sqlalchemy import insert

ACCOUNT = "wx5a6b7c8d9e0f1a2b"
START = datetime(2025, 1, 1, tzinfo=UTC)
SPAN_US = int(timedelta(days=730).total_seconds() * 1_000_000)
PAYLOAD = json.dumps(
    {
        "card_id": "x",
        "openid": "o",
        "type": "增值税电子普通发票",
        "user_info": {"fee": 100, "reimburse_status": "INVOICE_REIMBURSE_INIT"},
    },
    ensure_ascii=False,
)
STATUSES = [ReimburseStatus.INIT] * 6 + [ReimburseStatus.LOCK] * 3 + [ReimburseStatus.CLOSURE]


def row(n: int, rows: int) -> dict[str, object]:
    start_us = int(START.timestamp() * 1_000_000)
    return {
        "account": ACCOUNT,
        "card_id": f"pBench{n % 5000:022d}",
        "encrypt_code": f"ZW5jcnlwdC1jb2Rl{n:024d}=",
        "openid": f"oUser{n % 20000:023d}",
        "biz_code": f"EXP-{n // 10:07d}",
        "status": STATUSES[n % 10].value,
        "invoice_code": f"0{n % 1000:03d}0019001",
        "invoice_number": f"{n:08d}",
        "buyer_tax_number": f"91310000BUYER{n % 500:05d}",
        "seller_tax_number": f"91440300SELLER{n % 5000:05d}",
        "billing_time_us": start_us + (n * 7919 % rows) * (SPAN_US // rows),
        "total_fen": 1000 + n % 100000,
        "payload": PAYLOAD,
        "imported_by": "bench",
        "import_time_us": start_us + n * (SPAN_US // rows),
        "update_time_us": start_us + n * (SPAN_US // rows),
    }


async def load(url: str, rows: int) -> Ledger:
    engine = create_engine(url)
    await migrate(engine)
    chunk = 20_000
    for start in range(0, rows, chunk):
        batch = [row(n, rows) for n in range(start, min(rows, start + chunk))]
        async with engine.begin() as conn:
            await conn.execute(insert(imported_invoices), batch)
    async with engine.begin() as conn:
        await conn.exec_driver_sql("ANALYZE")
    return Ledger(engine)


def when(fraction: float) -> datetime:
    return START + timedelta(microseconds=int(SPAN_US * fraction))


def filters(rng: random.Random, rows: int) -> dict[str, Callable[[], SearchFilters]]:
    pick = lambda top: rng.randrange(top)  # noqa: E731
    return {
        "none (baseline)": lambda: SearchFilters(ACCOUNT),
        "biz_code": lambda: SearchFilters(ACCOUNT, biz_code=f"EXP-{pick(rows // 10):07d}"),
        "invoice_code+number": lambda: (
            lambda n: SearchFilters(
                ACCOUNT, invoice_code=f"0{n % 1000:03d}0019001", invoice_number=f"{n:08d}"
            )
        )(pick(rows)),
        "invoice_number": lambda: SearchFilters(ACCOUNT, invoice_number=f"{pick(rows):08d}"),
        "invoice_code": lambda: SearchFilters(ACCOUNT, invoice_code=f"0{pick(1000):03d}0019001"),
        "buyer_tax_number": lambda: SearchFilters(
            ACCOUNT, buyer_tax_numbers=(f"91310000BUYER{pick(500):05d}",)
        ),
        "seller_tax_numbers x3": lambda: SearchFilters(
            ACCOUNT, seller_tax_numbers=tuple(f"91440300SELLER{pick(5000):05d}" for _ in range(3))
        ),
        "status=LOCK": lambda: SearchFilters(ACCOUNT, status=ReimburseStatus.LOCK),
        "update_time 7 days": lambda: (
            lambda f: SearchFilters(
                ACCOUNT, update_time_start=when(f), update_time_end=when(f + 7 / 730)
            )
        )(rng.random() * 0.99),
        "billing_time 30 days": lambda: (
            lambda f: SearchFilters(
                ACCOUNT, billing_time_start=when(f), billing_time_end=when(f + 30 / 730)
            )
        )(rng.random() * 0.95),
        "buyer+status+update 90d": lambda: (
            lambda f: SearchFilters(
                ACCOUNT,
                buyer_tax_numbers=(f"91310000BUYER{pick(500):05d}",),
                status=ReimburseStatus.INIT,
                update_time_start=when(f),
                update_time_end=when(f + 90 / 730),
            )
        )(rng.random() * 0.85),
    }


async def timed(call: Awaitable[object]) -> float:
    started = time.perf_counter()
    await call
    return (time.perf_counter() - started) * 1000


async def measure(
    ledger: Ledger, rows: int, queries: int
) -> dict[str, tuple[list[float], list[float]]]:
    rng = random.Random(7)
    results: dict[str, tuple[list[float], list[float]]] = {}
    for name, make in filters(rng, rows).items():
        first: list[float] = []
        later: list[float] = []
        for _ in range(queries):
            chosen = make()
            page = await ledger.search(chosen, None, 50)  # warm this filter's pages
            first.append(await timed(ledger.search(chosen, None, 50)))
            if page.next_cursor is not None:
                later.append(await timed(ledger.search(chosen, page.next_cursor, 50)))
        results[name] = (first, later)
    return results


def p(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else (values or [0.0])[0]
    )


def report(backend: str, rows: int, results: dict[str, tuple[list[float], list[float]]]) -> None:
    baseline = statistics.median(results["none (baseline)"][0])
    print(f"\n{backend}, {rows:,} rows: first page (with total_size) and a later page, in ms")
    print(f"  {'filter':<26}{'median':>9}{'p99':>9}{'x base':>8}{'later med':>11}{'later p99':>11}")
    for name, (first, later) in results.items():
        med = statistics.median(first)
        later_med = f"{statistics.median(later):11.2f}" if later else f"{'-':>11}"
        later_p99 = f"{p(later, 99):11.2f}" if later else f"{'-':>11}"
        print(
            f"  {name:<26}{med:9.2f}{p(first, 99):9.2f}{med / baseline:8.2f}{later_med}{later_p99}"
        )


async def run_backend(backend: str, rows: int, queries: int, postgres: str) -> None:
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='fapiao-bench-')}/ledger.db"
        admin, name = None, ""
    else:
        admin = await asyncpg.connect(postgres)
        name = f"fapiao_bench_{uuid.uuid4().hex[:8]}"
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = (
            postgres.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
            + f"/{name}"
        )
    try:
        started = time.perf_counter()
        ledger = await load(url, rows)
        print(f"\n{backend}: loaded {rows:,} rows in {time.perf_counter() - started:.0f} s")
        report(backend, rows, await measure(ledger, rows, queries))
        await ledger._engine.dispose()
    finally:
        if admin is not None:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    for backend in ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]:
        await run_backend(backend, args.rows, args.queries, args.postgres)


if __name__ == "__main__":
    asyncio.run(main())
