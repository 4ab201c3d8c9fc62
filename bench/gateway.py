"""The gateway under load, as ratios against baselines measured in the same command.

    .venv/bin/python -m bench.gateway                       # every RPC, 1 and 64 in flight
    .venv/bin/python -m bench.gateway --write-docs          # ... and put the table in docs/
    .venv/bin/python -m bench.gateway --scenario GetInvoice --concurrency 64 --seconds 2

Runs a near-zero-cost WeChat stand-in (nginx, bench/upstream.py), the real gateway
(`python -m fapiao_gateway serve`, bench/gateway_process.py) and three baselines:
  (a) a bare grpc.aio server answering from memory (bench/baseline_server.py),
  (b) a minimal grpc.aio proxy making one aiohttp POST per call to the same upstream
      (bench/baseline_proxy.py),
  (c) the same upstream POST made directly by the load generator (HTTP/1.1, as the gateway
      makes it),
and, when `serve` has --workers, the gateway with two workers. h2load drives each of them
for a fixed time at a fixed number of calls in flight, in interleaved rounds (every target
once per round, the order rotating) so that drift on a shared machine hits all alike.

For each run: calls/s, p50/p90/p99 latency, the server's CPU time per call (its process
tree, /proc), its peak memory (VmHWM, reset before the run). Every call is checked: h2load
counts HTTP 200s even when grpc-status says otherwise, so a run's successful calls are
counted from the reply bytes (a failed call answers trailers only) and, for the gateway,
from the failures it logs; a run whose byte count does not fit its call count is flagged.
"""

import argparse
import contextlib
import datetime
import functools
import json
import os
import platform
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import grpc

from bench import canned, gateway_process, h2load, ledger_seed, procs, tools
from bench.report import (
    BARE,
    DIRECT,
    DOCS,
    GATEWAY,
    PROXY,
    WORKERS,
    Results,
    Run,
    report,
    write_docs,
)
from bench.upstream import nginx_upstream

#: Rows in the ledger the SearchInvoices scenario searches (its buyer has 100 of them).
SEARCH_ROWS = 50_000
#: The service whose failed calls the gateway's access lines (JSON, telemetry/access_log.py)
#: are counted for.
_SERVICE = "fapiao.v1.InvoiceService"


@dataclass(frozen=True)
class Target:
    """A server under load, and how to reach it for one scenario."""

    name: str
    pid: int
    url: str
    body: Path
    headers: tuple[str, ...]
    #: The smallest and largest size of one successful reply's data, in bytes.
    reply_sizes: tuple[int, int]
    http1: bool = False
    #: The gateway's log, where it reports every failed call.
    log: Path | None = None


# ----- setting up ---------------------------------------------------------------------------


def call(address: str, method: str, body: bytes, metadata: tuple[tuple[str, str], ...]) -> bytes:
    """One call with a real gRPC client, request and reply as raw bytes."""
    with grpc.insecure_channel(address) as channel:
        stub = channel.unary_unary(method, request_serializer=None, response_deserializer=None)
        reply: bytes = stub(body, metadata=metadata, timeout=30)
        return reply


def sample_replies(gateway: gateway_process.Gateway, scenario: canned.Scenario) -> list[bytes]:
    """Three calls to the gateway with the benchmark's exact request, each checked for
    grpc-status OK (a failing setup stops here, before any load)."""
    body = scenario.request.SerializeToString()
    try:
        return [call(gateway.address, scenario.method, body, gateway.metadata) for _ in range(3)]
    except grpc.RpcError as error:
        raise SystemExit(
            f"bench: the gateway refused the {scenario.name} request: {error.code()} "
            f"{error.details()}\n{procs.tail(gateway.log)}"
        ) from None


def failures_logged(log: Path, start: int, rpc: str = "") -> int:
    """Failed calls (of `rpc`, or any) the gateway's access lines report after byte `start`
    of its log (one JSON line per call; only the failed ones are parsed)."""
    with log.open("rb") as file:
        file.seek(start)
        lines = file.read().decode(errors="replace").splitlines()
    failed = 0
    for line in lines:
        if '"access": true' not in line or '"code": "OK"' in line:
            continue
        with contextlib.suppress(ValueError):
            entry = json.loads(line)
            if entry.get("service") == _SERVICE and (not rpc or entry.get("rpc") == rpc):
                failed += 1
    return failed


