"""h2load (Debian's nghttp2-client) as the load generator: run it, read what it says.

gRPC over h2load: a POST over cleartext HTTP/2 with `content-type: application/grpc` and
`te: trailers`, the length-prefixed request as the body (-d). h2load counts HTTP 200s as
successes even when the grpc-status trailer says otherwise, so the caller checks what came
back by size: a failed gRPC call answers trailers only, with no data, while every successful
one carries a reply of known size (bench/gateway.py). Latency percentiles come from
--log-file (one line per request: start, status, microseconds to the end of the response).
"""

import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import procs

GRPC_HEADERS = ("content-type: application/grpc", "te: trailers")

_REQUESTS = re.compile(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded")
_TRAFFIC = re.compile(r"traffic: .*?\((\d+)\) total, .*?\((\d+)\) headers .*?\((\d+)\) data")
_FINISHED = re.compile(r"finished in ([\d.]+)(ms|s)")


@dataclass(frozen=True)
class Load:
    """What one h2load run saw."""

    seconds: float
    #: Responses with an HTTP status h2load calls success (2xx/3xx).
    succeeded: int
    #: Bytes of response bodies (DATA frames) over all responses.
    data_bytes: int
    #: Per-response latency in milliseconds, sorted (HTTP 200s only).
    latencies_ms: list[float]


def binary() -> str:
    found = procs.which("h2load")
    if found is None:
        raise RuntimeError("h2load is not installed: run scripts/install-bench-tools")
    return found


def command(
    url: str,
    *,
    body: Path,
    headers: Sequence[str],
    concurrency: int,
    seconds: float,
    log: Path,
    streams: int = 1,
    http1: bool = False,
) -> list[str]:
    """h2load POSTing `body` to `url` with `concurrency` calls in flight for `seconds`,
    one line per request into `log`."""
    log.unlink(missing_ok=True)  # h2load appends to it
    args = [
        binary(),
        f"--duration={round(seconds * 1000)}ms",
        f"--clients={max(1, concurrency // streams)}",
        f"--max-concurrent-streams={streams}",
        f"--data={body}",
        f"--log-file={log}",
        *(f"--header={header}" for header in headers),
    ]
    return [*args, "--h1", url] if http1 else [*args, url]


def run(
    url: str,
    *,
    body: Path,
    headers: Sequence[str],
    concurrency: int,
    seconds: float,
    workdir: Path,
    streams: int = 1,
    http1: bool = False,
) -> Load:
    """Runs command() to the end and reads what it saw."""
    log = workdir / "h2load-requests.tsv"
    args = command(
        url,
        body=body,
        headers=headers,
        concurrency=concurrency,
        seconds=seconds,
        log=log,
        streams=streams,
        http1=http1,
    )
    done = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 120)
    if done.returncode != 0:
        raise RuntimeError(f"h2load failed ({done.returncode}): {done.stdout}{done.stderr}")
    return parse(done.stdout, log.read_text())


def parse(output: str, request_log: str) -> Load:
    """A Load from h2load's summary and its per-request log."""
    requests, traffic, finished = (
        _REQUESTS.search(output),
        _TRAFFIC.search(output),
        _FINISHED.search(output),
    )
    if requests is None or traffic is None or finished is None:
        raise RuntimeError(f"cannot read h2load's summary:\n{output}")
    seconds = float(finished.group(1)) / (1000 if finished.group(2) == "ms" else 1)
    latencies = sorted(
        int(fields[2]) / 1000
        for fields in (line.split("\t") for line in request_log.splitlines())
        if len(fields) >= 3 and fields[1] == "200"
    )
    return Load(seconds, int(requests.group(4)), int(traffic.group(3)), latencies)
