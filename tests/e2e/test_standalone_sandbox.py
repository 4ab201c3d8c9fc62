"""The production path: an account whose base_url is a real HTTP server (the standalone
sandbox), reached through the default (httptools) transport, faulted through the HTTP controls."""

from collections.abc import AsyncIterator

import grpc
import httpx
import pytest
from fapiao.v1 import invoice_pb2, invoice_service_pb2
from fapiao_gateway.bootstrap import Gateway, start_gateway
from fapiao_gateway.sandbox import seed

from tests.conftest import gateway_settings
from tests.rpc import Stub, failure_of
from tests.support import auth
from tests.support.processes import standalone_sandbox

INVOICE = seed.invoices()[0]
REQUEST = invoice_service_pb2.GetInvoiceRequest(
    account="hq",
    invoice=invoice_pb2.InvoiceRef(card_id=INVOICE.card_id, encrypt_code=INVOICE.encrypt_code),
)


KEY, STORED = auth.new_key()
CALLERS = {
    "auth_secret": auth.TEST_AUTH_SECRET,
    "callers": [auth.caller("erp", ["hq"], ["read"], STORED)],
}


@pytest.fixture
async def channel(gateway: Gateway) -> AsyncIterator[grpc.aio.Channel]:
    async with auth.channel(gateway.address, KEY) as opened:
        yield opened


@pytest.fixture
async def sandbox_url() -> AsyncIterator[str]:
    async for url in standalone_sandbox():
        yield url


@pytest.fixture
async def gateway(sandbox_url: str) -> AsyncIterator[Gateway]:
    accounts = [
        {
            "appid": seed.PRIMARY.appid,
            "secret": seed.PRIMARY.secret,
            "alias": "hq",
            "base_url": sandbox_url,
        }
    ]
    running = await start_gateway(gateway_settings(sandbox=False, accounts=accounts, **CALLERS))
    assert running.settings.upstream.http_client == "httptools"
    yield running
    await running.stop(0)


async def test_reads_through_the_network_with_the_default_transport(
    stub: Stub, sandbox_url: str
) -> None:
    assert (await stub.GetInvoice(REQUEST)).invoice.invoice_number == "14869350"
    async with httpx.AsyncClient() as http:
        calls = (await http.get(f"{sandbox_url}/sandbox/stats")).json()["calls"]
    assert calls["getinvoiceinfo"] == {seed.PRIMARY.appid: 1}


async def test_faults_injected_over_http_reach_the_caller(stub: Stub, sandbox_url: str) -> None:
    async with httpx.AsyncClient() as http:
        bad = await http.post(
            f"{sandbox_url}/sandbox/faults", json={"endpoint": "x", "kind": "nonsense"}
        )
        assert bad.status_code == 400
        added = await http.post(
            f"{sandbox_url}/sandbox/faults",
            json={"endpoint": "getinvoiceinfo", "kind": "drop", "times": 0},
        )
        assert added.status_code == 200
        failure = await failure_of(stub.GetInvoice(REQUEST))
        assert failure.code is grpc.StatusCode.UNAVAILABLE
        assert failure.info.reason == "WECHAT_UNREACHABLE"

        await http.delete(f"{sandbox_url}/sandbox/faults")
        await http.post(f"{sandbox_url}/sandbox/accounts/{seed.PRIMARY.appid}/invalidate-tokens")
        assert (await stub.GetInvoice(REQUEST)).invoice.invoice_number == "14869350"
        calls = (await http.get(f"{sandbox_url}/sandbox/stats")).json()["calls"]
    assert calls["stable_token"] == {seed.PRIMARY.appid: 2}  # one refresh after invalidation


async def test_an_unreachable_wechat_is_unavailable() -> None:
    accounts = [{"appid": "wxdead", "secret": "s", "alias": "hq", "base_url": "http://127.0.0.1:9"}]
    running = await start_gateway(gateway_settings(sandbox=False, accounts=accounts, **CALLERS))
    try:
        async with auth.channel(running.address, KEY) as channel:
            failure = await failure_of(Stub(channel).GetInvoice(REQUEST))
        assert failure.code is grpc.StatusCode.UNAVAILABLE
        assert failure.info.reason == "WECHAT_UNREACHABLE"
        assert failure.info.metadata["wechat_api"] == "stable_token"
    finally:
        await running.stop(0)
