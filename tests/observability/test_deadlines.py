"""Deadlines set by one interceptor: the caller's, or the gateway's default for a unary call
whose caller set none."""

import grpc
from fapiao_gateway.sandbox.app import Sandbox
from fapiao_gateway.sandbox.faults import FaultKind

from tests.conftest import GatewayFactory
from tests.e2e.test_error_matrix import REQUEST
from tests.rpc import Stub, failure_of
from tests.support import auth


async def test_a_call_without_a_deadline_gets_the_default_one(
    make_gateway: GatewayFactory, sandbox: Sandbox
) -> None:
    gateway = await make_gateway(default_deadline_seconds=0.3)
    sandbox.inject("getinvoiceinfo", FaultKind.LATENCY, 800, times=0)
    async with auth.channel(gateway.address, gateway.callers.development_key) as channel:
        stub = Stub(channel)
        late = await failure_of(stub.GetInvoice(REQUEST))
        assert late.code is grpc.StatusCode.DEADLINE_EXCEEDED
        # Bounded by the deadline the use case was given, or cut by the interceptor.
        assert late.info.reason in {"DEADLINE_EXHAUSTED", "DEFAULT_DEADLINE_EXCEEDED"}
        # A caller's own deadline is the call's, longer than the default or not.
        reply = await stub.GetInvoice(REQUEST, timeout=20)
        assert reply.invoice.total_fen > 0


async def test_without_a_default_a_call_without_a_deadline_has_none(
    make_gateway: GatewayFactory, sandbox: Sandbox
) -> None:
    gateway = await make_gateway()
    sandbox.inject("getinvoiceinfo", FaultKind.LATENCY, 500, times=1)
    async with auth.channel(gateway.address, gateway.callers.development_key) as channel:
        reply = await Stub(channel).GetInvoice(REQUEST)
    assert reply.invoice.total_fen > 0
