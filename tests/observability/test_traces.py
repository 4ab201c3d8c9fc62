"""One call's trace, read from an in-memory exporter: the caller's span, the gateway's server
span under it, and under that the HTTP calls to WeChat and the ledger's statements; with
WeChat in process (httpx) and as a real HTTP server (httptools, the production client)."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fapiao.v1 import invoice_pb2, invoice_service_pb2
from fapiao_gateway.bootstrap import Gateway, start_gateway
from fapiao_gateway.config import Settings
from fapiao_gateway.sandbox import seed
from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from tests.conftest import gateway_settings
from tests.rpc import Stub
from tests.support import auth
from tests.support.processes import standalone_sandbox

INVOICE = seed.invoices()[0]
#: A call that reads WeChat and writes the ledger (reads leave the ledger to the background).
REQUEST = invoice_service_pb2.ImportInvoicesRequest(
    account="sandbox",
    biz_code="EXP-TRACED",
    invoices=[invoice_pb2.InvoiceRef(card_id=INVOICE.card_id, encrypt_code=INVOICE.encrypt_code)],
)


@pytest.fixture(params=["in-process-httpx", "standalone-httptools"])
async def traced(
    request: pytest.FixtureRequest,
) -> AsyncIterator[tuple[Gateway, str, InMemorySpanExporter]]:
    """A gateway whose spans go to an in-memory exporter, and the key to call it with."""
    exporter = InMemorySpanExporter()
    if request.param == "in-process-httpx":
        gateway = await start_gateway(gateway_settings(), span_exporter=exporter)
        key = gateway.callers.development_key
        assert key is not None
        yield gateway, key, exporter
        await gateway.stop(0)
        return
    async with _standalone_wechat() as url:
        key, stored = auth.new_key()
        settings = production_shaped(url, stored)
        assert settings.upstream.http_client == "httptools"
        gateway = await start_gateway(settings, span_exporter=exporter)
        yield gateway, key, exporter
        await gateway.stop(0)


def _standalone_wechat() -> Any:
    import contextlib

    return contextlib.asynccontextmanager(standalone_sandbox)()


def production_shaped(wechat_url: str, stored_key: str) -> Settings:
    return gateway_settings(
        sandbox=False,
        accounts=[
            {"appid": a.appid, "secret": a.secret, "alias": a.alias, "base_url": wechat_url}
            for a in seed.ACCOUNTS
        ],
        callers=[auth.caller("expenses", ["*"], ["*"], stored_key)],
        auth_secret=auth.TEST_AUTH_SECRET,
    )


async def test_one_trace_from_the_caller_through_the_gateway_to_wechat_and_the_ledger(
    traced: tuple[Gateway, str, InMemorySpanExporter],
) -> None:
    gateway, key, exporter = traced
    exporter.clear()
    caller_spans = InMemorySpanExporter()
    caller = TracerProvider()
    caller.add_span_processor(SimpleSpanProcessor(caller_spans))
    with caller.get_tracer("expense-service").start_as_current_span(
        "submit report", kind=SpanKind.CLIENT
    ) as root:
        headers: dict[str, str] = {}
        propagate.inject(headers)
        async with auth.channel(gateway.address, key) as channel:
            await Stub(channel).ImportInvoices(REQUEST, metadata=tuple(headers.items()))
    trace_id = root.get_span_context().trace_id

    spans = exporter.get_finished_spans()
    (server,) = [s for s in spans if s.kind is SpanKind.SERVER]
    assert server.name == "/fapiao.v1.InvoiceService/ImportInvoices"
    assert server.context.trace_id == trace_id
    assert server.parent is not None
    assert server.parent.span_id == root.get_span_context().span_id
    assert {s.context.trace_id for s in spans} == {trace_id}, "every span is in the caller's trace"

    http = [s for s in spans if s.kind is SpanKind.CLIENT and _url(s)]
    paths = sorted(_url(s).split("/", 3)[-1] for s in http)
    # The token is fetched by this call, or (production-shaped) by the start-up check before.
    assert "card/invoice/reimburse/getinvoicebatch" in paths
    assert set(paths) <= {"card/invoice/reimburse/getinvoicebatch", "cgi-bin/stable_token"}
    sql = [s for s in spans if s.attributes and s.attributes.get("db.system")]
    assert sql, "the ledger's statements are traced"
    for span in http + sql:
        assert _descends_from(span, server, spans), span.name
    assert_no_credential(spans)


def _url(span: ReadableSpan) -> str:
    attributes = span.attributes or {}
    return str(attributes.get("http.url") or attributes.get("url.full") or "")


def _descends_from(span: ReadableSpan, ancestor: ReadableSpan, spans: Any) -> bool:
    by_id = {s.context.span_id: s for s in spans}
    parent = span.parent
    while parent is not None:
        if parent.span_id == ancestor.context.span_id:
            return True
        found = by_id.get(parent.span_id)
        parent = found.parent if found is not None else None
    return False


def assert_no_credential(spans: Any) -> None:
    secrets = [a.secret for a in seed.ACCOUNTS]
    for span in spans:
        text = f"{span.name} {dict(span.attributes or {})} {[e.attributes for e in span.events]}"
        assert "access_token" not in text, text
        assert "authorization" not in text.lower(), text
        for secret in secrets:
            assert secret not in text


async def test_background_work_and_health_checks_start_no_trace() -> None:
    """Probes and background statements would drown the traces of calls."""
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    exporter = InMemorySpanExporter()
    gateway = await start_gateway(gateway_settings(), span_exporter=exporter)
    try:
        async with auth.channel(gateway.address, None) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            await health.Check(health_pb2.HealthCheckRequest(service=""))
        await gateway.services.recovery.run_once()
    finally:
        await gateway.stop(0)
    # Migrations, the readiness probe, recovery and the health check ran: none is traced.
    assert exporter.get_finished_spans() == ()
    # The gateway's tracer provider is its own, not the process's.
    assert not isinstance(trace.get_tracer_provider(), TracerProvider)
