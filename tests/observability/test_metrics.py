"""The metrics endpoint after a set of calls: counters and histograms say what happened, and
no label carries an invoice, a request id or a key."""

import grpc
import pytest
from fapiao.v1 import invoice_pb2, invoice_service_pb2
from fapiao_gateway.bootstrap import Gateway
from fapiao_gateway.sandbox import seed
from fapiao_gateway.sandbox.app import Sandbox
from fapiao_gateway.sandbox.emulator import SandboxInvoice
from fapiao_gateway.sandbox.faults import FaultKind
from fapiao_gateway.telemetry.metrics import METRICS_PATH

from tests.conftest import FAST_UPSTREAM, GatewayFactory
from tests.rpc import Stub, failure_of
from tests.support import auth
from tests.support.metrics import Scrape, scrape

INVOICE, OTHER = seed.invoices()[0], seed.invoices()[1]
SERVICE = "fapiao.v1.InvoiceService"


def ref(invoice: SandboxInvoice) -> invoice_pb2.InvoiceRef:
    return invoice_pb2.InvoiceRef(card_id=invoice.card_id, encrypt_code=invoice.encrypt_code)


def get(invoice: SandboxInvoice = INVOICE) -> invoice_service_pb2.GetInvoiceRequest:
    return invoice_service_pb2.GetInvoiceRequest(account="sandbox", invoice=ref(invoice))


@pytest.fixture
async def observed(make_gateway: GatewayFactory) -> Gateway:
    return await make_gateway(http_listen="127.0.0.1:0")


async def a_set_of_calls(gateway: Gateway, sandbox: Sandbox) -> None:
    """Two reads, a bad request, a read WeChat keeps busy, an import and its replay, a
    signature (a ticket fetch) and an anonymous call."""
    async with auth.channel(gateway.address, gateway.callers.development_key) as channel:
        stub = Stub(channel)
        await stub.GetInvoice(get())
        await stub.GetInvoice(get(OTHER))
        invalid = await failure_of(
            stub.GetInvoice(invoice_service_pb2.GetInvoiceRequest(account="sandbox"))
        )
        assert invalid.code is grpc.StatusCode.INVALID_ARGUMENT
        sandbox.inject("getinvoiceinfo", FaultKind.ERRCODE, -1, times=0)
        busy = await failure_of(stub.GetInvoice(get()))
        assert busy.code is grpc.StatusCode.UNAVAILABLE
        sandbox.faults.clear()
        picks = invoice_service_pb2.ImportInvoicesRequest(
            account="sandbox",
            request_id="metrics-import-1",
            biz_code="EXP-MET",
            invoices=[ref(INVOICE)],
        )
        first = await stub.ImportInvoices(picks)
        assert (await stub.ImportInvoices(picks)) == first
        await stub.SignJsapi(
            invoice_service_pb2.SignJsapiRequest(
                account="sandbox",
                purposes=[invoice_service_pb2.SIGN_PURPOSE_WX_CONFIG],
                url="https://reimburse.example.com/h5",
            )
        )
    async with auth.channel(gateway.address, None) as anonymous:
        refused = await failure_of(Stub(anonymous).GetInvoice(get()))
        assert refused.code is grpc.StatusCode.UNAUTHENTICATED


