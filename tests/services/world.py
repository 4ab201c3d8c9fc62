"""A world for the use cases: WeChat (the emulator), a ledger that outlives processes, and
gateway processes built on them through the real composition root (bootstrap.build_services)
with every port mortal."""

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from fapiao_gateway.bootstrap import Services, build_services
from fapiao_gateway.domain.accounts import WeChatAccount
from fapiao_gateway.domain.callers import ANY, Caller
from fapiao_gateway.domain.commands import ChangeStatus, ImportPicks, OpenImportSession
from fapiao_gateway.domain.context import Deadline, RequestContext
from fapiao_gateway.domain.errors import GatewayError
from fapiao_gateway.domain.imports import ImportResult
from fapiao_gateway.domain.intents import IntentState
from fapiao_gateway.domain.invoice import InvoiceRef
from fapiao_gateway.domain.status import ReimburseStatus
from fapiao_gateway.domain.status_changes import AuditOutcome
from fapiao_gateway.sandbox import seed
from fapiao_gateway.sandbox.emulator import Emulator, SandboxInvoice
from fapiao_gateway.services.reservations import IntentPolicy

from tests.services.fakes import FakeClock, FakeLedger, FakeWeChat, LedgerState, Life, mortal

APPID = seed.PRIMARY.appid
CALLER = Caller("expense-service", frozenset({ANY}), frozenset({ANY}))
LEASE_SECONDS = 5.0
#: WeChat here answers at once and never lets a request land late, so nothing to wait for.
POLICY = dict(
    lease_seconds=LEASE_SECONDS, settle_seconds=0.0, max_wait_seconds=2.0, poll_seconds=0.001
)


def invoices() -> list[SandboxInvoice]:
    """Six invoices of Zhang and four of Li (two openids: imports lock in two groups), the
    seed's invoice locked by the partner account, and last a second card of Zhang's first
    invoice (the same fapiao re-inserted into the card package: one tax identity)."""
    zhang = seed.synthetic(6, holder=seed.ZHANG)
    li = seed.synthetic(4, holder=seed.LI, start=100)
    partner_locked = [i for i in seed.invoices() if i.lock_owner]
    twin = SandboxInvoice(
        card_id="pTwin" + zhang[0].card_id[5:],
        encrypt_code="dHdpbi1jYXJk" + zhang[0].encrypt_code[12:],
        holder=zhang[0].holder,
        payload=copy.deepcopy(zhang[0].payload),
    )
    return zhang + li + partner_locked + [twin]


def ref(invoice: SandboxInvoice) -> InvoiceRef:
    return InvoiceRef(invoice.card_id, invoice.encrypt_code)


class Directory:
    def find(self, name: str) -> WeChatAccount | None:
        return WeChatAccount(APPID, "sandbox") if name in (APPID, "sandbox") else None

    def listed(self) -> tuple[WeChatAccount, ...]:
        return (WeChatAccount(APPID, "sandbox"),)


@dataclass
class World:
    """What outlives a gateway process."""

    wechat: FakeWeChat
    state: LedgerState = field(default_factory=LedgerState)

    @property
    def clock(self) -> FakeClock:
        """The world's one clock: WeChat's reads and the ledger's rows are timed by it."""
        return self.wechat.clock

    @classmethod
    def new(cls, *, batch_size: int = 3) -> "World":
        return cls(FakeWeChat(Emulator(seed.ACCOUNTS, invoices()), batch_size=batch_size))

    @property
    def ledger(self) -> FakeLedger:
        return FakeLedger(self.state, self.clock)

    def process(self, owner: str, life: Life | None = None) -> Services:
        """A gateway process over this world, dying as `life` says."""
        life = life or Life()
        wechat, ledger = mortal(self.wechat, life), mortal(self.ledger, life)
        return build_services(
            accounts=Directory(),
            source=wechat,
            writer=wechat,
            tickets=wechat,
            invoices=ledger,
            intents=ledger,
            audit=ledger,
            sessions=ledger,
            open_invoices=ledger,
            call_budget=ledger,
            policy=IntentPolicy(owner=owner, **POLICY),
            clock=self.clock,
            import_page_url="https://reimburse.example.com/import",
            batch_size=self.wechat.batch_size,
        )

    async def recover(self) -> None:
        """Another process starts after this one's lease has passed, and recovers."""
        self.clock.advance(LEASE_SECONDS + 1)
        survivor = self.process("survivor")
        for _ in range(10):
            await survivor.recovery.run_once()
            if not await self.ledger.due(sent_before_us=self.clock()):
                return
        raise AssertionError("recovery did not settle everything")

    def status(self, invoice: SandboxInvoice) -> ReimburseStatus:
        return self.wechat.emulator.status_of(invoice.card_id, invoice.encrypt_code)


