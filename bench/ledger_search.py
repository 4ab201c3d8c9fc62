"""The ledger at a million rows, through the real gateway, on SQLite and PostgreSQL.

    .venv/bin/python -m bench.ledger_search                          # both backends
    .venv/bin/python -m bench.ledger_search --backend sqlite --rows 100000 --seconds 5

For each backend, a gateway on an empty ledger and one on a ledger of `--rows` synthetic
rows (bench/ledger_seed.py, bulk-loaded through the ledger schema), both behind the same
upstream (bench/fake_upstream.py, which answers getinvoicebatch with whatever it is asked,
so every import brings 50 new invoices):
- ImportInvoices of 50 new invoices under a new bizCode, one at a time, `--imports` times
  on each ledger: the full ledger's median as a ratio of the empty one's (the baseline).
- SearchInvoices with every filter the contract offers, `--queries` different values each
  (after a few untimed ones): the first page (50 rows and the total_size count) and, where
  there is one, the next page (keyset cursor, no count); p50 and p99 in ms.
- ImportInvoices with 8 calls in flight for `--seconds` on the full ledger: calls, failures
  by code and message, and how many `database is locked` the gateway logged. (Today the
  gateway answers a database error as UNAVAILABLE "The ledger database is not available
  (OperationalError)" and does not log the driver's message, so on SQLite a locked database
  shows among the failures under that message, not in the log count.)
Latencies are the client's (a grpc.aio client in this process, one call at a time).
Background reconciliation is off in both gateways (FAPIAO_RECONCILE__ENABLED=false): its first
round would re-read 50,000 of the million rows' open invoices, and write their drifts, while
the calls are timed; each call's own cost is what is measured here.
"""

import argparse
import asyncio
import contextlib
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from fapiao.v1 import invoice_pb2, invoice_service_pb2, invoice_service_pb2_grpc
from google.protobuf.timestamp_pb2 import Timestamp

from bench import canned, gateway_process, ledger_seed, procs
from bench.ledger_seed import biz_code, buyer, invoice_code, invoice_number, seller, when

pb = invoice_service_pb2
Request = pb.SearchInvoicesRequest


def _time(fraction: float) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(when(fraction))
    return stamp


def filters(rng: random.Random, rows: int) -> dict[str, Callable[[], Request]]:
    """Every SearchInvoices filter, and some combinations, with a fresh value per call."""
    a = canned.ALIAS

    def pick(top: int) -> int:
        return rng.randrange(top)

    def window(days: int) -> tuple[Timestamp, Timestamp]:
        start = rng.random() * (1 - days / 730)
        return _time(start), _time(start + days / 730)

    def code_and_number() -> Request:
        n = pick(rows)
        return Request(account=a, invoice_code=invoice_code(n), invoice_number=invoice_number(n))

    def updated(days: int) -> Request:
        start, end = window(days)
        return Request(account=a, update_time_start=start, update_time_end=end)

    def billed(
        days: int,
        status: invoice_pb2.ReimburseStatus.ValueType = invoice_pb2.REIMBURSE_STATUS_UNSPECIFIED,
    ) -> Request:
        start, end = window(days)
        return Request(account=a, billing_time_start=start, billing_time_end=end, status=status)

    def combined() -> Request:
        start, end = window(90)
        return Request(
            account=a,
            buyer_tax_numbers=[buyer(pick(500))],
            status=invoice_pb2.REIMBURSE_STATUS_INIT,
            update_time_start=start,
            update_time_end=end,
        )

    return {
        "none (all rows)": lambda: Request(account=a),
        "biz_code": lambda: Request(account=a, biz_code=biz_code(pick(rows))),
        "invoice_code + number": code_and_number,
        "invoice_number": lambda: Request(account=a, invoice_number=invoice_number(pick(rows))),
        "invoice_code": lambda: Request(account=a, invoice_code=invoice_code(pick(1000))),
        "buyer_tax_numbers": lambda: Request(account=a, buyer_tax_numbers=[buyer(pick(500))]),
        "seller_tax_numbers ×3": lambda: Request(
            account=a, seller_tax_numbers=[seller(pick(5000)) for _ in range(3)]
        ),
        "status = LOCK": lambda: Request(account=a, status=invoice_pb2.REIMBURSE_STATUS_LOCK),
        "update_time, 7 days": lambda: updated(7),
        "billing_time, 30 days": lambda: billed(30),
        "status + billing_time, 30 days": lambda: billed(30, invoice_pb2.REIMBURSE_STATUS_LOCK),
        "buyer + status + update, 90 days": combined,
    }


