"""Rate limits counted in Redis (quotas.store = "redis"): two gateways draw from one count; and
when Redis stops answering, calls are let through rather than refused."""

import grpc
from fapiao_gateway.config import QuotaSettings
from fapiao_gateway.sandbox.app import Sandbox

from tests.conftest import GatewayFactory
from tests.e2e.test_error_matrix import REQUEST
from tests.rpc import Stub, failure_of
from tests.support import auth
from tests.support.proxy import proxied

KEY, STORED = auth.new_key()


async def test_two_gateways_share_a_callers_quota_through_redis(
    make_gateway: GatewayFactory, sandbox: Sandbox, redis_url: str, prefix: str
) -> None:
    async with proxied(redis_url) as proxy:
        settings: dict[str, object] = {
            "auth_secret": auth.TEST_AUTH_SECRET,
            "callers": [auth.caller("expenses", ["*"], ["*"], STORED, rate_limits=["3/minute"])],
            "quotas": QuotaSettings(store="redis"),
            "redis_url": proxy.url(redis_url),
            "redis_prefix": prefix,
            "redis_timeout_seconds": 0.5,
        }
        first = await make_gateway(**settings)
        second = await make_gateway(**settings)
        async with (
            auth.channel(first.address, KEY) as one,
            auth.channel(second.address, KEY) as other,
        ):
            await Stub(one).GetInvoice(REQUEST)
            await Stub(one).GetInvoice(REQUEST)
            await Stub(other).GetInvoice(REQUEST)
            refused = await failure_of(Stub(other).GetInvoice(REQUEST))
            assert refused.code is grpc.StatusCode.RESOURCE_EXHAUSTED
            assert refused.info.reason == "CALLER_QUOTA_EXCEEDED"
            assert (await failure_of(Stub(one).GetInvoice(REQUEST))).code is (
                grpc.StatusCode.RESOURCE_EXHAUSTED
            )
            # Redis gone: a quota must not take the gateway down with it.
            proxy.cut()
            reply = await Stub(one).GetInvoice(REQUEST, timeout=10)
            assert reply.invoice.total_fen > 0
