"""Token discipline seen from outside: one fetch per cold cache, one refresh per refusal."""

import asyncio

import grpc
import pytest
from fapiao.v1 import invoice_pb2, invoice_service_pb2
from fapiao_gateway.config import UpstreamSettings
from fapiao_gateway.sandbox import seed
from fapiao_gateway.sandbox.app import Sandbox
from fapiao_gateway.sandbox.faults import FaultKind

from tests.conftest import GatewayFactory
from tests.rpc import Stub, failure_of
from tests.support import auth

INVOICES = seed.invoices()[:6]


def request(n: int = 0, account: str = "sandbox") -> invoice_service_pb2.GetInvoiceRequest:
    invoice = INVOICES[n % len(INVOICES)]
    return invoice_service_pb2.GetInvoiceRequest(
        account=account,
        invoice=invoice_pb2.InvoiceRef(card_id=invoice.card_id, encrypt_code=invoice.encrypt_code),
    )


async def test_500_concurrent_calls_on_a_cold_cache_fetch_one_token(
    stub: Stub, sandbox: Sandbox
) -> None:
    sandbox.inject("stable_token", FaultKind.LATENCY, 50)  # keep the fetch in flight a while
    replies = await asyncio.gather(*(stub.GetInvoice(request(n)) for n in range(500)))

    assert len(replies) == 500
    assert sandbox.emulator.stats.count("stable_token", seed.PRIMARY.appid) == 1
    assert sandbox.emulator.stats.count("getinvoiceinfo") == 500


async def test_each_account_has_its_own_token(stub: Stub, sandbox: Sandbox) -> None:
    await asyncio.gather(
        *(
            stub.GetInvoice(request(n, account))
            for n in range(50)
            for account in ("sandbox", "sandbox-partner")
        )
    )
    assert sandbox.emulator.stats.count("stable_token", seed.PRIMARY.appid) == 1
    assert sandbox.emulator.stats.count("stable_token", seed.PARTNER.appid) == 1


async def test_classic_token_endpoint_is_selectable_per_account(
    sandbox: Sandbox, make_gateway: GatewayFactory
) -> None:
    accounts = [
        {
            "appid": seed.PRIMARY.appid,
            "secret": seed.PRIMARY.secret,
            "alias": "classic",
            "token_endpoint": "classic",
            "base_url": "http://wechat-sandbox.invalid",
        },
    ]
    gateway = await make_gateway(accounts=accounts)
    async with auth.channel(gateway.address, gateway.callers.development_key) as channel:
        stub = Stub(channel)
        await asyncio.gather(*(stub.GetInvoice(request(n, "classic")) for n in range(100)))
    assert sandbox.emulator.stats.count("token", seed.PRIMARY.appid) == 1
    assert sandbox.emulator.stats.count("stable_token") == 0


async def test_token_invalidated_mid_traffic_costs_one_refresh(
    stub: Stub, sandbox: Sandbox
) -> None:
    await asyncio.gather(*(stub.GetInvoice(request(n)) for n in range(100)))
    sandbox.emulator.invalidate_tokens(seed.PRIMARY.appid)
    replies = await asyncio.gather(*(stub.GetInvoice(request(n)) for n in range(300)))

    assert len(replies) == 300  # every call succeeded
    assert sandbox.emulator.stats.count("stable_token", seed.PRIMARY.appid) == 2


async def test_wechat_refusing_every_token_means_one_retry_then_a_clear_error(
    stub: Stub, sandbox: Sandbox
) -> None:
    await stub.GetInvoice(request())  # warm: one fetch
    sandbox.inject("getinvoiceinfo", FaultKind.ERRCODE, 40001, times=0)
    calls_before = sandbox.emulator.stats.count("getinvoiceinfo")

    for _ in range(5):
        failure = await failure_of(stub.GetInvoice(request()))
        assert failure.code is grpc.StatusCode.FAILED_PRECONDITION
        assert failure.info.reason == "WECHAT_ACCESS_TOKEN_REJECTED"
        assert failure.info.metadata["wechat_errcode"] == "40001"

    assert sandbox.emulator.stats.count("getinvoiceinfo") - calls_before == 10  # one retry per call
    assert (
        sandbox.emulator.stats.count("stable_token", seed.PRIMARY.appid) == 1 + 5
    )  # one refetch per call


async def test_a_failing_token_fetch_is_reported_and_not_cached(
    stub: Stub, sandbox: Sandbox
) -> None:
    sandbox.inject("stable_token", FaultKind.ERRCODE, 40164, times=1)
    failure = await failure_of(stub.GetInvoice(request()))
    assert failure.code is grpc.StatusCode.FAILED_PRECONDITION
    assert failure.info.reason == "WECHAT_IP_NOT_WHITELISTED"
    assert failure.info.metadata["wechat_api"] == "stable_token"
    assert (await stub.GetInvoice(request())).invoice.invoice_number


async def test_retries_stop_at_the_callers_deadline(
    sandbox: Sandbox, make_gateway: GatewayFactory
) -> None:
    slow_retries = UpstreamSettings(
        max_attempts=10, backoff_base_seconds=0.15, backoff_max_seconds=0.15
    )
    gateway = await make_gateway(upstream=slow_retries)
    sandbox.inject("getinvoiceinfo", FaultKind.ERRCODE, -1, times=0)
    async with auth.channel(gateway.address, gateway.callers.development_key) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await Stub(channel).GetInvoice(request(), timeout=0.4)
    assert failed.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    attempts = sandbox.emulator.stats.count("getinvoiceinfo")
    assert 1 <= attempts < 10
    await asyncio.sleep(0.5)
    assert sandbox.emulator.stats.count("getinvoiceinfo") == attempts  # nothing after the deadline


async def test_a_slow_upstream_ends_in_deadline_exceeded_not_a_late_success(
    stub: Stub, sandbox: Sandbox
) -> None:
    await stub.GetInvoice(request())
    sandbox.inject("getinvoiceinfo", FaultKind.LATENCY, 1000)
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await stub.GetInvoice(request(), timeout=0.3)
    assert failed.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED


async def test_busy_wechat_is_retried_transparently(stub: Stub, sandbox: Sandbox) -> None:
    sandbox.inject("getinvoiceinfo", FaultKind.ERRCODE, -1, times=2)
    reply = await stub.GetInvoice(request())
    assert reply.invoice.invoice_number
    assert sandbox.emulator.stats.count("getinvoiceinfo") == 3


async def test_a_fraction_of_failures_is_absorbed_by_retries(stub: Stub, sandbox: Sandbox) -> None:
    sandbox.inject("getinvoiceinfo", FaultKind.ERRCODE, 72036, times=0, probability=0.3)
    replies = await asyncio.gather(
        *(stub.GetInvoice(request(n)) for n in range(100)), return_exceptions=True
    )
    failures = [r for r in replies if isinstance(r, Exception)]
    # With 4 attempts each, P(call fails) = 0.3^4 ≈ 0.8%: almost every call succeeds.
    assert len(failures) <= 5
    assert sandbox.emulator.stats.count("getinvoiceinfo") > 100
