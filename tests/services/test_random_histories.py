"""Random histories: several gateway processes at once, imports racing for the same invoices
under different reports, status changes, replays of earlier requests, lost answers and
killed processes, interleaved at every port call. After each round the dead are recovered
by a survivor; throughout, the invariants hold and every replay gets its first outcome.

This is the test that found an import's rollback unlocking another report's invoice, in
the gateway before intents: two imports of one invoice, the first failing ambiguously.
"""

import asyncio
import random
from dataclasses import dataclass

from fapiao_gateway.domain.errors import GatewayError
from fapiao_gateway.domain.invoice import InvoiceRef
from fapiao_gateway.domain.status import ReimburseStatus
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.services.fakes import Crash, Life
from tests.services.world import (
    APPID,
    World,
    assert_invariants,
    change,
    import_picks,
    invoices,
    run,
    told,
)
from tests.services.world import Command as UseCaseCommand

ZHANG, LI = invoices()[:6], invoices()[6:10]
TARGETS = [ReimburseStatus.LOCK, ReimburseStatus.INIT, ReimburseStatus.CLOSURE]
#: Each request's deadline, in real seconds. A retry of a request whose process was killed
#: earlier in the round finds it BUSY (its owner's lease lasts until the fake clock moves, at
#: the end of the round) and waits out its deadline: DEADLINE_EXCEEDED, nothing done. Thirty
#: seconds of that each made some runs take minutes; a concurrent duplicate of a live request
#: needs only a few turns of the event loop.
PATIENCE_SECONDS = 0.5


@dataclass(frozen=True)
class Step:
    """One request in a round: what, in which process, whether that process is killed (at
    which of its steps), and which of its writes lose their answer."""

    command: UseCaseCommand
    crash_at: int | None
    lose_answer: bool


@st.composite
def commands(draw: st.DrawFn, serial: list[int]) -> UseCaseCommand:
    serial[0] += 1
    request_id = f"r{serial[0]}"
    holder = draw(st.sampled_from([ZHANG, LI]))
    picked = draw(st.lists(st.sampled_from(holder), min_size=1, max_size=4, unique_by=id))
    kind = draw(st.sampled_from(["import", "import", "change", "batch"]))
    if kind == "import":
        return import_picks(
            request_id,
            draw(st.sampled_from(["EXP-A", "EXP-B", "EXP-C"])),
            picked,
            lock=draw(st.booleans()),
        )
    target = draw(st.sampled_from(TARGETS))
    if kind == "change":
        return change(request_id, picked[:1], target)
    openid = World.new().wechat.emulator.openid(picked[0].holder, APPID)
    return change(request_id, picked, target, openid)


@st.composite
def histories(draw: st.DrawFn) -> list[list[Step]]:
    serial = [0]
    rounds: list[list[Step]] = []
    earlier: list[UseCaseCommand] = []
    for _ in range(draw(st.integers(1, 4))):
        steps = []
        for _ in range(draw(st.integers(1, 3))):
            if earlier and draw(st.integers(0, 4)) == 0:
                command = draw(st.sampled_from(earlier))  # a retry or replay
            else:
                command = draw(commands(serial))
                earlier.append(command)
            crash_at = draw(st.one_of(st.none(), st.integers(1, 20)))
            steps.append(Step(command, crash_at, draw(st.integers(0, 5)) == 0))
        rounds.append(steps)
    return rounds


