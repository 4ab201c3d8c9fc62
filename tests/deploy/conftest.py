"""Shared by the deployment tests: where the files are, and a configuration checked the way
`config check` checks it, with an environment of the test's choosing."""

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from fapiao_gateway.ops.config_check import load
from fapiao_gateway.ops.config_review import Finding, Level, review

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"

ReviewConfig = Callable[[str, dict[str, str]], list[Finding]]


def clean_environment() -> dict[str, str]:
    """This process's environment without the gateway's own settings (FAPIAO_TEST_* stay)."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("FAPIAO_") or name.startswith("FAPIAO_TEST_")
    }


@pytest.fixture
def review_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ReviewConfig:
    """Findings for a TOML file's text plus FAPIAO_* variables, loaded as `serve` loads them."""

    def check(toml: str, env: dict[str, str]) -> list[Finding]:
        for name in set(os.environ) - set(clean_environment()):
            monkeypatch.delenv(name)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        path = tmp_path / "gateway.toml"
        path.write_text(toml)
        return review(load(str(path)))

    return check


def problems(findings: list[Finding]) -> list[tuple[str, str]]:
    """(level, setting) of the errors and warnings: what an operator must look at."""
    return [(f.level.value, f.setting) for f in findings if f.level is not Level.NOTE]
