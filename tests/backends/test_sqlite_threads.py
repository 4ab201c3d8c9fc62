"""A file SQLite ledger runs each transaction whole in a thread (ledger/sqlite_threads.py):
writes commit or roll back as one, savepoints work, and work that waits on anything but its
connection is refused instead of blocking a ledger thread."""

from collections.abc import Generator
from pathlib import Path

import pytest
from fapiao_gateway.ledger.engine import Database, create_engine
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


async def _database(tmp_path: Path) -> Database:
    db = Database(create_engine(f"sqlite+aiosqlite:///{tmp_path}/ledger.db"))
    assert db.statement_engine is not db.engine, "a file database runs in threads"
    await db.write(lambda conn: conn.execute(text("CREATE TABLE t (n INTEGER PRIMARY KEY)")))
    return db


async def _count(db: Database) -> int:
    async def work(conn: AsyncConnection) -> int:
        return int((await conn.execute(text("SELECT count(*) FROM t"))).scalar_one())

    return await db.read(work)


async def test_a_write_that_fails_halfway_leaves_nothing(tmp_path: Path) -> None:
    db = await _database(tmp_path)

    async def half(conn: AsyncConnection) -> None:
        await conn.execute(text("INSERT INTO t (n) VALUES (1)"))
        raise ValueError("stop")

    with pytest.raises(ValueError, match="stop"):
        await db.write(half)
    assert await _count(db) == 0
    await db.close()


async def test_a_savepoint_undoes_only_its_own_statements(tmp_path: Path) -> None:
    db = await _database(tmp_path)

    async def work(conn: AsyncConnection) -> None:
        await conn.execute(text("INSERT INTO t (n) VALUES (1)"))
        try:
            async with conn.begin_nested():
                await conn.execute(text("INSERT INTO t (n) VALUES (2)"))
                raise LookupError("undo 2")
        except LookupError:
            pass

    await db.write(work)
    assert await _count(db) == 1
    await db.close()


async def test_work_that_waits_on_something_else_is_refused(tmp_path: Path) -> None:
    db = await _database(tmp_path)

    class Suspends:
        def __await__(self) -> Generator[None, None, None]:
            yield  # what awaiting a future or a sleep does

    async def sleepy(conn: AsyncConnection) -> None:
        await Suspends()

    with pytest.raises(RuntimeError, match="waited on something other than its connection"):
        await db.read(sleepy)
    await db.close()
