"""The repository's own checks: the contract lints, the clients are fresh, the code is clean."""

import filecmp
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUF = ROOT / "node_modules" / ".bin" / "buf"
BIN = Path(sys.executable).parent


def run(*command: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(c) for c in command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_buf_lint_passes() -> None:
    result = run(BUF, "lint")
    assert result.returncode == 0, result.stdout + result.stderr


def test_buf_format_is_clean() -> None:
    result = run(BUF, "format", "--diff", "--exit-code")
    assert result.returncode == 0, result.stdout + result.stderr


def _differences(left: Path, right: Path) -> list[str]:
    compared = filecmp.dircmp(left, right, ignore=["__pycache__"])
    # The editable install's metadata lives beside the code; it is build output, not code.
    found = [f"only committed: {n}" for n in compared.left_only if not n.endswith(".egg-info")]
    found += [f"only generated: {n}" for n in compared.right_only]
    found += [f"differs: {n}" for n in compared.diff_files]
    for name in compared.subdirs:
        found += [f"{name}/{d}" for d in _differences(left / name, right / name)]
    return found


def test_committed_python_client_matches_a_fresh_generation(tmp_path: Path) -> None:
    result = run(ROOT / "scripts" / "generate", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    stale = _differences(ROOT / "clients/python/src", tmp_path / "clients/python/src")
    assert not stale, f"clients/python is stale; run `make generate`: {stale}"


def test_ruff_lint() -> None:
    result = run(BIN / "ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = run(BIN / "ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict() -> None:
    result = run(BIN / "mypy")
    assert result.returncode == 0, result.stdout + result.stderr