def log_counts_failures(gateway: gateway_process.Gateway) -> bool:
    """Whether the gateway logs a failed call the way failures_logged counts it (checked
    with one invalid request); when not, failures are counted from reply sizes alone."""
    start = gateway.log.stat().st_size
    bad = canned.scenarios()["GetInvoice"].request.__class__(account=canned.ALIAS)
    with contextlib.suppress(grpc.RpcError):
        call(
            gateway.address,
            canned.SERVICE + "GetInvoice",
            bad.SerializeToString(),
            gateway.metadata,
        )
    for _ in range(40):
        if failures_logged(gateway.log, start) == 1:
            return True
        time.sleep(0.05)
    return False


def frame_sizes(scenario: canned.Scenario, replies: Sequence[bytes]) -> tuple[int, int]:
    """The range of sizes a successful reply's data can have: fixed, or as sampled give or
    take what the fresh timestamps can change (7 bytes each: a nanos varint of 0-5 bytes
    with its tag, and a length prefix that may grow by one)."""
    sizes = [len(canned.grpc_frame(reply)) for reply in replies]
    if not scenario.fresh_timestamps:
        if min(sizes) != max(sizes):
            raise SystemExit(f"bench: {scenario.name} replies vary in size: {sizes}")
        return sizes[0], sizes[0]
    slack = 7 * scenario.fresh_timestamps
    return min(sizes) - slack, max(sizes) + slack


# ----- measuring ----------------------------------------------------------------------------


def measure(
    target: Target,
    *,
    concurrency: int,
    seconds: float,
    warmup: float,
    streams: int,
    workdir: Path,
    count_logged: bool,
) -> Run:
    """A warm-up run, then the measured one; the calls that succeeded, checked by size."""
    drive = functools.partial(
        h2load.run,
        target.url,
        body=target.body,
        headers=target.headers,
        concurrency=concurrency,
        workdir=workdir,
        streams=streams,
        http1=target.http1,
    )
    procs.wait_idle(target.pid)
    if warmup > 0:
        drive(seconds=warmup)
        procs.wait_idle(target.pid)
    log_start = target.log.stat().st_size if target.log else 0
    peak_reset = procs.reset_peak_memory(target.pid)
    cpu_before = procs.cpu_seconds(target.pid)
    load = drive(seconds=seconds)
    cpu = procs.cpu_seconds(target.pid) - cpu_before
    peak = procs.usage(target.pid).peak_mib
    calls, problem = successes(target, load, log_start if count_logged else None, concurrency)
    if not peak_reset:
        problem = (problem + "; " if problem else "") + "peak memory since start"
    return Run(calls, load.succeeded - calls, load.seconds, load.latencies_ms, cpu, peak, problem)


