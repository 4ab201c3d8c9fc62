"""One event loop per test module, and a fresh in-process gateway per test."""

from collections.abc import Iterator

import pytest

from tests.api.harness import InProcessGateway, LoopThread


@pytest.fixture(scope="module")
def loop() -> Iterator[LoopThread]:
    running = LoopThread()
    yield running
    running.close()


@pytest.fixture
def gateway(loop: LoopThread) -> InProcessGateway:
    return InProcessGateway(loop)
