"""The repository's own checks: the contract lints, the clients are fresh, the code is clean."""

import filecmp
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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


#: Every directory `scripts/generate` writes (each a generator's `out`, emptied before writing).
GENERATED = [
    "clients/python/generated",
    "clients/typescript/src/gen",
    "clients/typescript/src/googleapis",
    "clients/go/fapiao",
    "clients/java/src/generated",
    "clients/java/src/googleapis",
]


def _differences(left: Path, right: Path) -> list[str]:
    compared = filecmp.dircmp(left, right, ignore=["__pycache__"])
    found = [f"only committed: {n}" for n in compared.left_only]
    found += [f"only generated: {n}" for n in compared.right_only]
    found += [f"differs: {n}" for n in compared.diff_files]
    for name in compared.subdirs:
        found += [f"{name}/{d}" for d in _differences(left / name, right / name)]
    return found


def test_committed_clients_match_a_fresh_generation(tmp_path: Path) -> None:
    missing = run(ROOT / "scripts" / "install-debian-packages", "--check")
    if missing.returncode != 0:
        pytest.skip(
            f"cannot regenerate the Go and Java clients: {missing.stdout.strip()} "
            "(run scripts/install-debian-packages as root; `make setup` does)"
        )
    result = run(ROOT / "scripts" / "generate", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    stale = {d: _differences(ROOT / d, tmp_path / d) for d in GENERATED}
    stale = {d: found for d, found in stale.items() if found}
    assert not stale, f"generated code is stale; run `make generate`: {stale}"


#: The released contracts, as committed images, with the FILE rules each one predates. v0.1.0
#: had no language options, so no Go, Java, C#, PHP or Ruby code was ever generated from it:
#: adding them changed no caller's code. Against later releases every FILE rule applies.
RELEASES = {
    "v0.1.0": [
        "FILE_SAME_CSHARP_NAMESPACE",
        "FILE_SAME_GO_PACKAGE",
        "FILE_SAME_JAVA_MULTIPLE_FILES",
        "FILE_SAME_JAVA_OUTER_CLASSNAME",
        "FILE_SAME_JAVA_PACKAGE",
        "FILE_SAME_PHP_NAMESPACE",
        "FILE_SAME_RUBY_PACKAGE",
    ],
}


def test_every_committed_release_is_checked() -> None:
    committed = {p.stem for p in (ROOT / "releases").glob("*.json")}
    assert committed == set(RELEASES)


@pytest.mark.parametrize("release", sorted(RELEASES))
def test_contract_has_no_breaking_change_since(release: str) -> None:
    config = {
        "version": "v2",
        "modules": [{"path": "proto"}],
        "breaking": {"use": ["FILE"], "except": RELEASES[release]},
    }
    result = run(
        BUF, "breaking", "--against", f"releases/{release}.json", "--config", json.dumps(config)
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_lint() -> None:
    result = run(BIN / "ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = run(BIN / "ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict() -> None:
    result = run(BIN / "mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_go_client_is_gofmt_clean() -> None:
    gofmt = shutil.which("gofmt")
    if gofmt is None:
        pytest.skip("gofmt is missing: run scripts/install-debian-packages (make setup does)")
    result = run(gofmt, "-l", "clients/go")
    assert result.returncode == 0 and not result.stdout, f"gofmt -w these: {result.stdout}"
