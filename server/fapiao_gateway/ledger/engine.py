"""Connecting to the ledger's database, and bringing its schema to the latest migration.

SQLite runs in WAL mode (readers never wait for the writer) with a busy timeout, so the
embedded default copes with concurrent calls; PostgreSQL needs nothing special. Migrations
run at start (and via `fapiao-gateway migrate`); on PostgreSQL an advisory lock keeps
replicas that start together from migrating twice.
"""

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

#: Any fixed number: the PostgreSQL advisory lock migrations take.
_MIGRATION_LOCK = 7_245_001


def create_engine(url: str) -> AsyncEngine:
    """An async engine for `url` (sqlite+aiosqlite:///path or postgresql+asyncpg://...)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def migrate(engine: AsyncEngine) -> None:
    """Upgrades the database to the newest migration (a no-op when it is there already)."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)
