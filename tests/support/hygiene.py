"""The suite leaves no trace: a plugin (tests/conftest.py loads it) that checks it.

At the start of a run (in the controlling process, before pytest-xdist starts its workers)
every temporary file of the run is sent to a private directory: TMPDIR, pytest's own temporary
root and Python's tempfile all point there, and the workers and the processes tests start
inherit it. At the end the run fails if

- the working tree changed: `git status --porcelain --ignored` differs from before, caches
  aside (a test wrote var/fapiao-gateway.db, or any other file), or
- the project's own code left something in the temporary directory (an entry named
  fapiao-*: the gateway's and the tests' prefixes),

and then the private directory is removed, so the machine's temporary directory is as it was.
"""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Ignored paths whose contents tools rewrite on every run: not the suite's doing.
_CACHES = (
    ".venv/",
    "node_modules/",
    ".cache/",
    ".pytest_cache/",
    ".mypy_cache/",
    ".ruff_cache/",
    ".hypothesis/",
    "__pycache__/",
    ".egg-info/",
)
#: Names the project's code and tests give their temporary files.
_OWN_PREFIX = "fapiao"

_private: Path | None = None
_tree_before: list[str] | None = None


def _controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")


def working_tree() -> list[str]:
    """The working tree's changed, untracked and ignored paths, caches aside."""
    try:
        listing = subprocess.run(
            ["git", "status", "--porcelain", "--ignored", "--untracked-files=all"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return []  # not a git checkout (e.g. an unpacked archive): nothing to compare
    return sorted(
        line for line in listing.splitlines() if not any(cache in line for cache in _CACHES)
    )


def own_leftovers(directory: Path) -> list[str]:
    """What the project's code left in `directory` (pytest's own tree aside)."""
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(_OWN_PREFIX))


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    global _private, _tree_before
    if not _controller(session.config):
        return
    _tree_before = working_tree()
    _private = Path(tempfile.mkdtemp(prefix="fapiao-suite-"))
    os.environ["TMPDIR"] = str(_private)
    os.environ["PYTEST_DEBUG_TEMPROOT"] = str(_private)
    tempfile.tempdir = str(_private)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    if not _controller(session.config) or _private is None or _tree_before is None:
        return
    problems: list[str] = []
    tree_after = working_tree()
    if tree_after != _tree_before:
        added = sorted(set(tree_after) - set(_tree_before))
        gone = sorted(set(_tree_before) - set(tree_after))
        problems.append(f"the working tree changed: now {added}, no longer {gone}")
    leftovers = own_leftovers(_private)
    if leftovers:
        problems.append(f"left in the temporary directory: {leftovers}")
    if problems:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        for problem in problems:
            if reporter is not None:
                reporter.ensure_newline()
                reporter.write_line(f"hygiene: {problem}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_unconfigure(config: pytest.Config) -> None:
    if _controller(config) and _private is not None:
        shutil.rmtree(_private, ignore_errors=True)
