"""Per-account health: an account WeChat refuses (IP not whitelisted, invoice permission
missing) goes NOT_SERVING under fapiao.v1.InvoiceService/account/<alias>, says so once at
ERROR with the fix, and is SERVING again after its next successful call; the service and the
other accounts stay SERVING throughout."""

import logging

import grpc
import pytest
from fapiao_gateway.api.server import SERVICE_NAME
from fapiao_gateway.bootstrap import Gateway
from fapiao_gateway.sandbox import seed
from fapiao_gateway.sandbox.app import Sandbox
from fapiao_gateway.sandbox.faults import FaultKind
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.conftest import GatewayFactory
from tests.e2e.test_error_matrix import REQUEST
from tests.rpc import Stub, failure_of
from tests.support import auth
from tests.support.metrics import scrape
from tests.support.waiting import eventually

ACCOUNT = f"{SERVICE_NAME}/account/sandbox"
PARTNER = f"{SERVICE_NAME}/account/sandbox-partner"


async def statuses(gateway: Gateway) -> dict[str, str]:
    async with grpc.aio.insecure_channel(gateway.address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        found = {}
        for service in ("", SERVICE_NAME, ACCOUNT, PARTNER):
            reply = await health.Check(health_pb2.HealthCheckRequest(service=service))
            found[service] = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    return found


@pytest.mark.parametrize(
    ("endpoint", "errcode", "reason"),
    [
        ("stable_token", 40164, "WECHAT_IP_NOT_WHITELISTED"),
        ("getinvoiceinfo", 72015, "WECHAT_INVOICE_PERMISSION_MISSING"),
        ("getinvoiceinfo", 48001, "WECHAT_API_UNAUTHORIZED"),
    ],
)
async def test_an_account_wechat_refuses_is_not_serving_until_it_works_again(
    make_gateway: GatewayFactory,
    sandbox: Sandbox,
    caplog: pytest.LogCaptureFixture,
    endpoint: str,
    errcode: int,
    reason: str,
) -> None:
    caplog.set_level(logging.INFO, logger="fapiao_gateway.upstream")
    gateway = await make_gateway(http_listen="127.0.0.1:0")
    serving = dict.fromkeys(("", SERVICE_NAME, ACCOUNT, PARTNER), "SERVING")
    assert await statuses(gateway) == serving
    sandbox.inject(endpoint, FaultKind.ERRCODE, errcode, times=0, appid=seed.PRIMARY.appid)
    async with auth.channel(gateway.address, gateway.callers.development_key) as channel:
        stub = Stub(channel)
        for _ in range(3):
            failure = await failure_of(stub.GetInvoice(REQUEST))
            assert (failure.code, failure.info.reason) == (
                grpc.StatusCode.FAILED_PRECONDITION,
                reason,
            )

        async def broken() -> bool:
            return (await statuses(gateway))[ACCOUNT] == "NOT_SERVING"

        await eventually(broken)
        assert await statuses(gateway) == {**serving, ACCOUNT: "NOT_SERVING"}
        assert (await scrape(gateway.http_port)).value("fapiao_account_up", account="sandbox") == 0
        errors = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) == 1, "said once, when it broke"
        assert f"errcode {errcode}" in errors[0].message and "fix:" in errors[0].message

        sandbox.faults.clear()
        await stub.GetInvoice(REQUEST)

        async def mended() -> bool:
            return await statuses(gateway) == serving

        await eventually(mended)
        assert any(
            "works again" in r.message for r in caplog.records if r.levelno == logging.WARNING
        )
        assert (await scrape(gateway.http_port)).value("fapiao_account_up", account="sandbox") == 1


async def test_an_account_stays_broken_until_the_api_that_refused_it_answers(
    make_gateway: GatewayFactory, sandbox: Sandbox
) -> None:
    """A token fetch that works does not mend an account the invoice API refuses."""
    gateway = await make_gateway()
    sandbox.inject("getinvoiceinfo", FaultKind.ERRCODE, 72015, times=1)
    async with auth.channel(gateway.address, gateway.callers.development_key) as channel:
        stub = Stub(channel)
        await failure_of(stub.GetInvoice(REQUEST))
        sandbox.emulator.invalidate_tokens(seed.PRIMARY.appid)
        sandbox.inject("getinvoiceinfo", FaultKind.ERRCODE, 72015, times=1)
        await failure_of(stub.GetInvoice(REQUEST))  # a token fetched, then refused again

        async def account_is(expected: str) -> bool:
            return (await statuses(gateway))[ACCOUNT] == expected

        await eventually(lambda: account_is("NOT_SERVING"))
        await stub.GetInvoice(REQUEST)
        await eventually(lambda: account_is("SERVING"))