@dataclass
class Imports:
    """Fresh invoices for every import: 50 new refs under a new bizCode each time."""

    serial: int = 0

    def next(self) -> pb.ImportInvoicesRequest:
        self.serial += 1
        refs = [
            invoice_pb2.InvoiceRef(
                card_id=f"pImp{self.serial:012d}{i:012d}",
                encrypt_code=f"aW1wb3J0ZWQ{self.serial:012d}{i:012d}=",
            )
            for i in range(canned.BATCH)
        ]
        return pb.ImportInvoicesRequest(
            account=canned.ALIAS, biz_code=f"IMP-{self.serial:08d}", invoices=refs
        )


@dataclass
class Backend:
    """What one backend measured."""

    name: str
    rows: int
    seed_seconds: float = 0.0
    import_empty_ms: list[float] = field(default_factory=list)
    import_full_ms: list[float] = field(default_factory=list)
    search: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)
    concurrent_calls: int = 0
    concurrent_failures: Counter[str] = field(default_factory=Counter)
    locked_logged: int = 0


async def timed(call: Awaitable[object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = await call
    return (time.perf_counter() - started) * 1000, result


@contextlib.asynccontextmanager
async def client(gateway: gateway_process.Gateway) -> AsyncIterator[Callable[..., Awaitable]]:
    """A caller of the gateway: `await call(method_name, request)`."""
    async with grpc.aio.insecure_channel(gateway.address) as channel:
        stub = invoice_service_pb2_grpc.InvoiceServiceStub(channel)

        async def call(method: str, request: object) -> object:
            return await getattr(stub, method)(request, metadata=gateway.metadata, timeout=60)

        yield call


async def import_latencies(
    call: Callable[..., Awaitable], imports: Imports, count: int
) -> list[float]:
    await call("ImportInvoices", imports.next())  # warm: token, pools
    return [(await timed(call("ImportInvoices", imports.next())))[0] for _ in range(count)]


async def search_latencies(
    call: Callable[..., Awaitable], rows: int, queries: int
) -> dict[str, tuple[list[float], list[float]]]:
    rng = random.Random(7)
    found: dict[str, tuple[list[float], list[float]]] = {}
    for name, make in filters(rng, rows).items():
        for _ in range(5):
            await call("SearchInvoices", make())
        first: list[float] = []
        later: list[float] = []
        for _ in range(queries):
            request = make()
            spent, page = await timed(call("SearchInvoices", request))
            first.append(spent)
            token = page.next_page_token  # type: ignore[attr-defined]
            if token:
                request.page_token = token
                later.append((await timed(call("SearchInvoices", request)))[0])
        found[name] = (first, later)
    return found


async def concurrent_imports(
    call: Callable[..., Awaitable], imports: Imports, seconds: float, in_flight: int
) -> tuple[int, Counter[str]]:
    failures: Counter[str] = Counter()
    done = 0
    stop = time.monotonic() + seconds

    async def caller() -> None:
        nonlocal done
        while time.monotonic() < stop:
            try:
                await call("ImportInvoices", imports.next())
                done += 1
            except grpc.aio.AioRpcError as error:
                failures[f"{error.code().name}: {error.details()}"[:120]] += 1

    await asyncio.gather(*(caller() for _ in range(in_flight)))
    return done, failures


#: The gateways' settings beyond bench/gateway_process.py's (see the module docstring).
_NO_RECONCILIATION = {"FAPIAO_RECONCILE__ENABLED": "false"}


def backend_workdir(workdir: Path, name: str) -> Path:
    path = workdir / name
    path.mkdir(parents=True, exist_ok=True)
    return path


async def measure_backend(
    name: str, args: argparse.Namespace, workdir: Path, upstream_url: str
) -> Backend:
    result = Backend(name, args.rows)
    postgres = args.postgres if name == "postgresql" else None
    imports = Imports()
    with ledger_seed.temp_database(workdir, postgres, "empty") as empty:
        await ledger_seed.seed(empty, 0)
        with gateway_process.gateway(
            backend_workdir(workdir, f"{name}-empty"),
            upstream_url=upstream_url,
            database_url=empty,
            env=_NO_RECONCILIATION,
        ) as gateway:
            async with client(gateway) as call:
                result.import_empty_ms = await import_latencies(call, imports, args.imports)
    with ledger_seed.temp_database(workdir, postgres, "full") as full:
        started = time.perf_counter()
        await ledger_seed.seed(full, args.rows)
        result.seed_seconds = time.perf_counter() - started
        print(f"{name}: {args.rows:,} rows written in {result.seed_seconds:.0f} s", flush=True)
        with gateway_process.gateway(
            backend_workdir(workdir, f"{name}-full"),
            upstream_url=upstream_url,
            database_url=full,
            env=_NO_RECONCILIATION,
        ) as gateway:
            async with client(gateway) as call:
                result.import_full_ms = await import_latencies(call, imports, args.imports)
                result.search = await search_latencies(call, args.rows, args.queries)
                start = gateway.log.stat().st_size
                result.concurrent_calls, result.concurrent_failures = await concurrent_imports(
                    call, imports, args.seconds, args.in_flight
                )
                with gateway.log.open("rb") as log:
                    log.seek(start)
                    result.locked_logged = (
                        log.read().decode(errors="replace").count("database is locked")
                    )
    return result


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) > 1 else values[0]


def _cell(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} | {p99(values):.2f}" if values else "– | –"


def report(results: list[Backend], args: argparse.Namespace) -> str:
    names = " | ".join(f"{r.name} first p50 | p99 | next p50 | p99" for r in results)
    lines = [
        f"SearchInvoices on {args.rows:,} rows, ms (client-side, one call at a time; "
        "first page = 50 rows + total_size):",
        "",
        f"| filter | {names} |",
        "| --- |" + " --- | --- | --- | --- |" * len(results),
    ]
    for filter_name in results[0].search:
        cells = " | ".join(
            f"{_cell(r.search[filter_name][0])} | {_cell(r.search[filter_name][1])}"
            for r in results
        )
        lines.append(f"| {filter_name} | {cells} |")
    lines += [
        "",
        f"ImportInvoices of 50 new invoices, one at a time, {args.imports} calls, ms; "
        f"then {args.in_flight} in flight for {args.seconds:g} s on the full ledger:",
        "",
        "| backend | rows written in | empty p50 | full p50 | full ÷ empty | full p99 "
        f"| {args.in_flight} in flight: calls | failed | `database is locked` logged |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        empty, full = statistics.median(r.import_empty_ms), statistics.median(r.import_full_ms)
        failures = "; ".join(f"{n}× {what}" for what, n in r.concurrent_failures.items()) or "0"
        lines.append(
            f"| {r.name} | {r.seed_seconds:.0f} s | {empty:.1f} | {full:.1f} | "
            f"{full / empty:.2f} | {p99(r.import_full_ms):.1f} | {r.concurrent_calls} "
            f"| {failures} | {r.locked_logged} |"
        )
    return "\n".join(lines)


async def run(args: argparse.Namespace, workdir: Path) -> None:
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    port = procs.free_port()
    log = workdir / "upstream.log"
    with procs.running([sys.executable, "-m", "bench.fake_upstream", str(port)], log) as upstream:
        procs.wait_for_port(port, upstream, log, 30)
        url = f"http://127.0.0.1:{port}"
        results = [await measure_backend(name, args, workdir, url) for name in backends]
    print("\n" + report(results, args))


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ledger_search",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=100, help="timed values per filter")
    parser.add_argument("--imports", type=int, default=30, help="timed imports per ledger")
    parser.add_argument("--seconds", type=float, default=30.0, help="of concurrent imports")
    parser.add_argument("--in-flight", type=int, default=8, help="concurrent imports")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it")
    args = parser.parse_args()
    with procs.workdir(args.keep, "fapiao-ledger-") as workdir:
        asyncio.run(run(args, workdir))


if __name__ == "__main__":
    main()
