"""How many workers `serve` runs, and why not more."""

from pathlib import Path

import pytest
from fapiao_gateway.config import Settings
from fapiao_gateway.workers import (
    WorkersRefused,
    available_cores,
    metrics_directory,
    worker_count,
)

FILE = "sqlite+aiosqlite:///var/ledger.db"


def settings(**values: object) -> Settings:
    return Settings.model_validate({"database_url": FILE, **values})


@pytest.mark.parametrize(
    ("cpu_max", "expected"),
    [("max 100000\n", None), ("200000 100000\n", 2), ("50000 100000\n", 1), ("garbage", None)],
)
def test_a_container_quota_caps_the_cores(
    tmp_path: Path, cpu_max: str, expected: int | None
) -> None:
    limit = tmp_path / "cpu.max"
    limit.write_text(cpu_max)
    unlimited = available_cores(tmp_path / "absent")
    assert available_cores(limit) == min(unlimited, expected or unlimited)


def test_one_per_core_by_default_and_one_in_sandbox_mode() -> None:
    assert worker_count(settings(), None) == available_cores()
    assert worker_count(settings(sandbox=True), None) == 1
    assert worker_count(settings(), 3) == 3
    assert worker_count(settings(workers=5), None) == 5
    assert worker_count(settings(workers=5), 1) == 1  # the command line wins


@pytest.mark.parametrize(
    ("values", "why"),
    [
        ({"sandbox": True}, "sandbox mode"),
        ({"database_url": "sqlite+aiosqlite:///:memory:"}, "in-memory SQLite"),
        ({"database_url": "sqlite+aiosqlite://"}, "in-memory SQLite"),
        (
            {"accounts": [{"appid": "wx1", "secret": "s", "token_endpoint": "classic"}]},
            "wx1 get tokens",
        ),
    ],
)
def test_what_cannot_be_shared_is_refused_when_asked_and_avoided_by_default(
    values: dict[str, object], why: str, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(WorkersRefused, match=why):
        worker_count(settings(**values), 2)
    caplog.set_level("INFO")
    assert worker_count(settings(**values), None) == 1


def test_redis_lets_rotating_tokens_be_shared() -> None:
    classic = [{"appid": "wx1", "secret": "s", "token_endpoint": "classic"}]
    assert worker_count(settings(accounts=classic, token_store="redis"), 2) == 2
    stable = [{"appid": "wx1", "secret": "s"}]
    assert worker_count(settings(accounts=stable), 2) == 2


def test_the_metrics_directory_is_made_and_removed_or_the_operators_kept(tmp_path: Path) -> None:
    with metrics_directory({}) as made:
        assert Path(made).is_dir() and Path(made).name.startswith("fapiao-metrics-")
    assert not Path(made).exists()
    given = tmp_path / "metrics"
    given.mkdir()
    with metrics_directory({"PROMETHEUS_MULTIPROC_DIR": str(given)}) as used:
        assert used == str(given)
    assert given.is_dir()
