"""Running a benchmark module as `make bench` would, for the smoke tests."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_bench(module: str, *options: str, workdir: Path) -> "subprocess.CompletedProcess[str]":
    """`python -m <module> <options> --keep <workdir>` from the repository's root."""
    return subprocess.run(
        [sys.executable, "-m", module, *options, "--keep", str(workdir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
