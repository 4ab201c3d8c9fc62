"""The intent log and invoice ledger contract, held against both implementations: the SQL
ledger (SQLite, and PostgreSQL where FAPIAO_TEST_POSTGRES_URL is set) and the in-memory fake
the use-case tests run on, so what those tests prove holds for the real thing."""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from fapiao_gateway.domain.errors import (
    InvoiceBeingChanged,
    InvoiceDuplicate,
    InvoiceHeldElsewhere,
    OutcomePending,
    RequestIdReused,
)
from fapiao_gateway.domain.imports import ImportRecord, ImportResult
from fapiao_gateway.domain.intents import (
    IntendedWrite,
    IntentKind,
    IntentState,
    Plan,
    Reservation,
    Settlement,
)
from fapiao_gateway.domain.invoice import Invoice, InvoiceRef
from fapiao_gateway.domain.status import ReimburseStatus
from fapiao_gateway.domain.status_changes import Observation, Witness
from fapiao_gateway.ledger.engine import Database, create_engine, migrate
from fapiao_gateway.ledger.intents import IntentLog
from fapiao_gateway.ledger.invoices import InvoiceLedger

from tests.services.fakes import FakeClock, FakeLedger, LedgerState

POSTGRES_URL = os.environ.get("FAPIAO_TEST_POSTGRES_URL", "")
ACCOUNT = "wx5a6b7c8d9e0f1a2b"
LEASE_US = 5_000_000
LOCK, INIT = ReimburseStatus.LOCK, ReimburseStatus.INIT
X, Y, Z = (InvoiceRef(f"card{n}", f"code{n}") for n in "xyz")


@dataclass
class Ledger:
    intents: Any
    invoices: Any
    clock: FakeClock


