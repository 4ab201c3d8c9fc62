"""The benchmark's results: runs, ratios against the baselines, markdown tables.

Ratios are taken round by round (the gateway's run over the baseline's run of the same
round), then shown as the median over rounds with the range in brackets.
"""

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

GATEWAY, BARE, PROXY, DIRECT, WORKERS = (
    "gateway",
    "(a) bare grpc.aio",
    "(b) grpc.aio + aiohttp proxy",
    "(c) direct HTTP",
    "gateway, {n} workers",
)
DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench.gateway: begin -->", "<!-- bench.gateway: end -->"


@dataclass(frozen=True)
class Run:
    """One measured run of one target."""

    calls: int
    failed: int
    seconds: float
    latencies_ms: list[float]
    cpu_seconds: float
    peak_mib: float
    problem: str = ""

    @property
    def rate(self) -> float:
        return self.calls / self.seconds if self.seconds else 0.0

    def percentile(self, q: int) -> float:
        if not self.latencies_ms:
            return float("nan")
        index = min(len(self.latencies_ms) - 1, round(q / 100 * len(self.latencies_ms)) - 1)
        return self.latencies_ms[max(0, index)]

    @property
    def cpu_ms_per_call(self) -> float:
        return 1000 * self.cpu_seconds / self.calls if self.calls else float("nan")


@dataclass
class Results:
    """Runs by (scenario, concurrency, target), one per round."""

    runs: dict[tuple[str, int, str], list[Run]] = field(default_factory=dict)

    def add(self, scenario: str, concurrency: int, target: str, run: Run) -> None:
        self.runs.setdefault((scenario, concurrency, target), []).append(run)


def _number(value: float, digits: int) -> str:
    """`digits` decimals, or two significant digits for small ratios (0.0042, not 0.00)."""
    return f"{value:.2g}" if digits and 0 < abs(value) < 0.1 else f"{value:.{digits}f}"


def _median(values: Sequence[float]) -> float:
    """The median of the values that are numbers (a run without calls has no latency)."""
    numbers = [v for v in values if v == v]
    return statistics.median(numbers) if numbers else float("nan")


def _spread(values: Sequence[float], digits: int = 2) -> str:
    """The median, and the range over rounds when there are several."""
    values = [v for v in values if v == v]  # drop NaN
    if not values:
        return "–"
    median = _number(statistics.median(values), digits)
    if len(values) == 1 or min(values) == max(values):
        return median
    return f"{median} ({_number(min(values), digits)}–{_number(max(values), digits)})"


def _ratios(ours: list[Run], theirs: list[Run] | None, measure: str) -> list[float]:
    """Round by round: our value over theirs."""
    if not theirs:
        return []
    pairs = zip(ours, theirs, strict=False)
    if measure == "rate":
        return [a.rate / b.rate for a, b in pairs if b.rate]
    if measure == "p50":
        return [a.percentile(50) / b.percentile(50) for a, b in pairs if b.percentile(50)]
    if measure == "cpu":
        return [a.cpu_ms_per_call / b.cpu_ms_per_call for a, b in pairs if b.cpu_ms_per_call]
    return [a.peak_mib / b.peak_mib for a, b in pairs if b.peak_mib]


def summary_table(results: Results) -> str:
    """The gateway against the baselines: ratios, median (range) over rounds."""
    lines = [
        "| RPC | in flight | gateway calls/s | ÷ (a) | ÷ (b) | gateway p50 / p90 / p99 ms "
        "| p50 ÷ (b) | p50 − (c) ms | CPU ms/call | ÷ (b) | peak MiB | ÷ (b) | failed |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for (scenario, concurrency, name), ours in results.runs.items():
        if name != GATEWAY:
            continue

        def runs(target: str) -> list[Run] | None:
            return results.runs.get((scenario, concurrency, target))  # noqa: B023

        direct = runs(DIRECT)
        added = (
            [a.percentile(50) - c.percentile(50) for a, c in zip(ours, direct, strict=False)]
            if direct
            else []
        )
        p = [_median([r.percentile(q) for r in ours]) for q in (50, 90, 99)]
        lines.append(
            f"| {scenario} | {concurrency} | {_spread([r.rate for r in ours], 0)} "
            f"| {_spread(_ratios(ours, runs(BARE), 'rate'))} "
            f"| {_spread(_ratios(ours, runs(PROXY), 'rate'))} "
            f"| {p[0]:.2f} / {p[1]:.2f} / {p[2]:.2f} "
            f"| {_spread(_ratios(ours, runs(PROXY), 'p50'))} "
            f"| {_spread(added)} "
            f"| {_spread([r.cpu_ms_per_call for r in ours])} "
            f"| {_spread(_ratios(ours, runs(PROXY), 'cpu'))} "
            f"| {_spread([r.peak_mib for r in ours], 0)} "
            f"| {_spread(_ratios(ours, runs(PROXY), 'peak'))} "
            f"| {sum(r.failed for r in ours)} |"
        )
    return "\n".join(lines)


def workers_table(results: Results) -> str:
    lines = [
        "| RPC | in flight | workers | calls/s | ÷ one worker |",
        "| --- | --- | --- | --- | --- |",
    ]
    for (scenario, concurrency, name), theirs in results.runs.items():
        if name.startswith("gateway,"):
            ours = results.runs[(scenario, concurrency, GATEWAY)]
            lines.append(
                f"| {scenario} | {concurrency} | {name.split()[1]} "
                f"| {_spread([r.rate for r in theirs], 0)} "
                f"| {_spread(_ratios(theirs, ours, 'rate'))} |"
            )
    return "\n".join(lines) if len(lines) > 2 else ""


def detail_table(results: Results) -> str:
    """Every target's own figures, medians over rounds."""
    lines = [
        "| RPC | in flight | server | calls/s | p50 ms | p90 ms | p99 ms | CPU ms/call "
        "| peak MiB | failed | note |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for (scenario, concurrency, name), runs in results.runs.items():
        notes = sorted({r.problem for r in runs if r.problem})
        lines.append(
            f"| {scenario} | {concurrency} | {name} | {_spread([r.rate for r in runs], 0)} "
            + " | ".join(
                f"{_median([r.percentile(q) for r in runs]):.2f}" for q in (50, 90, 99)
            ).join(["| ", " "])
            + f"| {_median([r.cpu_ms_per_call for r in runs]):.2f} "
            f"| {statistics.median(r.peak_mib for r in runs):.0f} "
            f"| {sum(r.failed for r in runs)} | {'; '.join(notes)} |"
        )
    return "\n".join(lines)


def report(results: Results, *, command: str, setup: str) -> str:
    workers = workers_table(results)
    return "\n\n".join(
        part
        for part in [
            f"```sh\n{command}\n```",
            setup,
            "The gateway against the baselines (median over rounds, range in brackets):",
            summary_table(results),
            "Two workers against one, same rounds:" if workers else "",
            workers,
            "Every server's own figures (medians over rounds):",
            detail_table(results),
        ]
        if part
    )


def write_docs(text: str, docs: Path = DOCS) -> None:
    """Replaces what is between the bench.gateway markers in docs/benchmarks.md."""
    page = docs.read_text()
    if BEGIN not in page or END not in page:
        raise SystemExit(f"bench: {docs} has no {BEGIN} ... {END} section to replace")
    head, rest = page.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    docs.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")