async def test_the_metrics_endpoint_counts_and_times_what_the_calls_did(
    observed: Gateway, sandbox: Sandbox
) -> None:
    await a_set_of_calls(observed, sandbox)
    metrics = await scrape(observed.http_port)
    handled = "grpc_server_handled_total"

    def calls(method: str, code: str) -> float:
        return metrics.value(handled, grpc_service=SERVICE, grpc_method=method, grpc_code=code)

    assert calls("GetInvoice", "OK") == 2
    assert calls("GetInvoice", "INVALID_ARGUMENT") == 1
    assert calls("GetInvoice", "UNAVAILABLE") == 1
    assert calls("GetInvoice", "UNAUTHENTICATED") == 1
    assert calls("ImportInvoices", "OK") == 2
    assert calls("SignJsapi", "OK") == 1
    # The latency histogram saw every call, in buckets that add up.
    timed = metrics.value("grpc_server_handling_seconds_count", grpc_method="GetInvoice")
    assert timed == 5
    assert (
        metrics.value("grpc_server_handling_seconds_bucket", grpc_method="GetInvoice", le="+Inf")
        == 5
    )
    assert metrics.value("grpc_server_handling_seconds_sum", grpc_method="GetInvoice") > 0
    assert (
        metrics.value(
            "fapiao_caller_calls_total",
            caller="sandbox-developer",
            account="sandbox",
            grpc_code="OK",
        )
        == 5
    )
    assert metrics.value("fapiao_caller_calls_total", caller="-", grpc_code="UNAUTHENTICATED") == 1

    # Upstream: WeChat's answers by API and errcode, retries, credential fetches.
    upstream = "fapiao_upstream_calls_total"
    attempts = FAST_UPSTREAM.max_attempts
    assert (
        metrics.value(upstream, wechat_api="getinvoiceinfo", account="sandbox", errcode="-1")
        == attempts
    )
    assert metrics.value(upstream, wechat_api="getinvoiceinfo", errcode="0") == 2
    assert (
        metrics.value("fapiao_upstream_retries_total", wechat_api="getinvoiceinfo", errcode="-1")
        == attempts - 1
    )
    assert (
        metrics.value("fapiao_upstream_call_seconds_count", wechat_api="getinvoiceinfo")
        == 2 + attempts
    )
    fetches = "fapiao_credential_fetches_total"
    assert metrics.value(fetches, account="sandbox", credential="access_token", outcome="ok") == 1
    assert metrics.value(fetches, account="sandbox", credential="ticket", outcome="ok") == 1
    # The import's second call was a replay: no second write, counted.
    assert metrics.value("fapiao_idempotent_replays_total", rpc="ImportInvoices") == 1
    # The ledger: statements timed by kind, its pool's connections.
    assert metrics.value("fapiao_ledger_query_seconds_count", statement="select") > 0
    assert metrics.value("fapiao_ledger_query_seconds_count", statement="insert") > 0
    assert "fapiao_ledger_pool_connections" in metrics.names()
    assert metrics.value("fapiao_dependency_up", dependency="ledger") == 1
    assert metrics.value("fapiao_account_up", account="sandbox") == 1
    assert metrics.value("fapiao_gateway_build_info") == 1
    assert metrics.value("process_resident_memory_bytes") > 0
    assert_bounded(metrics, observed)


def assert_bounded(metrics: Scrape, gateway: Gateway) -> None:
    """No label value is an invoice, a request id, a key, a token or a URL."""
    values = metrics.label_values()
    forbidden = [
        INVOICE.card_id,
        INVOICE.encrypt_code,
        OTHER.card_id,
        "metrics-import-1",
        "EXP-MET",
        str(gateway.callers.development_key),
    ]
    for value in values:
        assert not any(bad in value for bad in forbidden), value
        assert "/" not in value or value.startswith("/"), value  # no URLs, no paths of calls
    accounts = {s.labels["account"] for s in metrics.samples if "account" in s.labels}
    configured = {a.alias or a.appid for a in gateway.accounts} | {"-"}
    assert accounts <= configured


async def test_every_scrape_of_a_fresh_gateway_is_its_own(
    make_gateway: GatewayFactory, sandbox: Sandbox
) -> None:
    """Two gateways in one process keep their own counts (a registry each)."""
    first = await make_gateway(http_listen="127.0.0.1:0")
    second = await make_gateway(http_listen="127.0.0.1:0")
    async with auth.channel(first.address, first.callers.development_key) as channel:
        await Stub(channel).GetInvoice(get())
    counted = "grpc_server_handled_total"
    assert (await scrape(first.http_port)).value(counted, grpc_method="GetInvoice") == 1
    assert (await scrape(second.http_port)).value(counted, grpc_method="GetInvoice") == 0


async def test_metrics_can_be_turned_off(make_gateway: GatewayFactory) -> None:
    import httpx
    from fapiao_gateway.config import MetricsSettings

    gateway = await make_gateway(http_listen="127.0.0.1:0", metrics=MetricsSettings(enabled=False))
    async with httpx.AsyncClient() as http:
        reply = await http.get(f"http://127.0.0.1:{gateway.http_port}{METRICS_PATH}")
    assert reply.status_code == 404
