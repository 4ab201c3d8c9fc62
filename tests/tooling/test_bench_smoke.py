"""The benchmark harness works: a one-second run of every target, and its check of gRPC
failures that h2load counts as HTTP successes. No figure is asserted: speed is the bench's."""

from pathlib import Path

import pytest

from bench import canned, gateway, gateway_process, h2load, ledger_seed, report, tools
from bench.upstream import nginx_upstream
from tests.tooling.bench_runs import run_bench

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        bool(tools.missing()),
        reason=f"benchmark tools: {tools.how_to_install(tools.missing())}",
    ),
]


def test_one_round_of_every_target_reports_calls_and_no_failures(tmp_path: Path) -> None:
    result = run_bench(
        "bench.gateway",
        *("--scenario", "GetInvoice", "--concurrency", "2", "--rounds", "1"),
        *("--seconds", "1", "--warmup", "0", "--workers", "0"),
        workdir=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| GetInvoice | 2 |")]
    servers = {row.split(" | ")[2] for row in rows}
    assert {report.GATEWAY, report.BARE, report.PROXY, report.DIRECT} <= servers, rows
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        if len(cells) == 11:  # a server's own row: calls/s, ..., failed, note
            assert float(cells[3]) > 0, row
            assert cells[9] == "0", row
            assert cells[10] == "", row


def test_calls_refused_by_grpc_status_count_as_failed(tmp_path: Path) -> None:
    scenario = canned.scenarios()["GetInvoice"]
    with (
        nginx_upstream(tmp_path / "nginx") as (upstream_url, _),
        ledger_seed.temp_database(tmp_path, None) as database,
        gateway_process.gateway(
            tmp_path / "gateway", upstream_url=upstream_url, database_url=database
        ) as server,
    ):
        assert gateway.log_counts_failures(server)
        reply = gateway.sample_replies(server, scenario)
        body = tmp_path / "request.grpc"
        body.write_bytes(scenario.grpc_frame())
        size = len(canned.grpc_frame(reply[0]))
        wrong_key = "fpk_000000000000_" + "0" * 64
        target = gateway.Target(
            report.GATEWAY,
            server.pid,
            f"http://{server.address}{scenario.method}",
            body,
            (*h2load.GRPC_HEADERS, f"authorization: Bearer {wrong_key}"),
            (size, size),
            log=server.log,
        )
        run = gateway.measure(
            target,
            concurrency=2,
            seconds=0.5,
            warmup=0,
            streams=1,
            workdir=tmp_path,
            count_logged=True,
        )
    assert run.calls == 0
    assert run.failed > 0