async def _history(rounds: list[list[Step]], seed: int) -> None:
    world = World.new(batch_size=2)
    owners: dict[InvoiceRef, str] = {}
    answered: dict[str, object] = {}
    shuffle = random.Random(seed)

    async def one(step: Step, index: int) -> None:
        life = Life(step.crash_at, shuffle=shuffle)
        if step.lose_answer:
            world.wechat.lost.add(world.wechat.writes_sent + 1)
        try:
            outcome = await run(
                world.process(f"p{index}", life), step.command, deadline_seconds=PATIENCE_SECONDS
            )
        except Crash:
            told(owners, step.command, None)
            return
        first = answered.get(step.command.request_id)
        if first is not None:
            assert outcome == first, (step.command, first, outcome)  # a replay
            return
        if not isinstance(outcome, GatewayError):
            answered[step.command.request_id] = outcome
        told(owners, step.command, outcome)

    async def recovering() -> None:
        """Recovery in another process, running while the requests do (as in production)."""
        survivor = world.process("recovery", Life(shuffle=shuffle))
        for _ in range(4):
            await survivor.recovery.run_once()
            await asyncio.sleep(0)

    for steps in rounds:
        await asyncio.gather(recovering(), *(one(step, n) for n, step in enumerate(steps)))
        world.wechat.lost.clear()
        await world.recover()
        assert_invariants(world, owners)


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(rounds=histories(), seed=st.integers(0, 2**16))
@example(  # an unlock applied at WeChat, its answer lost: settled DONE by recovery
    rounds=[
        [Step(import_picks("r1", "EXP-A", ZHANG[:1]), crash_at=None, lose_answer=False)],
        [
            Step(
                change("r2", ZHANG[:1], ReimburseStatus.INIT),
                crash_at=None,
                lose_answer=True,
            )
        ],
    ],
    seed=0,
)
def test_random_histories_keep_every_invariant(rounds: list[list[Step]], seed: int) -> None:
    asyncio.run(_history(rounds, seed))


def test_an_unlock_whose_answer_was_lost_is_not_counted_on() -> None:
    """An unlock WeChat applied but whose answer was lost: its caller is told UNAVAILABLE
    (maybe applied), and recovery settles it DONE by reading WeChat (INIT). The caller
    cannot count on its report holding the invoice any more; its retry replays the unlock,
    and another report can then take the invoice."""

    async def history() -> None:
        world = World.new()
        owners: dict[InvoiceRef, str] = {}
        imported, unlock = (
            import_picks("a", "EXP-A", ZHANG[:1]),
            change("u", ZHANG[:1], ReimburseStatus.INIT),
        )
        told(owners, imported, await run(world.process("pa"), imported))
        assert owners == {InvoiceRef(ZHANG[0].card_id, ZHANG[0].encrypt_code): "EXP-A"}
        world.wechat.lost.add(world.wechat.writes_sent + 1)
        lost = await run(world.process("pu"), unlock)
        assert isinstance(lost, GatewayError) and lost.maybe_applied, lost
        told(owners, unlock, lost)
        assert not owners
        world.wechat.lost.clear()
        await world.recover()
        assert_invariants(world, owners)
        assert world.status(ZHANG[0]) is ReimburseStatus.INIT
        again = await run(world.process("pu2"), unlock)
        assert isinstance(again, tuple) and again, again  # the unlock, as recovery settled it
        taken = import_picks("b", "EXP-B", ZHANG[:1])  # the invoice is free for another report
        second = await run(world.process("pb"), taken)
        assert not isinstance(second, GatewayError), second
        told(owners, taken, second)
        await world.recover()
        assert_invariants(world, owners)
        assert owners == {InvoiceRef(ZHANG[0].card_id, ZHANG[0].encrypt_code): "EXP-B"}

    asyncio.run(history())


def test_a_read_from_before_an_import_locked_does_not_unlock_it_in_the_ledger() -> None:
    """Unlock U of an invoice nobody imported yet: WeChat refuses it (already INIT), and U
    re-reads the invoice (INIT) to make the ledger show the truth. Before that read reaches
    the ledger, import A claims, locks and stores the invoice (its row LOCK under EXP-A).
    Then U's read arrives: the row is no longer claimed, so the ledger follows it back to
    INIT (and audits a drift) while WeChat shows A's lock: locked at WeChat, INIT in the
    ledger. The same window is open to every reader that follows (reconciliation, the
    read follower). The random histories hit it rarely, when a duplicate's real-time poll
    shifts the interleaving."""

    async def race() -> None:
        world = World.new()
        owners: dict[InvoiceRef, str] = {}
        a, u = import_picks("a", "EXP-A", ZHANG[:1]), change("u", ZHANG[:1], ReimburseStatus.INIT)
        life_a, life_u = Life(), Life()
        u_read, a_stored = asyncio.Event(), asyncio.Event()
        life_u.signal("fetch_batches", 1, u_read)  # U re-read WeChat after its refused unlock
        life_a.hold("arm", 1, u_read)  # A claims and locks only after that read ...
        life_a.signal("settle_import", 1, a_stored)
        life_u.hold("follow", 1, a_stored)  # ... and U's read reaches the ledger after A stored
        unlocked, imported = await asyncio.gather(
            run(world.process("pu", life_u), u), run(world.process("pa", life_a), a)
        )
        assert isinstance(unlocked, GatewayError), unlocked
        assert not isinstance(imported, GatewayError), imported
        for command, outcome in ((u, unlocked), (a, imported)):
            told(owners, command, outcome)
        await world.recover()
        assert world.status(ZHANG[0]) is ReimburseStatus.LOCK
        assert_invariants(world, owners)

    asyncio.run(race())


