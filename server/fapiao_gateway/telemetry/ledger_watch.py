"""The ledger's metrics, taken from SQLAlchemy's own events and pool: how long each statement
takes, which fail, and how the connection pool is used. Nothing in ledger/ changes for it.

Statements are labelled by their first keyword only (select, insert, update, delete, begin,
other): never by their text, whose parameters could be anything.
"""

import time
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, event
from sqlalchemy.ext.asyncio import AsyncEngine

from fapiao_gateway.telemetry.metrics import GatewayMetrics

_KINDS = frozenset({"select", "insert", "update", "delete", "begin", "commit", "with", "pragma"})
_STARTED = "fapiao_statement_started"


def statement_kind(statement: str) -> str:
    """The statement's first keyword, if it is a known one; else "other"."""
    first = statement.lstrip(" \t\n(").split(None, 1)[0].lower() if statement.strip() else ""
    return first if first in _KINDS else "other"


def watch_ledger(engine: AsyncEngine | Engine, metrics: GatewayMetrics) -> None:
    """Times every statement of `engine` and exports its pool's state."""
    sync_engine = engine.sync_engine if isinstance(engine, AsyncEngine) else engine

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _before(
        _conn: Any, _cursor: Any, _statement: str, _params: Any, context: Any, _m: Any
    ) -> None:
        if context is not None:
            setattr(context, _STARTED, time.perf_counter())

    @event.listens_for(sync_engine, "after_cursor_execute")
    def _after(
        _conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _m: Any
    ) -> None:
        started = getattr(context, _STARTED, None)
        if started is not None:
            elapsed = time.perf_counter() - started
            metrics.ledger_queries.labels(statement_kind(statement)).observe(elapsed)

    @event.listens_for(sync_engine, "handle_error")
    def _failed(exception_context: Any) -> None:
        metrics.ledger_errors.labels(statement_kind(exception_context.statement or "")).inc()

    metrics.add_collector(PoolCollector(engine))


class PoolCollector(Collector):
    """fapiao_ledger_pool_connections{state}: the pool's connections in use, idle and beyond
    its size, read from the pool at scrape time (pools without counts export nothing)."""

    def __init__(self, engine: AsyncEngine | Engine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[Metric]:
        pool: Any = self._engine.pool
        family = GaugeMetricFamily(
            "fapiao_ledger_pool_connections",
            "Ledger database connections of this process, by state (in_use, idle, overflow).",
            labels=["state"],
        )
        counts = {"in_use": "checkedout", "idle": "checkedin", "overflow": "overflow"}
        for state, method in counts.items():
            read = getattr(pool, method, None)
            if callable(read):
                family.add_metric([state], max(0, int(read())))
        yield family
