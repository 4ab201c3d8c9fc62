"""Traces with OpenTelemetry: one trace from the caller through the gateway to WeChat and the
ledger, exported over OTLP when `tracing.otlp_endpoint` is set (off by default).

The instrumentation libraries do the work, each given this gateway's tracer provider rather
than a process-wide one (tests run several gateways in one process):
- gRPC server: opentelemetry-instrumentation-grpc's aio interceptor (the outermost), which
  continues the caller's trace from its traceparent header. Health checks and reflection are
  left out: probes every few seconds would drown the traces that matter.
- WeChat: one CLIENT span per HTTP request, made at the adapter's own seam (TracedTransport
  around wechat.transport.Transport), so every HTTP client is traced the same way: httptools
  (the default), aiohttp, httpx and the in-process sandbox.
- The ledger: the SQLAlchemy instrumentation's EngineTracer on the engine (its instrument()
  patches create_engine process-wide, and only once per process: not what several gateways
  in one process need). Statement texts are recorded, never their parameters.
WeChat URLs carry ?access_token= (and /cgi-bin/token the app secret) in the request's
parameters, which a span never records (nor a query a URL might carry): a trace never holds a
credential.

Traces start at calls: a span without a parent is kept only if it is a call's server span
(sampled at `sample_ratio`), or continues a caller's sampled trace. Background work
(migrations, the readiness probe's SELECT 1 every few seconds, recovery, reconciliation) is
not traced: it would be a stream of one-span traces; its metrics and log lines cover it.
"""

import asyncio
from collections.abc import Sequence
from importlib.metadata import version
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import grpc
from opentelemetry.instrumentation.grpc import aio_server_interceptor
from opentelemetry.instrumentation.grpc.filters import any_of, negate, service_prefix
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.sdk.trace.sampling import (
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
    TraceIdRatioBased,
)
from opentelemetry.trace import Link, SpanKind, Status, StatusCode, Tracer
from opentelemetry.util.types import Attributes
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from fapiao_gateway.wechat.transport import HttpReply, HttpRequest, Transport, TransportError


def without_query(url: str) -> str:
    """`url` without its query and fragment (where WeChat's credentials travel)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query="", fragment=""))


class TracedTransport:
    """A Transport whose every request is a CLIENT span (OpenTelemetry HTTP conventions)."""

    def __init__(self, inner: Transport, tracer: Tracer) -> None:
        self._inner = inner
        self._tracer = tracer

    async def send(self, request: HttpRequest, *, timeout: float) -> HttpReply:
        url = without_query(request.url)
        attributes = {
            "http.request.method": request.method,
            "url.full": url,
            "server.address": urlsplit(url).hostname or "",
        }
        with self._tracer.start_as_current_span(
            request.method, kind=SpanKind.CLIENT, attributes=attributes
        ) as span:
            try:
                reply = await self._inner.send(request, timeout=timeout)
            except TransportError as failure:
                span.set_attribute("error.type", "timeout" if failure.timed_out else "transport")
                span.set_status(Status(StatusCode.ERROR, str(failure)))
                raise
            span.set_attribute("http.response.status_code", reply.status)
            if reply.status >= 500:
                span.set_status(Status(StatusCode.ERROR))
            return reply

    async def aclose(self) -> None:
        await self._inner.aclose()


class CallsOnly(Sampler):
    """Samples the root spans of calls (SERVER spans) at a ratio, and no other root span."""

    def __init__(self, ratio: float) -> None:
        self._calls = TraceIdRatioBased(ratio)

    def should_sample(
        self,
        parent_context: Any,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: Any = None,
    ) -> SamplingResult:
        if kind is SpanKind.SERVER:
            return self._calls.should_sample(
                parent_context, trace_id, name, kind, attributes, links, trace_state
            )
        return SamplingResult(Decision.DROP)

    def get_description(self) -> str:
        return f"CallsOnly{{{self._calls.get_description()}}}"


class Tracing:
    """This gateway's tracer provider and the instrumentation it feeds."""

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider

    def server_interceptor(self) -> "grpc.aio.ServerInterceptor[Any, Any]":
        quiet = any_of(service_prefix("grpc.health."), service_prefix("grpc.reflection."))
        return aio_server_interceptor(tracer_provider=self.provider, filter_=negate(quiet))  # type: ignore[no-untyped-call,no-any-return]

    def traced(self, transport: Transport) -> Transport:
        """`transport` with a span per request."""
        return TracedTransport(transport, self.provider.get_tracer("fapiao_gateway.wechat"))

    def instrument_engine(self, engine: AsyncEngine | Engine) -> None:
        tracer = self.provider.get_tracer("opentelemetry.instrumentation.sqlalchemy")
        usage = NoOpMeterProvider().get_meter(__name__).create_up_down_counter("unused")
        sync = engine.sync_engine if isinstance(engine, AsyncEngine) else engine
        EngineTracer(tracer, sync, usage)  # type: ignore[no-untyped-call]

    async def aclose(self) -> None:
        """Exports what is still buffered, then stops."""
        await asyncio.to_thread(self.provider.shutdown)


def start_tracing(
    *,
    otlp_endpoint: str,
    service_name: str,
    sample_ratio: float,
    exporter: SpanExporter | None = None,
) -> Tracing | None:
    """Tracing to `otlp_endpoint` (OTLP over gRPC, batched), or to `exporter` (each span as
    it ends: tests); None when neither is given (tracing off)."""
    if exporter is None and not otlp_endpoint:
        return None
    resource = Resource.create(
        {"service.name": service_name, "service.version": version("fapiao-gateway")}
    )
    provider = TracerProvider(resource=resource, sampler=ParentBased(CallsOnly(sample_ratio)))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint)))
    return Tracing(provider)
