"""Real Redis (and, later, PostgreSQL) for the scale-out path; skipped with a hint when absent."""

import os
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

REDIS_URL = os.environ.get("FAPIAO_TEST_REDIS_URL", "")


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
