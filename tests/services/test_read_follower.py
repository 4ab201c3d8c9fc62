"""The ledger follows reads off the readers' path: in batches, bounded, never failing a read."""

import asyncio
import logging
from collections.abc import Mapping

import pytest
from fapiao_gateway.domain.errors import Unavailable
from fapiao_gateway.domain.invoice import InvoiceRef
from fapiao_gateway.domain.status import ReimburseStatus
from fapiao_gateway.domain.status_changes import Drift, Observation, Witness
from fapiao_gateway.services.read_follower import ReadFollower

ALICE = Witness("alice", "GetInvoice")
BOB = Witness("bob", "GetInvoices")
LOCKED = Observation(ReimburseStatus.LOCK)
FREE = Observation(ReimburseStatus.INIT)


def ref(n: int) -> InvoiceRef:
    return InvoiceRef(f"card-{n}", f"code-{n}")


class Ledger:
    """Records each follow; fails while `down`."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[InvoiceRef, Observation], Witness]] = []
        self.down = False

    async def follow(
        self, account: str, observed: Mapping[InvoiceRef, Observation], *, witness: Witness
    ) -> tuple[Drift, ...]:
        await asyncio.sleep(0)
        if self.down:
            raise Unavailable("down", reason="LEDGER_UNAVAILABLE")
        self.calls.append((account, dict(observed), witness))
        return ()


async def test_reads_are_followed_in_one_batch_per_account_and_witness() -> None:
    ledger = Ledger()
    follower = ReadFollower(ledger, linger=0.01)  # type: ignore[arg-type]
    for n in range(100):
        follower.observe("wx1", {ref(n): LOCKED}, ALICE)
    follower.observe("wx1", {ref(0): FREE}, ALICE)  # read again since: the fresher news
    follower.observe("wx2", {ref(1): LOCKED}, ALICE)
    follower.observe("wx1", {ref(2): LOCKED}, BOB)
    assert ledger.calls == []  # nothing on the readers' path
    await follower.settle()
    by_key = {(account, witness): seen for account, seen, witness in ledger.calls}
    assert len(ledger.calls) == 3
    assert len(by_key[("wx1", ALICE)]) == 100
    assert by_key[("wx1", ALICE)][ref(0)] == FREE
    assert by_key[("wx2", ALICE)] == {ref(1): LOCKED}
    assert by_key[("wx1", BOB)] == {ref(2): LOCKED}


async def test_a_large_batch_is_split() -> None:
    ledger = Ledger()
    follower = ReadFollower(ledger, linger=0, batch=40)  # type: ignore[arg-type]
    follower.observe("wx1", {ref(n): LOCKED for n in range(100)}, ALICE)
    await follower.settle()
    assert [len(seen) for _, seen, _ in ledger.calls] == [40, 40, 20]


async def test_reads_beyond_the_bound_are_dropped_and_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ledger = Ledger()
    follower = ReadFollower(ledger, linger=0.01, max_pending=10)  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING):
        follower.observe("wx1", {ref(n): LOCKED for n in range(8)}, ALICE)
        follower.observe("wx1", {ref(n): LOCKED for n in range(8, 16)}, ALICE)
        follower.observe("wx1", {ref(99): LOCKED}, ALICE)
    assert follower.dropped == 7
    assert sum("reads outrun the ledger" in r.message for r in caplog.records) == 1
    await follower.settle()
    assert sorted(len(seen) for _, seen, _ in ledger.calls) == [10]
    follower.observe("wx1", {ref(99): LOCKED}, ALICE)  # room again once applied
    await follower.settle()
    assert ledger.calls[-1][1] == {ref(99): LOCKED}


async def test_a_ledger_outage_drops_the_batch_and_the_next_one_goes_through(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ledger = Ledger()
    follower = ReadFollower(ledger, linger=0)  # type: ignore[arg-type]
    ledger.down = True
    with caplog.at_level(logging.WARNING):
        follower.observe("wx1", {ref(1): LOCKED}, ALICE)
        await follower.settle()
    assert follower.dropped == 1
    assert any("LEDGER_UNAVAILABLE" in r.getMessage() for r in caplog.records)
    ledger.down = False
    follower.observe("wx1", {ref(2): LOCKED}, ALICE)
    await follower.settle()
    assert ledger.calls == [("wx1", {ref(2): LOCKED}, ALICE)]


async def test_settle_survives_its_waiter_being_cancelled() -> None:
    """A shutdown that gives up waiting must not cancel the batch under way."""
    ledger = Ledger()
    follower = ReadFollower(ledger, linger=0.05)  # type: ignore[arg-type]
    follower.observe("wx1", {ref(1): LOCKED}, ALICE)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(follower.settle(), 0.01)
    await follower.settle()
    assert len(ledger.calls) == 1
