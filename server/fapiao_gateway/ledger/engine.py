"""Connecting to the ledger's database, the two kinds of transaction the ledger uses, and
bringing the schema to the latest migration.

- SQLite (the embedded default) runs in WAL mode (readers never wait for the writer). Write
  transactions start with BEGIN IMMEDIATE, so writers queue for SQLite's one write lock up
  front (within the busy timeout) instead of failing "database is locked" halfway; in one
  process they also queue on an asyncio lock, so waiting costs no thread. A file database's
  transactions run whole in a thread each (ledger/sqlite_threads.py), not a statement at a
  time through aiosqlite.
- PostgreSQL gets connect, statement and lock timeouts, so a hung database ends a call as
  UNAVAILABLE instead of hanging it; row locks (SELECT ... FOR UPDATE) serialise what must be.
- Every transaction runs as its own task, shielded from the caller's cancellation: a call
  cancelled halfway (deadline, shutdown) never leaves a transaction or an aiosqlite thread
  behind, and `close` waits for the ones under way before the engine is disposed.
- Migrations run at start (and via `fapiao-gateway migrate`); on PostgreSQL an advisory lock
  keeps replicas that start together from migrating twice.
"""

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from fapiao_gateway.ledger.errors import ledger_errors
from fapiao_gateway.ledger.sqlite_threads import SqliteThreads

log = logging.getLogger("fapiao_gateway.ledger")

T = TypeVar("T")

#: Any fixed number: the PostgreSQL advisory lock migrations take.
_MIGRATION_LOCK = 7_245_001
#: The execution option that makes a SQLite transaction start with BEGIN IMMEDIATE.
_IMMEDIATE = "fapiao_begin_immediate"
#: File SQLite engines made by create_engine: how Database makes their threads' engine.
_SQLITE_FILES: "weakref.WeakKeyDictionary[Engine, tuple[int, float, int]]" = (
    weakref.WeakKeyDictionary()
)


@dataclass(frozen=True, slots=True)
class DatabaseTimeouts:
    """How long the ledger waits for its database before a call is UNAVAILABLE."""

    connect_seconds: float = 5.0
    statement_seconds: float = 10.0
    #: Waiting for a pooled connection (PostgreSQL) or SQLite's write lock.
    pool_seconds: float = 5.0


@dataclass(frozen=True, slots=True)
class PoolSettings:
    """The connection pool (per process): `size` connections kept open; PostgreSQL opens up
    to `max_overflow` more under a burst, SQLite none."""

    size: int = 10
    max_overflow: int = 10