def test_an_import_rollback_never_releases_another_reports_lock() -> None:
    """The race issue 10 reported, forced step by step: import A (invoices 0-3, locked two
    at a time) has locked 0 and 1; import B locks invoice 2 and is about to record it; A's
    second batch (2, 3) fails with its answer lost, so recovery undoes A while B has not
    recorded yet. Before intents, A's rollback released B's lock and B was told OK. Now B
    cannot even start: A's intent holds the claim on invoice 2 until it is settled."""

    async def race() -> None:
        world = World.new(batch_size=2)
        owners: dict[InvoiceRef, str] = {}
        a, b = import_picks("a", "EXP-A", ZHANG[:4]), import_picks("b", "EXP-B", ZHANG[2:3])
        life_a, life_b = Life(), Life()
        a_first_batch, b_locked, a_second_batch, a_undone = (asyncio.Event() for _ in range(4))
        life_a.signal("set_statuses", 1, a_first_batch)
        life_b.hold("arm", 1, a_first_batch)  # B starts after A has locked 0 and 1
        life_b.signal("set_statuses", 1, b_locked)
        life_a.hold("set_statuses", 2, b_locked)  # A's second batch once B has locked 2 ...
        life_b.hold("settle_import", 1, a_undone)  # ... and B records only after A's undo
        life_a.signal("set_statuses", 2, a_second_batch)
        world.wechat.lost.add(2)  # A's second batch: its answer is lost

        async def a_then_recovery() -> object:
            outcome = await run(world.process("pa", life_a), a)
            await world.process("recovery").recovery.run_once()
            a_undone.set()
            return outcome

        async def b_unblocked_if_refused() -> object:
            outcome = await run(world.process("pb", life_b), b)
            b_locked.set()  # B did not get as far as locking: let A go on
            return outcome

        first, second = await asyncio.gather(a_then_recovery(), b_unblocked_if_refused())
        for command, outcome in ((a, first), (b, second)):
            told(owners, command, outcome)
        world.wechat.lost.clear()
        await world.recover()
        assert_invariants(world, owners)
        assert isinstance(second, GatewayError) and second.reason == "INVOICE_CHANGE_IN_PROGRESS"
        again = await run(world.process("pc"), b)  # B retried once A is settled: it wins
        told(owners, b, again)
        assert not isinstance(again, GatewayError), again
        await world.recover()
        assert_invariants(world, owners)
        assert owners[InvoiceRef(ZHANG[2].card_id, ZHANG[2].encrypt_code)] == "EXP-B"

    asyncio.run(race())


def test_an_import_that_finds_a_fresh_lock_names_the_report_that_settled_it() -> None:
    """The interleaving CI caught on PostgreSQL: B has locked the invoice but not stored it
    when A reads WeChat (LOCK) and the ledger (no entry); B then settles before A asks
    whether another request is changing the invoice. A must be told ALREADY_EXISTS naming
    B's report, not a bare FAILED_PRECONDITION it cannot act on."""

    async def race() -> None:
        world = World.new()
        owners: dict[InvoiceRef, str] = {}
        a, b = import_picks("a", "EXP-A", ZHANG[:1]), import_picks("b", "EXP-B", ZHANG[:1])
        life_a, life_b = Life(), Life()
        b_locked, a_read, b_settled = (asyncio.Event() for _ in range(3))
        life_b.signal("set_statuses", 1, b_locked)
        life_b.hold("settle_import", 1, a_read)  # B stores only after A has read the ledger
        life_b.signal("settle_import", 1, b_settled)
        life_a.signal("entries", 1, a_read)
        life_a.hold("claimed", 1, b_settled)  # ... and A asks about claims after B settled

        async def a_after_b_locked() -> object:
            await b_locked.wait()
            return await run(world.process("pa", life_a), a)

        first, second = await asyncio.gather(
            a_after_b_locked(), run(world.process("pb", life_b), b)
        )
        for command, outcome in ((b, second), (a, first)):
            told(owners, command, outcome)
        await world.recover()
        assert_invariants(world, owners)
        assert not isinstance(second, GatewayError), second
        assert isinstance(first, GatewayError), first
        assert (first.reason, first.metadata.get("biz_code")) == (
            "INVOICE_ALREADY_IMPORTED",
            "EXP-B",
        ), first

    asyncio.run(race())


