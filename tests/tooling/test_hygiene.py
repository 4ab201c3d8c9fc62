"""What keeps the suite from leaving traces: each test's gateways write under its tmp_path
(the session-wide check itself is tests/support/hygiene.py)."""

import os
from pathlib import Path

from tests.conftest import gateway_settings
from tests.support import hygiene
from tests.support.processes import run


def test_a_test_gateway_keeps_its_ledger_in_the_tests_directory(tmp_path: Path) -> None:
    first, second = gateway_settings(), gateway_settings()
    for settings in (first, second):
        path = Path(settings.database_url.removeprefix("sqlite+aiosqlite:///"))
        assert path.is_relative_to(tmp_path)
    assert first.database_url != second.database_url


async def test_a_gateway_process_writes_its_default_ledger_in_the_tests_directory(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAPIAO_")}
    code, _, err = await run("migrate", env=env)
    assert code == 0, err
    assert (tmp_path / "var" / "fapiao-gateway.db").is_file()


def test_the_run_uses_a_private_temporary_directory_and_its_tree_check_sees_var(
    tmp_path: Path,
) -> None:
    # The controlling process pointed every temporary file of the run at its own directory.
    assert Path(os.environ["TMPDIR"]).name.startswith("fapiao-suite-")
    assert tmp_path.is_relative_to(os.environ["TMPDIR"])
    assert not [line for line in hygiene.working_tree() if "var/" in line]
