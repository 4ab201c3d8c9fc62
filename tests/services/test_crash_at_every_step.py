"""Every mutating use case, killed at every step, then recovered: the invariants hold, and
the request, retried with its request_id, recovers and keeps answering its first outcome.

A step is a port call (an upstream read or write, a ledger read or transaction), before or
after its effect. For each use case the run without a crash is counted, then the process
is killed at step 1, 2, ... up to the last; another process starts once the lease has
passed, runs recovery, and retries the same request.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from fapiao_gateway.domain.errors import GatewayError
from fapiao_gateway.domain.invoice import InvoiceRef
from fapiao_gateway.domain.status import ReimburseStatus

from tests.services.fakes import Crash, Life
from tests.services.world import Command as UseCaseCommand
from tests.services.world import (
    World,
    assert_invariants,
    change,
    import_picks,
    invoices,
    open_session,
    run,
    told,
)

ZHANG = invoices()[:6]
LI = invoices()[6:10]
TWIN = invoices()[-1]  # another card of ZHANG[0]'s fapiao
LOCK, INIT, CLOSURE = ReimburseStatus.LOCK, ReimburseStatus.INIT, ReimburseStatus.CLOSURE


@dataclass(frozen=True)
class Scenario:
    """Commands that set the scene (run without a crash), then the one that is killed."""

    name: str
    setup: tuple[UseCaseCommand, ...]
    command: UseCaseCommand
    #: Whether the command, run on its own, succeeds (so its retry must too).
    succeeds: bool = True
    #: WeChat's behaviour during the command: write number -> errcode refusing it, and the
    #: writes whose answer is lost after they are applied.
    refusals: tuple[tuple[int, int], ...] = ()
    lost: tuple[int, ...] = ()


def _openid(world: World, invoice: object) -> str:
    holder = invoice.holder  # type: ignore[attr-defined]
    return world.wechat.emulator.openid(holder, "wx5a6b7c8d9e0f1a2b")


SCENARIOS: list[Callable[[World], Scenario]] = [
    lambda w: Scenario(
        "import and lock, two openids, several batches",
        (),
        import_picks("imp-1", "EXP-A", ZHANG[:4] + LI[:3]),
    ),
    lambda w: Scenario(
        "import whose second lock batch WeChat refuses",
        (),
        import_picks("imp-5", "EXP-H", ZHANG[:6]),
        succeeds=False,
        refusals=((2, 72024),),
    ),
    lambda w: Scenario(
        "import whose second lock batch's answer is lost",
        (),
        import_picks("imp-6", "EXP-I", ZHANG[:6]),
        succeeds=False,
        lost=(2,),
    ),
    lambda w: Scenario(
        "import whose rollback's answer is lost",
        (),
        import_picks("imp-7", "EXP-J", ZHANG[:6]),
        succeeds=False,
        refusals=((2, 72024),),
        lost=(3,),
    ),
    lambda w: Scenario(
        "import without lock", (), import_picks("imp-2", "EXP-B", ZHANG[:3], lock=False)
    ),
    lambda w: Scenario("import with a generated bizCode", (), import_picks("imp-3", "", ZHANG[:2])),
    lambda w: Scenario(
        "import refused halfway: an invoice locked by another account",
        (),
        import_picks("imp-4", "EXP-C", [*ZHANG[:2], invoices()[10]]),
        succeeds=False,
    ),
    lambda w: Scenario(
        "import refused before any lock: another card of the same fapiao is held",
        (import_picks("setup-6", "EXP-T", ZHANG[:1]),),
        import_picks("imp-8", "EXP-U", [ZHANG[1], TWIN]),
        succeeds=False,
    ),
    lambda w: Scenario(
        "unlock one invoice",
        (import_picks("setup-1", "EXP-D", ZHANG[:2]),),
        change("st-1", ZHANG[:1], INIT),
    ),
    lambda w: Scenario(
        "unlock whose answer is lost",
        (import_picks("setup-5", "EXP-K", ZHANG[:2]),),
        change("st-5", ZHANG[:1], INIT),
        succeeds=False,
        lost=(1,),
    ),
    lambda w: Scenario(
        "write off a batch of one openid",
        (import_picks("setup-2", "EXP-E", LI[:3]),),
        change("st-2", LI[:3], CLOSURE, _openid(w, LI[0])),
    ),
    lambda w: Scenario(
        "lock one imported invoice",
        (import_picks("setup-3", "EXP-F", ZHANG[5:6], lock=False),),
        change("st-3", ZHANG[5:6], LOCK),
    ),
    lambda w: Scenario(
        "lock a batch of one openid's imported invoices",
        (import_picks("setup-4", "EXP-G", ZHANG[:3], lock=False),),
        change("st-4", ZHANG[:3], LOCK, _openid(w, ZHANG[0])),
    ),
    lambda w: Scenario("open an import session", (), open_session("qr-1", "EXP-QR")),
]


async def _steps_without_crash(make: Callable[[World], Scenario]) -> int:
    world = World.new()
    scenario = make(world)
    for command in scenario.setup:
        assert not isinstance(await run(world.process("setup"), command), GatewayError)
    _misbehave(world, scenario)
    life = Life()
    await run(world.process("victim", life), scenario.command)
    return life.step


def _misbehave(world: World, scenario: Scenario) -> None:
    """WeChat refuses or loses the answers the scenario says, counting from its command."""
    start = world.wechat.writes_sent
    world.wechat.refusals = {start + n: code for n, code in scenario.refusals}
    world.wechat.lost = {start + n for n in scenario.lost}


def _behave(world: World) -> None:
    world.wechat.refusals, world.wechat.lost = {}, set()


@pytest.mark.parametrize("make", SCENARIOS, ids=lambda m: m(World.new()).name)
async def test_killed_at_every_step_then_recovered(make: Callable[[World], Scenario]) -> None:
    total = await _steps_without_crash(make)
    assert total >= 4
    for crash_at in range(1, total + 1):
        world = World.new()
        scenario = make(world)
        owners: dict[InvoiceRef, str] = {}
        for command in scenario.setup:
            outcome = await run(world.process("setup"), command)
            assert not isinstance(outcome, GatewayError), outcome
            told(owners, command, outcome)
        _misbehave(world, scenario)
        life = Life(crash_at)
        try:
            first: object = await run(world.process("victim", life), scenario.command)
            told(owners, scenario.command, first)
        except Crash:
            first = Crash
            told(owners, scenario.command, None)
        where = f"killed at step {crash_at} of {total} ({life.trace[-1] if life.trace else '-'})"
        _behave(world)

        await world.recover()
        try:
            assert_invariants(world, owners)
        except AssertionError as broken:
            raise AssertionError(f"{where}: {broken}") from broken

        survivor = world.process("retry")
        retried = await run(survivor, scenario.command)
        if first is Crash:
            if scenario.succeeds:
                assert not isinstance(retried, GatewayError), (where, retried)
        else:
            assert first == retried, (where, first, retried)  # the first outcome, replayed
        told(owners, scenario.command, retried)
        replayed = await run(survivor, scenario.command)
        if not isinstance(retried, GatewayError):
            assert retried == replayed, (where, retried, replayed)
        await world.recover()
        assert_invariants(world, owners)