def test_an_import_refused_at_store_time_as_a_duplicate_releases_its_lock() -> None:
    """Two cards of one fapiao imported at once: A's and B's early duplicate checks both
    pass (neither has stored yet), both lock their card at WeChat, A stores first. B's
    store finds A holding the tax identity and is refused (ALREADY_EXISTS naming A's
    report); B's own lock is released, so nothing stays locked without a ledger owner."""

    async def race() -> None:
        world = World.new()
        owners: dict[InvoiceRef, str] = {}
        twin = invoices()[-1]
        a, b = import_picks("a", "EXP-A", ZHANG[:1]), import_picks("b", "EXP-B", [twin])
        life_a, life_b = Life(), Life()
        b_locked, a_settled = asyncio.Event(), asyncio.Event()
        life_b.signal("set_statuses", 1, b_locked)
        life_a.hold("settle_import", 1, b_locked)  # A stores once B has locked ...
        life_a.signal("settle_import", 1, a_settled)
        life_b.hold("settle_import", 1, a_settled)  # ... and B stores after A

        first, second = await asyncio.gather(
            run(world.process("pa", life_a), a), run(world.process("pb", life_b), b)
        )
        for command, outcome in ((a, first), (b, second)):
            told(owners, command, outcome)
        await world.recover()
        assert_invariants(world, owners)
        assert not isinstance(first, GatewayError), first
        assert isinstance(second, GatewayError), second
        assert (second.reason, second.metadata.get("biz_code")) == (
            "INVOICE_DUPLICATE",
            "EXP-A",
        ), second
        assert world.status(twin) is ReimburseStatus.INIT  # B's lock was released
        assert world.status(ZHANG[0]) is ReimburseStatus.LOCK
        assert (APPID, InvoiceRef(twin.card_id, twin.encrypt_code)) not in world.state.rows

    asyncio.run(race())


def test_an_import_that_read_a_lock_since_undone_is_told_to_retry() -> None:
    """Import A's lock lands but its answer is lost, so A leaves the intent to recovery.
    Import C reads WeChat meanwhile (LOCK), and asks the ledger only after recovery has
    released A's lock: nothing of the gateway holds the invoice any more. C must be told to
    retry (ABORTED), not that the invoice cannot be locked; and its retry wins."""

    async def race() -> None:
        world = World.new()
        owners: dict[InvoiceRef, str] = {}
        a, c = import_picks("a", "EXP-A", ZHANG[:1]), import_picks("c", "EXP-C", ZHANG[:1])
        life_c = Life()
        a_undone = asyncio.Event()
        life_c.hold("claimed", 1, a_undone)
        world.wechat.lost.add(1)  # A's lock: applied, its answer lost

        first = await run(world.process("pa"), a)
        assert isinstance(first, GatewayError)
        assert world.status(ZHANG[0]) is ReimburseStatus.LOCK

        async def recover_a() -> None:
            world.wechat.lost.clear()
            await world.recover()
            a_undone.set()

        second, _ = await asyncio.gather(run(world.process("pc", life_c), c), recover_a())
        assert isinstance(second, GatewayError), second
        assert second.reason == "INVOICE_CHANGE_IN_PROGRESS", second
        told(owners, a, first)
        again = await run(world.process("pc2"), c)
        told(owners, c, again)
        assert not isinstance(again, GatewayError), again
        await world.recover()
        assert_invariants(world, owners)

    asyncio.run(race())
