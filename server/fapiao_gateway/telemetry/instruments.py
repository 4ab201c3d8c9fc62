"""The telemetry one gateway runs with, made from its settings: its metrics registry, its
tracer provider (when tracing is on), per-account health; and what the composition root plugs
in from it (the upstream observer, the ledger's watch, the call listeners, the interceptors,
the /metrics route). Commands that run the gateway's parts without serving (recover, audit)
use `Telemetry.off()`: nothing is counted or traced there.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import grpc
from grpc_health.v1._async import HealthServicer
from opentelemetry.sdk.trace.export import SpanExporter
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.routing import BaseRoute

from fapiao_gateway.api.calls import CallFacts
from fapiao_gateway.config import Settings
from fapiao_gateway.telemetry.account_health import AccountHealth
from fapiao_gateway.telemetry.ledger_watch import watch_ledger
from fapiao_gateway.telemetry.metrics import GatewayMetrics, metrics_routes
from fapiao_gateway.telemetry.tracing import Tracing, start_tracing
from fapiao_gateway.telemetry.upstream_watch import UpstreamWatch
from fapiao_gateway.wechat.accounts import Account
from fapiao_gateway.wechat.observer import NoObserver, UpstreamObserver


@dataclass
class Telemetry:
    """Metrics (None: off), tracing (None: off) and per-account health of one gateway."""

    metrics: GatewayMetrics | None
    tracing: Tracing | None
    serve_metrics: bool = False
    accounts: AccountHealth | None = field(default=None, init=False)

    @classmethod
    def for_gateway(cls, settings: Settings, span_exporter: SpanExporter | None) -> "Telemetry":
        tracing = start_tracing(
            otlp_endpoint=settings.tracing.otlp_endpoint,
            service_name=settings.tracing.service_name,
            sample_ratio=settings.tracing.sample_ratio,
            exporter=span_exporter,
        )
        return cls(GatewayMetrics(), tracing, serve_metrics=settings.metrics.enabled)

    @classmethod
    def off(cls) -> "Telemetry":
        return cls(None, None)

    def upstream_observer(self, accounts: Iterable[Account]) -> UpstreamObserver:
        """What the upstream reports to: metrics, logs and per-account health."""
        if self.metrics is None:
            return NoObserver()
        self.accounts = AccountHealth({a.appid: a.alias or a.appid for a in accounts}, self.metrics)
        return UpstreamWatch(self.metrics, self.accounts)

    def watch_ledger(self, engine: AsyncEngine | Engine) -> None:
        if self.metrics is not None:
            watch_ledger(engine, self.metrics)
        if self.tracing is not None:
            self.tracing.instrument_engine(engine)

    def call_listeners(self) -> list[Callable[[CallFacts], None]]:
        return [] if self.metrics is None else [self.metrics.call_finished]

    def outer_interceptors(self) -> list["grpc.aio.ServerInterceptor[Any, Any]"]:
        """The tracing interceptor, outermost, so a call's span holds everything it does."""
        return [] if self.tracing is None else [self.tracing.server_interceptor()]

    def routes(self) -> list[BaseRoute]:
        if self.metrics is None or not self.serve_metrics:
            return []
        return metrics_routes(self.metrics.registry)

    async def publish_health(self, health: HealthServicer) -> None:
        """Per-account statuses in the gRPC health service, from now on."""
        if self.accounts is not None:
            await self.accounts.attach(health)

    async def aclose(self) -> None:
        if self.accounts is not None:
            await self.accounts.aclose()
        if self.tracing is not None:
            await self.tracing.aclose()
