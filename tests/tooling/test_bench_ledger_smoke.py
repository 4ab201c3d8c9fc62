"""The ledger benchmark works end to end (bench/ledger_search.py): a tiny ledger, a few
imports and searches, concurrent imports, and nothing refused. Without it, a gateway change
that refused the benchmark's imports (issue 17's duplicate guard did) went unnoticed until
the next run. No figure is asserted: speed is the bench's. Needs no nginx or h2load."""

from pathlib import Path

import pytest

from tests.tooling.bench_runs import run_bench

pytestmark = pytest.mark.slow


def test_a_tiny_run_imports_searches_and_reports_no_failures(tmp_path: Path) -> None:
    result = run_bench(
        "bench.ledger_search",
        *("--backend", "sqlite", "--rows", "2000", "--queries", "2", "--imports", "3"),
        *("--seconds", "1", "--in-flight", "2"),
        workdir=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    rows = [line for line in result.stdout.splitlines() if line.startswith("| sqlite |")]
    assert len(rows) == 1, result.stdout
    cells = [cell.strip() for cell in rows[0].strip("|").split("|")]
    # backend, written in, empty p50, full p50, ratio, full p99, calls, failed, locked logged
    assert int(cells[6]) > 0, rows[0]
    assert cells[7] == "0", rows[0]
    assert cells[8] == "0", rows[0]
    searches = [line for line in result.stdout.splitlines() if line.startswith("| status = LOCK")]
    assert searches, result.stdout