@pytest.fixture(params=["fake", "sqlite", "postgresql"])
async def ledger(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[Ledger]:
    clock = FakeClock()
    if request.param == "fake":
        fake = FakeLedger(LedgerState(), clock)
        yield Ledger(fake, fake, clock)
        return
    if request.param == "sqlite":
        url, admin, name = f"sqlite+aiosqlite:///{tmp_path}/ledger.db", None, ""
    else:
        if not POSTGRES_URL:
            pytest.skip(
                "needs a real PostgreSQL: set FAPIAO_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test"
            )
        admin = await asyncpg.connect(POSTGRES_URL)
        name = f"fapiao_contract_{uuid.uuid4().hex[:12]}"
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = (
            POSTGRES_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
            + f"/{name}"
        )
    db = Database(create_engine(url))
    try:
        await migrate(db.engine)
        yield Ledger(IntentLog(db, clock), InvoiceLedger(db, clock), clock)
    finally:
        await db.close()
        if admin is not None:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


async def begin(
    ledger: Ledger,
    request_id: str = "r1",
    fingerprint: str = "f1",
    owner: str = "p1",
    kind: IntentKind = IntentKind.STATUS_CHANGE,
    account: str = ACCOUNT,
):
    return await ledger.intents.begin(
        kind=kind,
        rpc="UpdateStatus",
        account=account,
        request_id=request_id,
        caller="test",
        fingerprint=fingerprint,
        owner=owner,
        lease_us=LEASE_US,
    )


def plan(*refs: InvoiceRef, biz_code: str = "") -> Plan:
    return Plan(LOCK, tuple(IntendedWrite(r, INIT) for r in refs), biz_code=biz_code)


def record(
    ref: InvoiceRef, status: ReimburseStatus, *, code: str = "", number: str = ""
) -> ImportRecord:
    invoice = Invoice(
        ref, "openid-1", INIT, total_fen=100, invoice_code=code, invoice_number=number
    )
    return ImportRecord(invoice, {"raw": True}, status)


OTHER_ACCOUNT = "ww5a6b7c8d9e0f1a2b"
DIGITAL = "24442000000123456789"


async def test_one_tax_identity_has_one_holder_company_wide(ledger: Ledger) -> None:
    first = (await begin(ledger, "imp-1", kind=IntentKind.IMPORT)).intent
    await ledger.intents.settle_import(
        first,
        owner="p1",
        biz_code="EXP-1",
        imported_by="test",
        records=[record(X, INIT, number=DIGITAL), record(Y, INIT, code="0110", number="42")],
        fetched_at_us=ledger.clock(),
    )
    held = await ledger.invoices.holders({DIGITAL, "0110:42", "0110:43"})
    assert {k: (h.account, h.ref, h.biz_code) for k, h in held.items()} == {
        DIGITAL: (ACCOUNT, X, "EXP-1"),
        "0110:42": (ACCOUNT, Y, "EXP-1"),
    }
    # The same fapiao through another account's card: refused, nothing stored.
    other = (await begin(ledger, "imp-2", kind=IntentKind.IMPORT, account=OTHER_ACCOUNT)).intent
    with pytest.raises(InvoiceDuplicate) as refused:
        await ledger.intents.settle_import(
            other,
            owner="p1",
            biz_code="EXP-2",
            imported_by="test",
            records=[record(Z, INIT, code="0110", number="43"), record(X, INIT, number=DIGITAL)],
            fetched_at_us=ledger.clock(),
        )
    assert refused.value.metadata["biz_code"] == "EXP-1"
    assert refused.value.metadata["holder_account"] == ACCOUNT
    assert await ledger.invoices.entries(OTHER_ACCOUNT, [X, Z]) == {}
    assert set(await ledger.invoices.holders({"0110:43"})) == set()
    # The same card again (a repeated import, or a move to another bizCode) is no duplicate.
    again = (await begin(ledger, "imp-3", kind=IntentKind.IMPORT)).intent
    moved = await ledger.intents.settle_import(
        again,
        owner="p1",
        biz_code="EXP-3",
        imported_by="test",
        records=[record(X, INIT, number=DIGITAL)],
        fetched_at_us=ledger.clock(),
    )
    assert moved.invoices[0].biz_code == "EXP-3"
    assert (await ledger.invoices.holders({DIGITAL}))[DIGITAL].biz_code == "EXP-3"


async def test_racing_imports_of_one_fapiao_store_it_once(ledger: Ledger) -> None:
    intents = [
        (await begin(ledger, f"imp-{n}", kind=IntentKind.IMPORT, account=account)).intent
        for n, account in enumerate((ACCOUNT, OTHER_ACCOUNT))
    ]
    refs = (X, Y)

    async def store(n: int) -> ImportResult:
        return await ledger.intents.settle_import(
            intents[n],
            owner="p1",
            biz_code=f"EXP-{n}",
            imported_by="test",
            records=[record(refs[n], LOCK, code="0110", number="42")],
            fetched_at_us=ledger.clock(),
        )

    outcomes = await asyncio.gather(store(0), store(1), return_exceptions=True)
    stored = [o for o in outcomes if isinstance(o, ImportResult)]
    refused = [o for o in outcomes if isinstance(o, InvoiceDuplicate)]
    assert (len(stored), len(refused)) == (1, 1), outcomes
    holder = (await ledger.invoices.holders({"0110:42"}))["0110:42"]
    assert holder.biz_code == stored[0].biz_code


async def test_a_request_id_is_reserved_once(ledger: Ledger) -> None:
    first = await begin(ledger)
    assert first.state is Reservation.NEW and first.intent is not None
    assert (await begin(ledger, owner="p2")).state is Reservation.BUSY
    with pytest.raises(RequestIdReused):
        await begin(ledger, fingerprint="another body")
    assert (await begin(ledger, request_id="")).state is Reservation.NEW
    assert (await begin(ledger, request_id="")).state is Reservation.NEW


async def test_done_replays_its_outcome_and_failed_runs_again(ledger: Ledger) -> None:
    intent = (await begin(ledger, kind=IntentKind.IMPORT)).intent
    assert intent is not None
    result = ImportResult("EXP-1", ())
    await ledger.intents.settle(intent, Settlement(IntentState.DONE, result), owner="p1")
    again = await begin(ledger, owner="p2", kind=IntentKind.IMPORT)
    assert again.state is Reservation.REPLAY and again.outcome == result

    other = (await begin(ledger, request_id="r2")).intent
    assert other is not None
    await ledger.intents.settle(other, Settlement(IntentState.FAILED, error="X"), owner="p1")
    rerun = await begin(ledger, request_id="r2", owner="p2")
    assert rerun.state is Reservation.NEW and rerun.intent is not None
    assert rerun.intent.id == other.id and rerun.intent.owner == "p2"


async def test_claims_keep_two_intents_off_one_invoice(ledger: Ledger) -> None:
    first = (await begin(ledger, "a")).intent
    second = (await begin(ledger, "b")).intent
    assert first is not None and second is not None
    armed = await ledger.intents.arm(first, plan(X, Y), owner="p1", lease_us=LEASE_US)
    assert armed.state is IntentState.ARMED and armed.sent_us == ledger.clock()
    with pytest.raises(InvoiceBeingChanged):
        await ledger.intents.arm(second, plan(Z, Y), owner="p1", lease_us=LEASE_US)
    # Refused as a whole: Z was not claimed either.
    third = (await begin(ledger, "c")).intent
    assert third is not None
    await ledger.intents.arm(third, plan(Z), owner="p1", lease_us=LEASE_US)
    await ledger.intents.settle(armed, Settlement(IntentState.DONE, ()), owner="p1")
    await ledger.intents.arm(second, plan(Y), owner="p1", lease_us=LEASE_US)


async def test_a_held_claim_lapses_only_at_its_time(ledger: Ledger) -> None:
    first = (await begin(ledger, "a")).intent
    second = (await begin(ledger, "b")).intent
    assert first is not None and second is not None
    armed = await ledger.intents.arm(first, plan(X), owner="p1", lease_us=LEASE_US)
    hold = ledger.clock() + 2_000_000
    await ledger.intents.settle(
        armed, Settlement(IntentState.FAILED, hold_until_us=hold), owner="p1"
    )
    with pytest.raises(InvoiceBeingChanged):
        await ledger.intents.arm(second, plan(X), owner="p1", lease_us=LEASE_US)
    ledger.clock.advance(2)
    assert await ledger.intents.purge_lapsed_claims() == 1
    await ledger.intents.arm(second, plan(X), owner="p1", lease_us=LEASE_US)


async def test_only_the_owner_settles_and_one_process_takes_over(ledger: Ledger) -> None:
    intent = (await begin(ledger)).intent
    assert intent is not None
    armed = await ledger.intents.arm(intent, plan(X), owner="p1", lease_us=LEASE_US)
    with pytest.raises(OutcomePending):
        await ledger.intents.settle(armed, Settlement(IntentState.DONE, ()), owner="p2")
    assert await ledger.intents.due(sent_before_us=ledger.clock()) == []
    assert await ledger.intents.take_over(armed.id, owner="p2", lease_us=LEASE_US) is None
    await ledger.intents.release(armed, owner="p1", just_sent=True)
    ledger.clock.advance(1)
    assert [i.id for i in await ledger.intents.due(sent_before_us=ledger.clock() - 2_000_000)] == []
    assert [i.id for i in await ledger.intents.due(sent_before_us=ledger.clock())] == [armed.id]
    taken = await asyncio.gather(
        ledger.intents.take_over(armed.id, owner="p2", lease_us=LEASE_US),
        ledger.intents.take_over(armed.id, owner="p3", lease_us=LEASE_US),
    )
    winners = [t for t in taken if t is not None]
    assert len(winners) == 1
    assert (await begin(ledger, owner="p4")).state is Reservation.BUSY
    with pytest.raises(OutcomePending):
        await ledger.intents.settle(armed, Settlement(IntentState.DONE, ()), owner="p1")
    await ledger.intents.settle(
        winners[0], Settlement(IntentState.DONE, ()), owner=winners[0].owner
    )


async def test_an_owner_that_stops_renewing_loses_its_intent(ledger: Ledger) -> None:
    intent = (await begin(ledger)).intent
    assert intent is not None
    assert await ledger.intents.renew([intent.id], owner="p1", lease_us=LEASE_US) == 1
    ledger.clock.advance(4)
    assert (await begin(ledger, owner="p2")).state is Reservation.BUSY
    ledger.clock.advance(2)
    # STARTED with its owner gone: nothing was sent, so a retry simply runs again.
    retried = await begin(ledger, owner="p2")
    assert retried.state is Reservation.NEW
    armed = await ledger.intents.arm(retried.intent, plan(X), owner="p2", lease_us=LEASE_US)
    ledger.clock.advance(6)
    resumed = await begin(ledger, owner="p3")
    assert resumed.state is Reservation.RESOLVE and resumed.intent is not None
    assert resumed.intent.id == armed.id and resumed.intent.plan == plan(X)


async def test_an_import_is_stored_once_and_guarded(ledger: Ledger) -> None:
    intent = (await begin(ledger, "imp-1", kind=IntentKind.IMPORT)).intent
    assert intent is not None
    armed = await ledger.intents.arm(
        intent, plan(X, biz_code="EXP-1"), owner="p1", lease_us=LEASE_US
    )
    stored = await ledger.intents.settle_import(
        armed,
        owner="p1",
        biz_code="EXP-1",
        imported_by="test",
        records=[record(X, LOCK), record(Y, INIT)],
        fetched_at_us=ledger.clock(),
    )
    assert [i.invoice.reimburse_status for i in stored.invoices] == [LOCK, INIT]
    entries = await ledger.invoices.entries(ACCOUNT, [X, Y, Z])
    assert {r: e.biz_code for r, e in entries.items()} == {X: "EXP-1", Y: "EXP-1"}
    other = (await begin(ledger, "imp-2", kind=IntentKind.IMPORT)).intent
    assert other is not None
    # Fetched (as INIT) before EXP-1 locked it: the ledger row is fresher, and says LOCK.
    with pytest.raises(InvoiceHeldElsewhere):
        await ledger.intents.settle_import(
            other,
            owner="p1",
            biz_code="EXP-2",
            imported_by="test",
            records=[record(X, INIT)],
            fetched_at_us=ledger.clock() - 1,
        )
    moved = await ledger.intents.settle_import(
        other,
        owner="p1",
        biz_code="EXP-2",
        imported_by="test",
        records=[record(Y, INIT)],
        fetched_at_us=ledger.clock(),
    )
    assert moved.invoices[0].biz_code == "EXP-2"


async def test_an_import_locks_what_another_report_let_go(ledger: Ledger) -> None:
    """An invoice another report holds in INIT (unlocked: the report let it go) is the next
    import's to lock and store, as ImportInvoices checked before it locked: its own lock
    says nothing of the other report's hold. A row another report holds in LOCK, fresher
    than the import's read of WeChat, still refuses it."""
    first = (await begin(ledger, "imp-1", kind=IntentKind.IMPORT)).intent
    assert first is not None
    await ledger.intents.settle_import(
        first,
        owner="p1",
        biz_code="EXP-1",
        imported_by="test",
        records=[record(X, INIT)],
        fetched_at_us=ledger.clock(),
    )
    ledger.clock.advance(1)
    second = (await begin(ledger, "imp-2", kind=IntentKind.IMPORT)).intent
    assert second is not None
    armed = await ledger.intents.arm(
        second, plan(X, biz_code="EXP-2"), owner="p1", lease_us=LEASE_US
    )
    taken = await ledger.intents.settle_import(
        armed,
        owner="p1",
        biz_code="EXP-2",
        imported_by="test",
        records=[record(X, LOCK)],
        fetched_at_us=ledger.clock(),
    )
    assert [(i.biz_code, i.invoice.reimburse_status) for i in taken.invoices] == [("EXP-2", LOCK)]
    entries = await ledger.invoices.entries(ACCOUNT, [X])
    assert (entries[X].biz_code, entries[X].status) == ("EXP-2", LOCK)
    third = (await begin(ledger, "imp-3", kind=IntentKind.IMPORT)).intent
    assert third is not None
    # Read WeChat (INIT) before EXP-2 stored its lock: the fresher row says EXP-2 holds it.
    with pytest.raises(InvoiceHeldElsewhere) as refused:
        await ledger.intents.settle_import(
            third,
            owner="p1",
            biz_code="EXP-3",
            imported_by="test",
            records=[record(X, LOCK)],
            fetched_at_us=ledger.clock() - 1,
        )
    assert refused.value.metadata.get("biz_code") == "EXP-2"


async def test_reads_do_not_move_an_invoice_an_intent_is_changing(ledger: Ledger) -> None:
    imp = (await begin(ledger, "imp", kind=IntentKind.IMPORT)).intent
    assert imp is not None
    await ledger.intents.settle_import(
        imp,
        owner="p1",
        biz_code="EXP-1",
        imported_by="test",
        records=[record(X, INIT), record(Y, INIT)],
        fetched_at_us=ledger.clock(),
    )
    change = (await begin(ledger, "chg")).intent
    assert change is not None
    armed = await ledger.intents.arm(change, plan(X), owner="p1", lease_us=LEASE_US)
    ledger.clock.advance(1)
    drifts = await ledger.invoices.follow(
        ACCOUNT,
        {X: Observation(LOCK), Y: Observation(LOCK)},
        witness=Witness("reader", "GetInvoices"),
    )
    assert [d.ref for d in drifts] == [Y]
    known = await ledger.invoices.known(ACCOUNT, [X, Y])
    assert (known[X].status, known[Y].status) == (INIT, LOCK)
    await ledger.intents.settle(
        armed, Settlement(IntentState.DONE, ()), owner="p1", statuses={X: LOCK}
    )
    assert (await ledger.invoices.known(ACCOUNT, [X]))[X].status is LOCK
    busy = (await begin(ledger, "imp2", kind=IntentKind.IMPORT)).intent
    other = (await begin(ledger, "chg2")).intent
    await ledger.intents.arm(other, plan(Y), owner="p1", lease_us=LEASE_US)
    with pytest.raises(InvoiceBeingChanged):
        await ledger.intents.settle_import(
            busy,
            owner="p1",
            biz_code="EXP-1",
            imported_by="test",
            records=[record(Y, INIT)],
            fetched_at_us=ledger.clock(),
        )


async def test_a_read_sent_before_a_row_changed_is_not_followed(ledger: Ledger) -> None:
    """A read that saw an invoice free, arriving after an import locked and stored it, must
    not take the row back to INIT: the row changed at or after the read was sent."""
    read_sent = ledger.clock()
    imp = (await begin(ledger, "imp", kind=IntentKind.IMPORT)).intent
    assert imp is not None
    await ledger.intents.settle_import(
        imp,
        owner="p1",
        biz_code="EXP-1",
        imported_by="test",
        records=[record(X, LOCK)],
        fetched_at_us=ledger.clock(),
    )
    witness = Witness("reader", "GetInvoice")
    assert (
        await ledger.invoices.follow(
            ACCOUNT, {X: Observation(INIT, None, read_sent)}, witness=witness
        )
        == ()
    )
    assert (await ledger.invoices.known(ACCOUNT, [X]))[X].status is LOCK
    ledger.clock.advance(1)
    later = await ledger.invoices.follow(
        ACCOUNT, {X: Observation(INIT, None, ledger.clock())}, witness=witness
    )
    assert [d.ref for d in later] == [X], "a read sent after the change is followed"
