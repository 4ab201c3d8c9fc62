"""The gateway under steady load for minutes: does anything grow?

    .venv/bin/python -m bench.soak                           # 5 minutes, 32 calls in flight
    .venv/bin/python -m bench.soak --seconds 60 --scenario GetInvoice

Every chosen RPC at once (the calls in flight split between them, one h2load each) against
the real gateway, the same upstream and ledger as bench.gateway. Every `--interval` seconds
it samples the gateway's resident memory, threads, open file descriptors and asyncio tasks
(the gateway runs through bench/task_probe.py, which reports its task count on SIGUSR1:
the gateway has no such hook of its own). Growth is judged after a warm-up fifth: memory
as the median of the last fifth against the median of the second, counts as their last
value against their value when the warm-up ended. Flat means memory within ±5% and no
count higher at the end.
"""

import argparse
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import canned, gateway_process, h2load, ledger_seed, procs, tools
from bench.gateway import SEARCH_ROWS, failures_logged, log_counts_failures, sample_replies
from bench.upstream import nginx_upstream


@dataclass(frozen=True)
class Sample:
    seconds: float
    rss_mib: float
    threads: int
    fds: int
    tasks: int


def task_count(pid: int, count_file: Path) -> int:
    """Asks the probe in the gateway for its task count (-1 when it does not answer)."""
    count_file.unlink(missing_ok=True)
    os.kill(pid, signal.SIGUSR1)
    for _ in range(50):
        with contextlib.suppress(OSError, ValueError):
            return int(count_file.read_text())
        time.sleep(0.02)
    return -1


def split(total: int, parts: int) -> list[int]:
    """`total` calls in flight over `parts` RPCs, as evenly as can be (at least 1 each)."""
    return [max(1, total // parts + (1 if i < total % parts else 0)) for i in range(parts)]


def growth(samples: Sequence[Sample]) -> dict[str, tuple[float, float]]:
    """(after warm-up, at the end) for memory (medians of the second and last fifths) and
    for each count (the highest of the second fifth, the lowest of the last: counts move
    with the calls in flight, so only a rise past everything seen after warm-up is growth)."""
    fifth = max(1, len(samples) // 5)
    warm, end = samples[fifth : 2 * fifth] or samples[-1:], samples[-fifth:]
    changes = {
        "rss_mib": (
            statistics.median(s.rss_mib for s in warm),
            statistics.median(s.rss_mib for s in end),
        )
    }
    for name in ("threads", "fds", "tasks"):
        changes[name] = (
            max(getattr(s, name) for s in warm),
            min(getattr(s, name) for s in end),
        )
    return changes


def verdict(changes: dict[str, tuple[float, float]]) -> list[str]:
    """What grew, in words; empty when everything stayed flat."""
    found = []
    start, end = changes["rss_mib"]
    if start and abs(end - start) / start > 0.05:
        found.append(f"memory moved {100 * (end - start) / start:+.1f}% (more than ±5%)")
    for name in ("threads", "fds", "tasks"):
        start, end = changes[name]
        if end > start:
            found.append(f"{name} grew: at least {end:.0f} at the end, at most {start:.0f} before")
    return found


def soak(args: argparse.Namespace, workdir: Path) -> int:
    chosen = [canned.scenarios()[name] for name in args.scenario or canned.scenarios()]
    count_file = workdir / "tasks.count"
    with contextlib.ExitStack() as stack:
        upstream_url, _ = stack.enter_context(nginx_upstream(workdir / "nginx"))
        database = stack.enter_context(ledger_seed.temp_database(workdir, args.postgres))
        ledger_seed.run_seed(database, SEARCH_ROWS)
        gateway = stack.enter_context(
            gateway_process.gateway(
                workdir / "gateway",
                upstream_url=upstream_url,
                database_url=database,
                command=("-m", "bench.task_probe", str(count_file)),
            )
        )
        counted = log_counts_failures(gateway)
        for scenario in chosen:
            sample_replies(gateway, scenario)
        log_start = gateway.log.stat().st_size
        loads = []
        for scenario, in_flight in zip(chosen, split(args.concurrency, len(chosen)), strict=True):
            body = workdir / f"{scenario.rpc}.grpc"
            body.write_bytes(scenario.grpc_frame())
            log = workdir / f"{scenario.rpc}.tsv"
            command = h2load.command(
                f"http://{gateway.address}{scenario.method}",
                body=body,
                headers=(*h2load.GRPC_HEADERS, f"authorization: Bearer {gateway.api_key}"),
                concurrency=in_flight,
                seconds=args.seconds,
                log=log,
            )
            process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
            loads.append((scenario, in_flight, process, log))
        print(
            f"soak: {args.seconds:g} s, {args.concurrency} calls in flight over "
            f"{', '.join(s.name for s in chosen)}; a sample every {args.interval:g} s",
            flush=True,
        )
        samples = []
        started = time.monotonic()
        while any(process.poll() is None for _, _, process, _ in loads):
            used = procs.usage(gateway.pid)
            sample = Sample(
                time.monotonic() - started,
                used.rss_mib,
                used.threads,
                used.fds,
                task_count(gateway.pid, count_file),
            )
            samples.append(sample)
            print(
                f"  {sample.seconds:6.0f} s  RSS {sample.rss_mib:7.1f} MiB  threads "
                f"{sample.threads:3}  fds {sample.fds:4}  tasks {sample.tasks:4}",
                flush=True,
            )
            time.sleep(args.interval)
        print("\n| RPC | in flight | calls/s | failed |\n| --- | --- | --- | --- |")
        for scenario, in_flight, process, log in loads:
            out, _ = process.communicate()
            load = h2load.parse(out, log.read_text())
            failed = failures_logged(gateway.log, log_start, scenario.rpc) if counted else -1
            print(
                f"| {scenario.name} | {in_flight} | {load.succeeded / load.seconds:.0f} "
                f"| {failed if failed >= 0 else 'not counted'} |"
            )
    changes = growth(samples)
    print(
        "\n| | after warm-up (median; counts: highest) | at the end (median; counts: lowest) |"
        "\n| --- | --- | --- |"
    )
    for name, (start, end) in changes.items():
        print(f"| {name} | {start:.1f} | {end:.1f} |")
    if any(s.tasks < 0 for s in samples):
        print("\nasyncio tasks: the probe did not answer; not measured")
    problems = verdict(changes)
    print("\n" + ("; ".join(problems) if problems else "flat: nothing grew"))
    return 1 if problems else 0


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--concurrency", type=int, default=32, help="calls in flight in all")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between samples")
    parser.add_argument(
        "--scenario", action="append", choices=list(canned.scenarios()), help="default: all"
    )
    parser.add_argument("--postgres", help="ledger on PostgreSQL (admin URL); default SQLite")
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it")
    args = parser.parse_args(argv)
    tools.require()
    with procs.workdir(args.keep, "fapiao-soak-") as workdir:
        sys.exit(soak(args, workdir))


if __name__ == "__main__":
    main()
