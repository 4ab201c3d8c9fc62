"""Real Redis (and, later, PostgreSQL) for the scale-out path; skipped with a hint when absent."""

import contextlib
import os
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from fapiao_gateway.bootstrap import Gateway, start_gateway
from fapiao_gateway.sandbox.app import Sandbox
from redis.asyncio import Redis

from tests.conftest import gateway_settings

REDIS_URL = os.environ.get("FAPIAO_TEST_REDIS_URL", "")
POSTGRES_URL = os.environ.get("FAPIAO_TEST_POSTGRES_URL", "")


@pytest.fixture
def redis_url() -> str:
    if not REDIS_URL:
        pytest.skip(
            "needs a real Redis: set FAPIAO_TEST_REDIS_URL=redis://127.0.0.1:6379/15 "
            "(.ci/run sets it) to run the shared-token tests"
        )
    return REDIS_URL


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def prefix() -> str:
    """A key prefix of this test's own, so tests and runs never share tokens."""
    return f"fapiao-test:{uuid.uuid4().hex}:"


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[str]:
    """A fresh, empty ledger database on each backend: a SQLite file, or a PostgreSQL
    database created for this test and dropped after it."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/ledger.db"
        return
    if not POSTGRES_URL:
        pytest.skip(
            "needs a real PostgreSQL: set FAPIAO_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test "
            "(.ci/run sets it) to run the ledger suite on PostgreSQL too"
        )
    async with postgres_database() as url:
        yield url


@contextlib.asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A PostgreSQL database of the running test's own (its SQLAlchemy URL), dropped after it."""
    admin = await asyncpg.connect(POSTGRES_URL)
    name = f"fapiao_test_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        base = POSTGRES_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        yield f"{base}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def gateway(sandbox: Sandbox, database_url: str) -> AsyncIterator[Gateway]:
    """A sandbox gateway whose ledger is `database_url` (so each test runs on both backends).
    The root conftest's `channel` and `stub` build on it."""
    running = await start_gateway(gateway_settings(database_url=database_url), sandbox=sandbox)
    yield running
    await running.stop(0)
