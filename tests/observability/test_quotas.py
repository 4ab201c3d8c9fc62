"""Rate limits: a caller over its quota, and an account over the quota all its callers share,
are refused RESOURCE_EXHAUSTED with QuotaFailure and RetryInfo, before anything reaches
WeChat."""

import grpc
import pytest
from fapiao.v1 import invoice_service_pb2
from fapiao_gateway.bootstrap import Gateway
from fapiao_gateway.sandbox import seed
from fapiao_gateway.sandbox.app import Sandbox

from tests.conftest import GatewayFactory
from tests.e2e.test_error_matrix import REQUEST
from tests.rpc import Stub, failure_of
from tests.support import auth
from tests.support.metrics import scrape

EXPENSES_KEY, EXPENSES = auth.new_key()
ERP_KEY, ERP = auth.new_key()
OUTSIDER_KEY, OUTSIDER = auth.new_key()


def upstream_calls(sandbox: Sandbox) -> int:
    return sum(sandbox.emulator.stats.calls.values())


async def limited(make_gateway: GatewayFactory, **overrides: object) -> Gateway:
    options: dict[str, object] = {
        "auth_secret": auth.TEST_AUTH_SECRET,
        "http_listen": "127.0.0.1:0",
        "callers": [
            auth.caller("expenses", ["*"], ["*"], EXPENSES, rate_limits=["3/minute"]),
            auth.caller("erp", ["*"], ["*"], ERP),
            auth.caller("outsider", ["sandbox-partner"], ["*"], OUTSIDER),
        ],
    }
    return await make_gateway(**{**options, **overrides})


async def test_a_caller_over_its_quota_is_refused_before_wechat_is_called(
    make_gateway: GatewayFactory, sandbox: Sandbox
) -> None:
    gateway = await limited(make_gateway)
    async with (
        auth.channel(gateway.address, EXPENSES_KEY) as expenses,
        auth.channel(gateway.address, ERP_KEY) as erp,
    ):
        for _ in range(3):
            await Stub(expenses).GetInvoice(REQUEST)
        before = upstream_calls(sandbox)
        failure = await failure_of(Stub(expenses).GetInvoice(REQUEST))
        assert upstream_calls(sandbox) == before, "no upstream call once over quota"
        assert failure.code is grpc.StatusCode.RESOURCE_EXHAUSTED
        assert failure.detail_types == ["ErrorInfo", "QuotaFailure", "RetryInfo"]
        assert failure.info.reason == "CALLER_QUOTA_EXCEEDED"
        assert failure.info.metadata["caller"] == "expenses"
        (violation,) = failure.details["QuotaFailure"].violations
        assert violation.subject == "caller:expenses"
        assert violation.description == "at most 3 calls per 1 minute"
        assert 1 <= failure.details["RetryInfo"].retry_delay.seconds <= 60
        # Other callers are not held back by it.
        await Stub(erp).GetInvoice(REQUEST)
    metrics = await scrape(gateway.http_port)
    units = "fapiao_quota_units_total"
    assert metrics.value(units, scope="caller", subject="expenses", outcome="admitted") == 3
    assert metrics.value(units, scope="caller", subject="expenses", outcome="refused") == 1
    assert (
        metrics.value(
            "fapiao_caller_calls_total", caller="expenses", grpc_code="RESOURCE_EXHAUSTED"
        )
        == 1
    )


async def test_an_account_over_its_quota_is_refused_whoever_calls(
    make_gateway: GatewayFactory, sandbox: Sandbox
) -> None:
    account = {
        "appid": seed.PRIMARY.appid,
        "secret": seed.PRIMARY.secret,
        "alias": "sandbox",
        "rate_limits": ["2/minute", "1000/day"],
    }
    partner = {
        "appid": seed.PARTNER.appid,
        "secret": seed.PARTNER.secret,
        "alias": "sandbox-partner",
    }
    gateway = await limited(make_gateway, accounts=[account, partner])
    async with (
        auth.channel(gateway.address, ERP_KEY) as erp,
        auth.channel(gateway.address, EXPENSES_KEY) as expenses,
        auth.channel(gateway.address, OUTSIDER_KEY) as outsider,
    ):
        # A caller that may not use the account spends none of its quota.
        denied = await failure_of(Stub(outsider).GetInvoice(REQUEST))
        assert denied.code is grpc.StatusCode.PERMISSION_DENIED
        await Stub(erp).GetInvoice(REQUEST)
        await Stub(expenses).GetInvoice(REQUEST)
        before = upstream_calls(sandbox)
        failure = await failure_of(Stub(erp).GetInvoice(REQUEST))
        assert upstream_calls(sandbox) == before
        assert failure.code is grpc.StatusCode.RESOURCE_EXHAUSTED
        assert failure.info.reason == "ACCOUNT_QUOTA_EXCEEDED"
        assert failure.info.metadata["account"] == seed.PRIMARY.appid
        (violation,) = failure.details["QuotaFailure"].violations
        assert violation.subject == f"wechat-account:{seed.PRIMARY.appid}"
        assert "RetryInfo" in failure.details
        # Calls that never reach WeChat do not count against the account.
        search = invoice_service_pb2.SearchInvoicesRequest(account="sandbox")
        await Stub(erp).SearchInvoices(search)
        # Another account is not held back by it.
        other = invoice_service_pb2.GetInvoiceRequest(
            account="sandbox-partner", invoice=REQUEST.invoice
        )
        assert (await Stub(erp).GetInvoice(other)).invoice.total_fen > 0
    metrics = await scrape(gateway.http_port)
    units = "fapiao_quota_units_total"
    assert metrics.value(units, scope="account", subject="sandbox", outcome="admitted") == 2
    assert metrics.value(units, scope="account", subject="sandbox", outcome="refused") == 1


def test_a_limit_that_is_not_one_is_refused_with_a_clear_error() -> None:
    from fapiao_gateway.config import CallerSettings
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="is not a rate limit: write N/second"):
        CallerSettings(name="x", accounts=["*"], operations=["*"], rate_limits=["lots per day"])
    with pytest.raises(ValidationError, match="allows at least 1 call"):
        CallerSettings(name="x", accounts=["*"], operations=["*"], rate_limits=["0/second"])