def successes(
    target: Target, load: h2load.Load, log_start: int | None, in_flight: int
) -> tuple[int, str]:
    """(successful calls, what does not add up). Fixed-size replies: from the reply bytes
    (calls still in flight when the run ended may add a reply h2load did not count).
    Varying sizes: from the failures the gateway logged, the bytes checked against them."""
    low, high = target.reply_sizes
    if low == high:
        return min(load.data_bytes // low, load.succeeded), ""
    if target.log is None or log_start is None:
        return round(load.data_bytes / ((low + high) / 2)), "calls estimated from reply bytes"
    calls = load.succeeded - failures_logged(target.log, log_start, target.url.rsplit("/", 1)[-1])
    if not calls * low <= load.data_bytes <= (calls + in_flight) * high:
        return calls, f"{load.data_bytes} reply bytes do not fit {calls} replies of {low}-{high}"
    return calls, ""


def rounds(
    targets: dict[str, dict[str, Target]],
    *,
    concurrencies: Sequence[int],
    rounds: int,
    seconds: float,
    warmup: float,
    streams: int,
    workdir: Path,
    count_logged: bool,
) -> Results:
    """Every (scenario, concurrency, target), once per round, rotating the targets' order."""
    results = Results()
    for number in range(rounds):
        for scenario, by_target in targets.items():
            for concurrency in concurrencies:
                names = list(by_target)
                names = names[number % len(names) :] + names[: number % len(names)]
                for name in names:
                    if name.startswith("gateway,") and concurrency != max(concurrencies):
                        continue  # workers: at the highest concurrency only
                    run = measure(
                        by_target[name],
                        concurrency=concurrency,
                        seconds=seconds,
                        warmup=warmup,
                        streams=streams,
                        workdir=workdir,
                        count_logged=count_logged,
                    )
                    results.add(scenario, concurrency, name, run)
                    print(
                        f"  round {number + 1}: {scenario:<20} {concurrency:>3} in flight  "
                        f"{name:<30} {run.rate:8.0f} calls/s  p50 {run.percentile(50):7.2f} ms"
                        f"  {run.failed} failed {run.problem}",
                        flush=True,
                    )
    return results


# ----- the command --------------------------------------------------------------------------


@dataclass(frozen=True)
class GrpcServer:
    """A gRPC server under test: the gateway (its log counts failures) or a baseline."""

    name: str
    pid: int
    address: str
    log: Path | None = None
    #: The key this server takes, when not the one every server takes (a second gateway).
    api_key: str | None = None


def start_baselines(
    stack: contextlib.ExitStack,
    workdir: Path,
    upstream_url: str,
    chosen: Sequence[canned.Scenario],
    replies: dict[str, bytes],
) -> list[GrpcServer]:
    """Baselines (a) and (b), answering each scenario with the gateway's own reply."""
    (workdir / "replies.json").write_text(
        json.dumps({s.method: replies[s.name].hex() for s in chosen})
    )
    routes = {
        s.method: {
            "url": f"{upstream_url}{s.upstream.path}?access_token={canned.ACCESS_TOKEN}",
            "body": s.upstream.body.decode(),
            "reply": replies[s.name].hex(),
        }
        for s in chosen
        if s.upstream is not None
    }
    (workdir / "routes.json").write_text(json.dumps(routes, ensure_ascii=False))
    started = []
    for name, module, option, file in [
        (BARE, "bench.baseline_server", "--replies", "replies.json"),
        (PROXY, "bench.baseline_proxy", "--routes", "routes.json"),
    ]:
        port, log = procs.free_port(), workdir / f"{module}.log"
        args = [sys.executable, "-m", module, "--port", str(port), option, str(workdir / file)]
        process = stack.enter_context(procs.running(args, log))
        procs.wait_for_port(port, process, log, 30)
        started.append(GrpcServer(name, process.pid, f"127.0.0.1:{port}"))
    return started


def targets_for(
    scenario: canned.Scenario,
    servers: Sequence[GrpcServer],
    *,
    samples: Sequence[bytes],
    api_key: str,
    upstream: tuple[str, int],
    workdir: Path,
) -> dict[str, Target]:
    """How each server is driven in `scenario`; (b) and (c) only where it calls WeChat."""
    body = workdir / f"{scenario.rpc}.grpc"
    body.write_bytes(scenario.grpc_frame())
    exact = len(canned.grpc_frame(samples[0]))
    targets = {}
    for server in servers:
        if server.name == PROXY and scenario.upstream is None:
            continue
        headers = (*h2load.GRPC_HEADERS, f"authorization: Bearer {server.api_key or api_key}")
        sizes = frame_sizes(scenario, samples) if server.log else (exact, exact)
        url = f"http://{server.address}{scenario.method}"
        targets[server.name] = Target(
            server.name, server.pid, url, body, headers, sizes, log=server.log
        )
    if scenario.upstream is not None:
        upstream_url, nginx_pid = upstream
        direct_body = workdir / f"{scenario.rpc}.json"
        direct_body.write_bytes(scenario.upstream.body)
        size = len(canned.wechat_replies()[scenario.upstream.path])
        targets[DIRECT] = Target(
            DIRECT,
            nginx_pid,
            f"{upstream_url}{scenario.upstream.path}?access_token={canned.ACCESS_TOKEN}",
            direct_body,
            ("content-type: application/json",),
            (size, size),
            http1=True,
        )
    return targets


@contextlib.contextmanager
def servers(
    workdir: Path, args: argparse.Namespace, chosen: list[canned.Scenario]
) -> Iterator[tuple[dict[str, dict[str, Target]], bool]]:
    """Every server the benchmark needs, started; yields the targets per scenario and
    whether the gateway's log counts failed calls."""
    with contextlib.ExitStack() as stack:
        upstream = stack.enter_context(nginx_upstream(workdir / "nginx"))
        database = stack.enter_context(ledger_seed.temp_database(workdir, args.postgres))
        ledger_seed.run_seed(database, SEARCH_ROWS)
        gateway = stack.enter_context(
            gateway_process.gateway(
                workdir / "gateway", upstream_url=upstream[0], database_url=database
            )
        )
        count_logged = log_counts_failures(gateway)
        if not count_logged:
            print(
                "bench: the gateway's log no longer reports failed calls as JSON access "
                "lines; failures of varying-size replies are "
                "estimated from reply bytes",
                flush=True,
            )
        samples = {s.name: sample_replies(gateway, s) for s in chosen}
        first = {name: replies[0] for name, replies in samples.items()}
        servers = [
            GrpcServer(GATEWAY, gateway.pid, gateway.address, gateway.log),
            *start_baselines(stack, workdir, upstream[0], chosen, first),
        ]
        if args.workers > 1 and not gateway_process.supports_workers():
            print(
                f"bench: skipping the {args.workers}-worker gateway: `fapiao-gateway serve` "
                "has no --workers option yet",
                flush=True,
            )
        elif args.workers > 1:
            many = stack.enter_context(
                gateway_process.gateway(
                    workdir / "gateway-workers",
                    upstream_url=upstream[0],
                    database_url=database,
                    workers=args.workers,
                )
            )
            name = WORKERS.format(n=args.workers)
            servers.append(GrpcServer(name, many.pid, many.address, many.log, many.api_key))
        targets = {
            s.name: targets_for(
                s,
                servers,
                samples=samples[s.name],
                api_key=gateway.api_key,
                upstream=upstream,
                workdir=workdir,
            )
            for s in chosen
        }
        yield targets, count_logged


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.gateway",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    names = list(canned.scenarios())
    parser.add_argument(
        "--scenario", action="append", choices=names, help="repeatable; default: all"
    )
    parser.add_argument(
        "--concurrency",
        action="append",
        type=int,
        help="calls in flight, repeatable; default 1 and 64",
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0, help="per measured run")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds before each run")
    parser.add_argument(
        "--streams", type=int, default=1, help="calls in flight per HTTP/2 connection"
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="also the gateway with N workers (0: no)"
    )
    parser.add_argument(
        "--postgres",
        help="ledger on PostgreSQL (admin URL, e.g. postgresql://postgres@127.0.0.1:5432/test;"
        " a temp database is made and dropped); default: a temp SQLite file",
    )
    parser.add_argument(
        "--write-docs", action="store_true", help=f"put the tables into {DOCS.name}"
    )
    parser.add_argument(
        "--keep", type=Path, help="work in this directory and keep it (servers' logs, configs)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    tools.require()
    concurrencies = args.concurrency or [1, 64]
    everything = canned.scenarios()
    chosen = [everything[name] for name in (args.scenario or everything)]
    command = "python -m bench.gateway " + " ".join(sys.argv[1:] if argv is None else argv)
    load = os.getloadavg()
    setup = (
        f"Run {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} "
        f"cores ({platform.machine()}, Python {platform.python_version()}), load average "
        f"{load[0]:.2f} at the start; {args.rounds} round(s) of {args.seconds:g} s per "
        f"run after {args.warmup:g} s of warm-up; ledger on "
        f"{'PostgreSQL' if args.postgres else 'SQLite'}."
    )
    with (
        procs.workdir(args.keep, "fapiao-bench-") as workdir,
        servers(workdir, args, chosen) as (targets, count_logged),
    ):
        results = rounds(
            targets,
            concurrencies=concurrencies,
            rounds=args.rounds,
            seconds=args.seconds,
            warmup=args.warmup,
            streams=args.streams,
            workdir=workdir,
            count_logged=count_logged,
        )
    text = report(results, command=command.strip(), setup=setup)
    print("\n" + text)
    if args.write_docs:
        write_docs(text)
        print(f"\nwritten to {DOCS}")


if __name__ == "__main__":
    main()