def create_engine(
    url: str, timeouts: DatabaseTimeouts = DatabaseTimeouts(), pool: PoolSettings = PoolSettings()
) -> AsyncEngine:
    """An async engine for `url` (sqlite+aiosqlite:///path or postgresql+asyncpg://...)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        in_memory = not parsed.database or parsed.database == ":memory:"
        if not in_memory:
            Path(str(parsed.database)).parent.mkdir(parents=True, exist_ok=True)
        # An in-memory database is one shared connection (StaticPool): nothing to wait for.
        # A file keeps `pool.size` connections open and opens no more: each aiosqlite
        # connection is a thread, and opening and closing them under load cost more than
        # the queries (issue 12); a call waits for a free one instead (pool_timeout).
        pooling: dict[str, Any] = (
            {}
            if in_memory
            else {
                "pool_size": pool.size,
                "max_overflow": 0,
                "pool_timeout": timeouts.pool_seconds,
            }
        )
        engine = create_async_engine(url, **pooling)
        busy_ms = int(timeouts.pool_seconds * 1000)
        _sqlite_hooks(engine.sync_engine, busy_ms)
        if not in_memory:
            _SQLITE_FILES[engine.sync_engine] = (pool.size, timeouts.pool_seconds, busy_ms)
        return engine
    statement_ms = int(timeouts.statement_seconds * 1000)
    return create_async_engine(
        url,
        pool_size=pool.size,
        max_overflow=pool.max_overflow,
        pool_timeout=timeouts.pool_seconds,
        pool_pre_ping=True,
        connect_args={
            "timeout": timeouts.connect_seconds,
            "command_timeout": timeouts.statement_seconds,
            "server_settings": {
                "statement_timeout": str(statement_ms),
                "lock_timeout": str(statement_ms),
                "idle_in_transaction_session_timeout": str(statement_ms * 3),
            },
        },
    )


def _sqlite_hooks(engine: Engine, busy_ms: int) -> None:
    """WAL, the busy timeout and foreign keys on every connection; BEGIN IMMEDIATE for
    writes."""

    @event.listens_for(engine, "connect")
    def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let the "begin" hook below emit BEGIN itself (pysqlite's own is always DEFERRED).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """The ledger's engine and its transactions; every ledger module goes through this."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._writer = asyncio.Lock() if self.is_sqlite else None
        self._running: set[asyncio.Task[Any]] = set()
        self._threads: SqliteThreads | None = None
        file = _SQLITE_FILES.get(engine.sync_engine)
        if file is not None:
            size, pool_seconds, busy_ms = file
            self._threads = SqliteThreads(
                engine.url,
                size=size,
                pool_seconds=pool_seconds,
                install_hooks=lambda sync: _sqlite_hooks(sync, busy_ms),
            )

    @property
    def statement_engine(self) -> AsyncEngine | Engine:
        """The engine the transactions' statements run on (for metrics and traces)."""
        return self._threads.engine if self._threads is not None else self.engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def read(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Runs `work` in a read transaction."""
        return await self._shielded(self._read(work))

    async def write(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Runs `work` in a write transaction, committed when it returns normally."""
        return await self._shielded(self._write(work))

    async def ping(self) -> None:
        """One round trip to the database (SELECT 1), for the readiness probe;
        LedgerUnavailable when it does not answer."""
        await self.read(lambda conn: conn.execute(text("SELECT 1")))

    async def _read(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        with ledger_errors():
            if self._threads is not None:
                return await self._threads.read(work)
            async with self.engine.connect() as conn:
                return await work(conn)

    async def _write(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        with ledger_errors():
            if self._threads is not None:
                async with self._writer_turn():
                    return await self._threads.write(work, {_IMMEDIATE: True})
            async with self._writer_turn(), self.engine.connect() as conn:
                if self.is_sqlite:
                    conn = await conn.execution_options(**{_IMMEDIATE: True})
                async with conn.begin():
                    return await work(conn)

    @contextlib.asynccontextmanager
    async def _writer_turn(self) -> AsyncIterator[None]:
        if self._writer is None:
            yield
            return
        async with self._writer:
            yield

    async def _shielded(self, work: Awaitable[T]) -> T:
        task: asyncio.Task[T] = asyncio.ensure_future(work)
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return await asyncio.shield(task)

    async def close(self, timeout: float = 10.0) -> None:
        """Waits (up to `timeout`) for transactions under way, then closes every connection."""
        if self._running:
            _done, pending = await asyncio.wait(set(self._running), timeout=timeout)
            for task in pending:
                task.cancel()
            if pending:
                log.warning("closing the ledger with %d transaction(s) unfinished", len(pending))
        for task in list(self._running):
            with contextlib.suppress(BaseException):
                await task
        if self._threads is not None:
            await asyncio.to_thread(self._threads.close)
        await self.engine.dispose()


def _upgrade(connection: Connection, revision: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def migrate(engine: AsyncEngine, revision: str = "head") -> None:
    """Upgrades the database to the newest migration (a no-op when it is there already), or
    to `revision` (tests build the schemas of earlier releases with it)."""
    with ledger_errors():
        async with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                connection = await connection.execution_options(**{_IMMEDIATE: True})
            async with connection.begin():
                await connection.run_sync(_upgrade, revision)
