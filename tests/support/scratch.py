"""Where a test's gateways keep what they write: the test's own tmp_path.

Ledgers (SQLite files) and the working directories of gateway processes live under the
directory of the test that is running, which pytest removes (the suite keeps none:
tmp_path_retention_policy = "none"), so no test writes the working tree's var/ or leaves a
directory behind. conftest.py points `current` at each test's tmp_path.
"""

import itertools
from pathlib import Path

#: The running test's directory (set by conftest.py's autouse fixture).
current: Path | None = None
_serial = itertools.count(1)


def directory() -> Path:
    """The running test's scratch directory."""
    if current is None:
        raise RuntimeError("no test is running: scratch space exists only inside a test")
    return current


def ledger_url() -> str:
    """A new SQLite ledger of the running test (several gateways of one test each get one)."""
    path = directory() / f"ledger-{next(_serial)}" / "ledger.db"
    return f"sqlite+aiosqlite:///{path}"