def ctx(deadline_seconds: float = 30) -> RequestContext:
    return RequestContext(CALLER, Deadline.after(deadline_seconds))


Command = ImportPicks | ChangeStatus | OpenImportSession


async def run(services: Services, command: Command, *, deadline_seconds: float = 30) -> object:
    """The command through its use case: its outcome, or the GatewayError it failed with.
    `deadline_seconds` is the caller's deadline (real time: it bounds only how long a
    duplicate of a request still running waits for it)."""
    try:
        match command:
            case ImportPicks():
                return await services.importer.import_invoices(ctx(deadline_seconds), command)
            case ChangeStatus():
                return tuple(await services.updater.change(ctx(deadline_seconds), command))
            case OpenImportSession():
                return (await services.qr.issue(ctx(deadline_seconds), command)).session
    except GatewayError as error:
        return error


def import_picks(
    request_id: str, biz_code: str, picked: Iterable[SandboxInvoice], *, lock: bool = True
) -> ImportPicks:
    return ImportPicks(APPID, request_id, biz_code, tuple(ref(i) for i in picked), lock)


def change(
    request_id: str, picked: Iterable[SandboxInvoice], target: ReimburseStatus, openid: str = ""
) -> ChangeStatus:
    return ChangeStatus(APPID, request_id, tuple(ref(i) for i in picked), target, openid)


def open_session(request_id: str, biz_code: str) -> OpenImportSession:
    return OpenImportSession(APPID, request_id, biz_code, 256, timedelta(minutes=30))


#: Audit outcomes under which an applied write is accounted for.
ACCOUNTED = {
    AuditOutcome.OK,
    AuditOutcome.RESOLVED,
    AuditOutcome.ROLLED_BACK,
    AuditOutcome.COMPENSATED,
}


def assert_invariants(world: World, owners: dict[InvoiceRef, str]) -> None:
    """What must hold whatever happened, once recovery has run:
    - every intent is settled, and no claim is held;
    - no invoice is locked at WeChat (by this account) without a ledger owner: its row says
      LOCK under some bizCode;
    - no invoice is held by two reports: the one the callers were last told holds it
      (`owners`) is the one the ledger names, and WeChat agrees it is taken;
    - every write WeChat applied is in the audit trail."""
    state = world.state
    unsettled = [
        i
        for i in state.intents.values()
        if i.state not in {IntentState.DONE, IntentState.FAILED, IntentState.COMPENSATED}
    ]
    assert not unsettled, unsettled
    now = world.clock()
    held = [k for k, c in state.claims.items() if c.expires_us == 0 or c.expires_us > now]
    assert not held, held
    for invoice in world.wechat.emulator.invoices.values():
        key = InvoiceRef(invoice.card_id, invoice.encrypt_code)
        row = state.rows.get((APPID, key))
        if invoice.status is ReimburseStatus.LOCK and invoice.lock_owner == APPID:
            assert row is not None, f"{key} locked at WeChat, unknown to the ledger"
            assert row.imported.invoice.reimburse_status is ReimburseStatus.LOCK, (key, row)
        if key in owners:
            assert row is not None and row.imported.biz_code == owners[key], (key, owners[key], row)
            assert invoice.status in (ReimburseStatus.LOCK, ReimburseStatus.CLOSURE), key
    for write in world.wechat.applied:
        assert any(
            entry.account == write.appid
            and entry.to_status is write.to
            and entry.outcome in ACCOUNTED
            and write.ref in [r for r, _ in entry.invoices]
            for entry in state.audit
        ), f"applied but not audited: {write}"


def told(owners: dict[InvoiceRef, str], command: Command, outcome: object) -> None:
    """What the callers now believe holds each invoice, after `outcome` of `command`.

    An unlock may or may not have happened when the caller got no answer (`outcome` None: its
    process died) or an error whose `maybe_applied` says so (WeChat applied the write, its
    answer was lost): recovery then settles it by reading WeChat, DONE if it was applied, and
    only a retry tells the caller which. Either way the caller cannot count on the report
    holding those invoices any more, as after an unlock it was told succeeded."""
    unknown = outcome is None or (isinstance(outcome, GatewayError) and outcome.maybe_applied)
    unlock = isinstance(command, ChangeStatus) and command.target is ReimburseStatus.INIT
    if isinstance(command, ChangeStatus) and unlock and (unknown or isinstance(outcome, tuple)):
        for r in command.refs:
            owners.pop(r, None)
    if isinstance(command, ImportPicks) and isinstance(outcome, ImportResult) and command.lock:
        for imported in outcome.invoices:
            owners[imported.invoice.ref] = outcome.biz_code
