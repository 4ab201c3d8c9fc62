"""The call's deadline reaches the use case: the caller's, else the configured default, else
none; the default also ends a call that outlives it (DEFAULT_DEADLINE_EXCEEDED)."""

import asyncio

import grpc
import pytest
from google.rpc import error_details_pb2 as details

from tests.api.harness import InProcessGateway, LoopThread
from tests.api.requests import valid, valid_requests

C = grpc.StatusCode
#: The RPCs whose use case is given the call's deadline (SearchInvoices, ListAuditEvents and
#: GetInvoiceDocument read only the ledger and the archive, whose own timeouts bound them;
#: WatchImport's stream lasts until its session ends, and gRPC cancels it at the caller's
#: deadline).
WITHOUT_DEADLINE = {"SearchInvoices", "ListAuditEvents", "GetInvoiceDocument", "WatchImport"}
WITH_DEADLINE = sorted(set(valid_requests()) - WITHOUT_DEADLINE)


@pytest.mark.parametrize("rpc", WITH_DEADLINE)
def test_the_callers_deadline_reaches_the_use_case(gateway: InProcessGateway, rpc: str) -> None:
    outcome = gateway.call(rpc, valid(rpc), timeout=30.0)

    assert outcome.code is C.OK, outcome.details
    (call,) = gateway.use_cases.calls
    assert call.deadline is not None
    left = call.deadline.remaining()
    assert left is not None
    assert 0 < left <= 30.0
    assert gateway.recorded[0].deadline == call.deadline


@pytest.mark.parametrize("rpc", WITH_DEADLINE)
def test_without_a_deadline_or_a_default_the_use_case_has_none(
    gateway: InProcessGateway, rpc: str
) -> None:
    assert gateway.call(rpc, valid(rpc)).code is C.OK

    (call,) = gateway.use_cases.calls
    assert call.deadline is not None
    assert call.deadline.at is None


def test_without_a_callers_deadline_the_default_bounds_the_use_case(loop: LoopThread) -> None:
    gateway = InProcessGateway(loop, default_deadline_seconds=5.0)

    assert gateway.call("UpdateStatus", valid("UpdateStatus")).code is C.OK

    (call,) = gateway.use_cases.calls
    assert call.deadline is not None
    left = call.deadline.remaining()
    assert left is not None
    assert 0 < left <= 5.0


def test_the_callers_deadline_wins_over_the_default(loop: LoopThread) -> None:
    gateway = InProcessGateway(loop, default_deadline_seconds=5.0)

    assert gateway.call("UpdateStatus", valid("UpdateStatus"), timeout=120.0).code is C.OK

    (call,) = gateway.use_cases.calls
    assert call.deadline is not None
    left = call.deadline.remaining()
    assert left is not None
    assert 5.0 < left <= 120.0


def test_a_call_that_outlives_the_default_ends_deadline_exceeded(loop: LoopThread) -> None:
    gateway = InProcessGateway(loop, default_deadline_seconds=0.05)
    gateway.use_cases.hold = asyncio.Event()  # never set

    outcome = gateway.call("UpdateStatus", valid("UpdateStatus"))

    assert outcome.code is C.DEADLINE_EXCEEDED
    assert outcome.detail(details.ErrorInfo).reason == "DEFAULT_DEADLINE_EXCEEDED"
    assert gateway.recorded[0].code is C.DEADLINE_EXCEEDED


def test_a_call_with_its_own_deadline_is_not_cut_at_the_default(loop: LoopThread) -> None:
    gateway = InProcessGateway(loop, default_deadline_seconds=0.05)
    hold = asyncio.Event()
    gateway.use_cases.hold = hold
    # the use case waits past the default, then answers: the caller's deadline governs
    loop.loop.call_soon_threadsafe(loop.loop.call_later, 0.2, hold.set)

    outcome = gateway.call("UpdateStatus", valid("UpdateStatus"), timeout=30.0)

    assert outcome.code is C.OK, outcome.details


def test_a_stream_is_not_cut_at_the_unary_default(loop: LoopThread) -> None:
    """default_deadline_seconds bounds unary calls: a WatchImport lasts until its session
    ends (or the caller's own deadline)."""
    gateway = InProcessGateway(loop, default_deadline_seconds=0.05)
    hold = asyncio.Event()
    gateway.use_cases.hold = hold
    loop.loop.call_soon_threadsafe(loop.loop.call_later, 0.2, hold.set)

    outcome = gateway.call("WatchImport", valid("WatchImport"))

    assert outcome.code is C.OK, outcome.details
    assert len(outcome.response) == 2
