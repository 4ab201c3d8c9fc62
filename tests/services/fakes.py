"""In-memory fakes of the use cases' ports, and a way to kill the "process" that uses them.

- FakeWeChat: the sandbox's emulator (WeChat's rules, in memory) behind the InvoiceSource,
  StatusWriter and TicketSource ports, recording every write WeChat applied, and able to
  lose a reply after applying a write (an answer lost on the way back).
- FakeLedger: InvoiceLedger, IntentLog, AuditLog and ImportSessionFinder over one
  LedgerState that outlives processes; its semantics are the SQL ledger's, and
  test_ledger_contract.py holds both to the same tests.
- Life: one process's life. Every port call of that process is a step; the process dies
  (Crash) at a chosen step, before or after the call's effect, and a dead process's later
  calls (its cleanup handlers) do nothing, as after SIGKILL.
"""

import asyncio
import itertools
import random
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from fapiao_gateway.domain.context import Deadline
from fapiao_gateway.domain.errors import (
    GatewayError,
    InvoiceBeingChanged,
    OutcomePending,
    RequestIdReused,
    Unavailable,
)
from fapiao_gateway.domain.import_sessions import ImportSession
from fapiao_gateway.domain.imports import (
    Cursor,
    IdentityHolder,
    ImportedInvoice,
    ImportRecord,
    ImportResult,
    LedgerEntry,
    OpenPage,
    SearchFilters,
    SearchPage,
    identities_of,
    refuse_duplicates,
    refuse_if_held_elsewhere,
)
from fapiao_gateway.domain.intents import (
    RETRYABLE,
    UNSETTLED,
    Begun,
    Intent,
    IntentKind,
    IntentState,
    Outcome,
    Plan,
    Reservation,
    Settlement,
)
from fapiao_gateway.domain.invoice import FetchedInvoice, InvoiceRef
from fapiao_gateway.domain.signatures import TicketKind
from fapiao_gateway.domain.status import OPEN_STATUSES, ReimburseStatus
from fapiao_gateway.domain.status_changes import (
    AuditCursor,
    AuditEntry,
    AuditFilters,
    AuditPage,
    Drift,
    KnownInvoice,
    Observation,
    Witness,
    card_drift,
    drift_entry,
    stale,
)
from fapiao_gateway.ledger.codecs import from_us, to_us
from fapiao_gateway.ledger.invoices import freshest, status_before
from fapiao_gateway.sandbox.emulator import Emulator
from fapiao_gateway.wechat.errcodes import to_error
from fapiao_gateway.wechat.invoices import card_id_unique_batches
from fapiao_gateway.wechat.models import InvoiceInfo


class FakeClock:
    """Wall-clock microseconds that only move when told."""

    def __init__(self, start_us: int = 1_800_000_000_000_000) -> None:
        self.now = start_us

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * 1_000_000)


# ----- WeChat -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AppliedWrite:
    appid: str
    ref: InvoiceRef
    to: ReimburseStatus


class FakeWeChat:
    """The emulator as the adapter's ports. Writes are numbered from 1 as they arrive:
    `refusals` maps a write's number to the errcode WeChat refuses it with (nothing
    applied); a write whose number is in `lost` is applied and its answer lost on the way
    back (the caller sees a failure that may have been applied)."""

    def __init__(
        self, emulator: Emulator, *, batch_size: int = 50, clock: "FakeClock | None" = None
    ) -> None:
        #: When reads are sent (the world's clock, as the ledger's).
        self.clock = clock or FakeClock()
        self.emulator = emulator
        self.batch_size = batch_size
        self.applied: list[AppliedWrite] = []
        self.writes_sent = 0
        self.refusals: dict[int, int] = {}
        self.lost: set[int] = set()

    def status_of(self, ref: InvoiceRef) -> ReimburseStatus:
        return self.emulator.status_of(ref.card_id, ref.encrypt_code)

    def batches_needed(self, refs: Sequence[InvoiceRef]) -> int:
        return len(card_id_unique_batches(refs, self.batch_size))

    def _raise(self, reply: dict[str, Any], appid: str, ref: InvoiceRef | None) -> None:
        if reply.get("errcode", 0):
            raise to_error(reply["errcode"], reply["errmsg"], account=appid, ref=ref)

    async def fetch(self, appid: str, ref: InvoiceRef, deadline: Deadline) -> FetchedInvoice:
        reply = self.emulator.get_invoice_info(
            appid, {"card_id": ref.card_id, "encrypt_code": ref.encrypt_code}
        )
        self._raise(reply, appid, ref)
        info = InvoiceInfo.model_validate(reply)
        return FetchedInvoice(info.to_domain(ref.encrypt_code), reply, self.clock())

    async def fetch_batches(
        self, appid: str, refs: Sequence[InvoiceRef], deadline: Deadline
    ) -> tuple[dict[InvoiceRef, FetchedInvoice], dict[InvoiceRef, GatewayError]]:
        found: dict[InvoiceRef, FetchedInvoice] = {}
        for batch in card_id_unique_batches(refs, self.batch_size):
            reply = self.emulator.get_invoice_batch(
                appid,
                {
                    "item_list": [
                        {"card_id": r.card_id, "encrypt_code": r.encrypt_code} for r in batch
                    ]
                },
            )
            self._raise(reply, appid, None)
            by_card = {r.card_id: r for r in batch}
            for item in reply["item_list"]:
                ref = by_card[item["card_id"]]
                found[ref] = FetchedInvoice(
                    InvoiceInfo.model_validate(item).to_domain(ref.encrypt_code), item, self.clock()
                )
        return found, {}

    def _write(
        self,
        appid: str,
        refs: Sequence[InvoiceRef],
        target: ReimburseStatus,
        apply: Callable[[], dict[str, Any]],
    ) -> None:
        self.writes_sent += 1
        if self.writes_sent in self.refusals:
            code = self.refusals[self.writes_sent]
            self._raise({"errcode": code, "errmsg": "refused by the test"}, appid, None)
        before = {ref: self.status_of(ref) for ref in refs}
        reply = apply()
        for ref in refs:
            if self.status_of(ref) is not before[ref]:
                self.applied.append(AppliedWrite(appid, ref, target))
        if self.writes_sent in self.lost:
            lost = Unavailable("the reply was lost", reason="WECHAT_UNREACHABLE", retry_after=1.0)
            lost.maybe_applied = True
            raise lost
        self._raise(reply, appid, refs[0] if len(refs) == 1 else None)

    async def set_status(
        self, appid: str, ref: InvoiceRef, target: ReimburseStatus, deadline: Deadline
    ) -> None:
        body = {
            "card_id": ref.card_id,
            "encrypt_code": ref.encrypt_code,
            "reimburse_status": target.value,
        }
        self._write(appid, [ref], target, lambda: self.emulator.update_invoice_status(appid, body))

    async def set_statuses(
        self,
        appid: str,
        openid: str,
        refs: Sequence[InvoiceRef],
        target: ReimburseStatus,
        deadline: Deadline,
    ) -> None:
        body = {
            "openid": openid,
            "reimburse_status": target.value,
            "invoice_list": [{"card_id": r.card_id, "encrypt_code": r.encrypt_code} for r in refs],
        }
        self._write(appid, refs, target, lambda: self.emulator.update_status_batch(appid, body))

    async def ticket(self, appid: str, kind: TicketKind, deadline: Deadline) -> str:
        reply = self.emulator.get_ticket(appid, kind.value)
        self._raise(reply, appid, None)
        return str(reply["ticket"])


# ----- the ledger -------------------------------------------------------------------------


@dataclass
class _Row:
    id: int
    imported: ImportedInvoice
    update_time_us: int


@dataclass
class _Intent:
    id: int
    kind: IntentKind
    account: str
    rpc: str
    request_id: str
    caller: str
    fingerprint: str
    state: IntentState = IntentState.STARTED
    plan: Plan | None = None
    outcome: Outcome | None = None
    error: str = ""
    owner: str = ""
    lease_until_us: int = 0
    sent_us: int = 0
    created_us: int = 0

    def frozen(self) -> Intent:
        return Intent(
            id=self.id,
            kind=self.kind,
            state=self.state,
            account=self.account,
            rpc=self.rpc,
            request_id=self.request_id,
            caller=self.caller,
            fingerprint=self.fingerprint,
            plan=self.plan,
            owner=self.owner,
            lease_until_us=self.lease_until_us,
            sent_us=self.sent_us,
            created_us=self.created_us,
        )


@dataclass
class _Claim:
    intent_id: int
    expires_us: int = 0


@dataclass
class LedgerState:
    """Everything the ledger holds; survives a process's death."""

    rows: dict[tuple[str, InvoiceRef], _Row] = field(default_factory=dict)
    intents: dict[int, _Intent] = field(default_factory=dict)
    claims: dict[tuple[str, InvoiceRef], _Claim] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)
    sessions: dict[tuple[str, str], ImportSession] = field(default_factory=dict)
    calls: dict[tuple[str, str], int] = field(default_factory=dict)
    #: The duplicate guard: tax identity -> the (account, ref) row holding it.
    identities: dict[str, tuple[str, InvoiceRef]] = field(default_factory=dict)
    ids: Any = field(default_factory=lambda: itertools.count(1))


class FakeLedger:
    """The ledger's ports in memory, with the SQL ledger's semantics."""

    def __init__(self, state: LedgerState, clock: FakeClock) -> None:
        self.state = state
        self.clock = clock

    # ----- InvoiceLedger

    async def entries(
        self, account: str, refs: Sequence[InvoiceRef]
    ) -> dict[InvoiceRef, LedgerEntry]:
        return self._entries(account, refs)

    def _entries(self, account: str, refs: Sequence[InvoiceRef]) -> dict[InvoiceRef, LedgerEntry]:
        out = {}
        for ref in refs:
            row = self.state.rows.get((account, ref))
            if row is not None:
                out[ref] = LedgerEntry(
                    ref,
                    row.imported.biz_code,
                    row.imported.invoice.reimburse_status,
                    row.update_time_us,
                )
        return out

    async def known(
        self, account: str, refs: Sequence[InvoiceRef]
    ) -> dict[InvoiceRef, KnownInvoice]:
        out = {}
        for ref in refs:
            row = self.state.rows.get((account, ref))
            if row is not None:
                invoice = row.imported.invoice
                out[ref] = KnownInvoice(invoice.reimburse_status, invoice.openid)
        return out

    def _claimed(self, account: str, ref: InvoiceRef, but: int = 0) -> bool:
        claim = self.state.claims.get((account, ref))
        now = self.clock()
        return (
            claim is not None
            and claim.intent_id != but
            and (claim.expires_us == 0 or claim.expires_us > now)
        )

    def _set_status(self, account: str, ref: InvoiceRef, status: ReimburseStatus, now: int) -> None:
        row = self.state.rows.get((account, ref))
        if row is not None:
            imported = row.imported
            row.imported = replace(
                imported,
                invoice=replace(imported.invoice, reimburse_status=status),
                update_time=from_us(now),
            )
            row.update_time_us = now

    async def follow(
        self, account: str, observed: Mapping[InvoiceRef, Observation], *, witness: Witness
    ) -> tuple[Drift, ...]:
        now = self.clock()
        drifts: list[Drift] = []
        for ref, seen in observed.items():
            row = self.state.rows.get((account, ref))
            if row is None or self._claimed(account, ref) or stale(seen, row.update_time_us):
                continue
            invoice = row.imported.invoice
            card_after = seen.card_status or invoice.card_status
            drifted = invoice.reimburse_status is not seen.status or card_drift(
                invoice.card_status, seen.card_status
            )
            row.imported = replace(row.imported, invoice=replace(invoice, card_status=card_after))
            if not drifted:
                continue
            self._set_status(account, ref, seen.status, now)
            drift = Drift(
                ref,
                row.imported.biz_code,
                invoice.reimburse_status,
                seen.status,
                invoice.card_status,
                card_after,
            )
            drifts.append(drift)
            self._audit(drift_entry(account, drift, witness), now)
        return tuple(drifts)

    async def open_invoices(
        self, account: str, cursor: Cursor | None, limit: int, *, biz_code: str = ""
    ) -> OpenPage:
        rows = sorted(
            (
                r
                for (acc, _), r in self.state.rows.items()
                if acc == account
                and r.imported.invoice.reimburse_status in OPEN_STATUSES
                and (not biz_code or r.imported.biz_code == biz_code)
                and (
                    cursor is None
                    or (r.update_time_us, r.id) < (cursor.update_time_us, cursor.row_id)
                )
            ),
            key=lambda r: (r.update_time_us, r.id),
            reverse=True,
        )
        page = rows[:limit]
        return OpenPage(
            tuple(
                self._entries(account, [r.imported.invoice.ref])[r.imported.invoice.ref]
                for r in page
            ),
            Cursor(page[-1].update_time_us, page[-1].id) if len(rows) > limit and page else None,
        )

    async def accounts_with_open_invoices(self) -> list[str]:
        return sorted(
            {
                account
                for (account, _), r in self.state.rows.items()
                if r.imported.invoice.reimburse_status in OPEN_STATUSES
            }
        )

    async def search(self, filters: SearchFilters, cursor: Cursor | None, limit: int) -> SearchPage:
        rows = sorted(
            (
                r
                for (account, _), r in self.state.rows.items()
                if (account in filters.accounts if filters.accounts else account == filters.account)
                and (
                    not filters.tax_identity
                    or identities_of([r.imported.invoice]).get(r.imported.invoice.ref)
                    == filters.tax_identity
                )
                and (not filters.biz_code or r.imported.biz_code == filters.biz_code)
                and (
                    filters.status is None or r.imported.invoice.reimburse_status is filters.status
                )
            ),
            key=lambda r: (r.update_time_us, r.id),
            reverse=True,
        )
        if cursor is not None:
            rows = [
                r for r in rows if (r.update_time_us, r.id) < (cursor.update_time_us, cursor.row_id)
            ]
        page = rows[:limit]
        more = len(rows) > limit
        return SearchPage(
            tuple(r.imported for r in page),
            Cursor(page[-1].update_time_us, page[-1].id) if more and page else None,
            len(rows) if cursor is None else None,
        )

    async def holders(self, identities: Collection[str]) -> dict[str, IdentityHolder]:
        return self._holders(identities)

    def _holders(self, identities: Collection[str]) -> dict[str, IdentityHolder]:
        out = {}
        for key in identities:
            held = self.state.identities.get(key)
            if held is None:
                continue
            row = self.state.rows[held]
            out[key] = IdentityHolder(
                key,
                held[0],
                held[1],
                row.imported.biz_code,
                row.imported.invoice.reimburse_status,
                row.imported.import_time,
            )
        return out

    # ----- CallBudget

    async def take(self, account: str, day: str, calls: int, limit: int | None) -> bool:
        spent = self.state.calls.get((account, day), 0)
        if limit is not None and spent + calls > limit:
            return False
        self.state.calls[(account, day)] = spent + calls
        return True

    async def spent(self, account: str, day: str) -> int:
        return self.state.calls.get((account, day), 0)

    # ----- ImportSessionFinder, AuditLog

    async def find(self, account: str, biz_code: str) -> ImportSession | None:
        return self.state.sessions.get((account, biz_code))

    async def record(self, entry: AuditEntry) -> None:
        self._audit(entry, self.clock())

    def _audit(self, entry: AuditEntry, now: int) -> None:
        biz_code = entry.biz_code
        if not biz_code:
            held = {
                self.state.rows[(entry.account, ref)].imported.biz_code
                for ref, _ in entry.invoices
                if (entry.account, ref) in self.state.rows
            }
            biz_code = held.pop() if len(held) == 1 else ""
        self.state.audit.append(
            replace(
                entry,
                created=from_us(now),
                biz_code=biz_code,
                entry_id=len(self.state.audit) + 1,
            )
        )

    async def page(
        self, filters: AuditFilters, cursor: AuditCursor | None, limit: int
    ) -> AuditPage:
        def key(entry: AuditEntry) -> tuple[int, int]:
            assert entry.created is not None
            return (to_us(entry.created), entry.entry_id)

        matching = [
            e
            for e in sorted(self.state.audit, key=key, reverse=True)
            if e.account == filters.account
            and (not filters.biz_code or e.biz_code == filters.biz_code)
            and (not filters.request_id or e.request_id == filters.request_id)
            and (filters.ref is None or any(ref == filters.ref for ref, _ in e.invoices))
            and (filters.start is None or key(e)[0] >= to_us(filters.start))
            and (filters.end is None or key(e)[0] < to_us(filters.end))
            and (cursor is None or key(e) < (cursor.created_us, cursor.entry_id))
        ]
        page = matching[:limit]
        more = len(matching) > limit
        return AuditPage(tuple(page), AuditCursor(*key(page[-1])) if more and page else None)

    # ----- IntentLog

    async def begin(
        self,
        *,
        kind: IntentKind,
        rpc: str,
        account: str,
        request_id: str,
        caller: str,
        fingerprint: str,
        owner: str,
        lease_us: int,
    ) -> Begun:
        now = self.clock()

        def fresh(row: _Intent) -> _Intent:
            row.state, row.plan, row.outcome, row.error = IntentState.STARTED, None, None, ""
            row.owner, row.lease_until_us, row.sent_us = owner, now + lease_us, 0
            return row

        existing = next(
            (
                i
                for i in self.state.intents.values()
                if request_id and i.account == account and i.request_id == request_id
            ),
            None,
        )
        if existing is None:
            row = _Intent(
                next(self.state.ids),
                kind,
                account,
                rpc,
                request_id,
                caller,
                fingerprint,
                created_us=now,
            )
            self.state.intents[row.id] = fresh(row)
            return Begun(Reservation.NEW, row.frozen())
        if existing.fingerprint != fingerprint or existing.kind is not kind:
            raise RequestIdReused(request_id)
        if existing.state is IntentState.DONE:
            return Begun(Reservation.REPLAY, outcome=existing.outcome)
        alive = existing.owner != "" and existing.lease_until_us > now
        if existing.state in UNSETTLED and alive:
            return Begun(Reservation.BUSY, retry_after=1.0)
        if existing.state in RETRYABLE or existing.state is IntentState.STARTED:
            return Begun(Reservation.NEW, fresh(existing).frozen())
        existing.owner, existing.lease_until_us = owner, now + lease_us
        return Begun(Reservation.RESOLVE, existing.frozen())

    def _own(self, intent: Intent, owner: str, states: Collection[IntentState]) -> _Intent:
        row = self.state.intents[intent.id]
        if row.owner != owner or row.state not in states:
            raise OutcomePending(intent.request_id)
        return row

    async def arm(self, intent: Intent, plan: Plan, *, owner: str, lease_us: int) -> Intent:
        now = self.clock()
        row = self._own(intent, owner, {IntentState.STARTED})
        for ref in plan.refs:
            claim = self.state.claims.get((intent.account, ref))
            held = claim is not None and claim.intent_id != intent.id
            if held and (claim.expires_us == 0 or claim.expires_us > now):  # type: ignore[union-attr]
                raise InvoiceBeingChanged(ref, retry_after=1.0)
        for ref in plan.refs:
            self.state.claims[(intent.account, ref)] = _Claim(intent.id)
        row.state, row.plan, row.sent_us, row.lease_until_us = (
            IntentState.ARMED,
            plan,
            now,
            now + lease_us,
        )
        return row.frozen()

    async def compensating(self, intent: Intent, *, owner: str) -> Intent:
        row = self._own(intent, owner, {IntentState.ARMED, IntentState.COMPENSATING})
        row.state, row.sent_us = IntentState.COMPENSATING, self.clock()
        return row.frozen()

    async def release(self, intent: Intent, *, owner: str, just_sent: bool = False) -> None:
        row = self.state.intents[intent.id]
        if row.owner == owner and row.state in UNSETTLED:
            row.owner, row.lease_until_us = "", 0
            if just_sent:
                row.sent_us = self.clock()

    async def take_over(self, intent_id: int, *, owner: str, lease_us: int) -> Intent | None:
        now = self.clock()
        row = self.state.intents[intent_id]
        if row.state in UNSETTLED and (row.owner == owner or row.lease_until_us <= now):
            row.owner, row.lease_until_us = owner, now + lease_us
            return row.frozen()
        return None

    async def renew(self, ids: Collection[int], *, owner: str, lease_us: int) -> int:
        renewed = 0
        for intent_id in ids:
            row = self.state.intents[intent_id]
            if row.owner == owner and row.state in UNSETTLED:
                row.lease_until_us = self.clock() + lease_us
                renewed += 1
        return renewed

    async def due(self, *, sent_before_us: int, limit: int = 100) -> list[Intent]:
        now = self.clock()
        return [
            i.frozen()
            for i in sorted(self.state.intents.values(), key=lambda i: i.id)
            if i.state in UNSETTLED and i.lease_until_us <= now and i.sent_us <= sent_before_us
        ][:limit]

    async def owned_by(self, owner: str) -> list[Intent]:
        return [
            i.frozen()
            for i in self.state.intents.values()
            if i.owner == owner and i.state in UNSETTLED
        ]

    async def unsettled(self, *, limit: int = 1000) -> list[Intent]:
        return [i.frozen() for i in self.state.intents.values() if i.state in UNSETTLED][:limit]

    async def claimed(self, account: str, refs: Sequence[InvoiceRef]) -> set[InvoiceRef]:
        return {ref for ref in refs if self._claimed(account, ref)}

    async def purge_lapsed_claims(self) -> int:
        now = self.clock()
        lapsed = [k for k, c in self.state.claims.items() if c.expires_us and c.expires_us <= now]
        for key in lapsed:
            del self.state.claims[key]
        return len(lapsed)

    def _finish(
        self, row: _Intent, settlement: Settlement, audit: Sequence[AuditEntry], now: int
    ) -> None:
        for entry in audit:
            self._audit(entry, now)
        row.state, row.outcome, row.error = settlement.state, settlement.outcome, settlement.error
        row.owner, row.lease_until_us = "", 0
        for key, claim in list(self.state.claims.items()):
            if claim.intent_id == row.id:
                if settlement.hold_until_us > now:
                    claim.expires_us = settlement.hold_until_us
                else:
                    del self.state.claims[key]

    async def settle(
        self,
        intent: Intent,
        settlement: Settlement,
        *,
        owner: str,
        audit: Sequence[AuditEntry] = (),
        statuses: Mapping[InvoiceRef, ReimburseStatus] | None = None,
    ) -> None:
        now = self.clock()
        row = self._own(intent, owner, UNSETTLED)
        for ref, status in (statuses or {}).items():
            self._set_status(intent.account, ref, status, now)
        self._finish(row, settlement, audit, now)

    async def settle_import(
        self,
        intent: Intent,
        *,
        owner: str,
        biz_code: str,
        imported_by: str,
        records: Sequence[ImportRecord],
        fetched_at_us: int,
        audit: Sequence[AuditEntry] = (),
    ) -> ImportResult:
        now = self.clock()
        row = self._own(intent, owner, UNSETTLED)
        account = intent.account
        refs = [r.fetched.ref for r in records]
        for ref in refs:
            if self._claimed(account, ref, but=intent.id):
                raise InvoiceBeingChanged(ref, retry_after=1.0)
        existing = self._entries(account, refs)
        records = [freshest(r, existing.get(r.fetched.ref), fetched_at_us) for r in records]
        for record in records:
            entry = existing.get(record.fetched.ref)
            refuse_if_held_elsewhere(entry, biz_code, status_before(record, entry, fetched_at_us))
        # The SQL ledger's identity guard (a primary key on the identity, checked in the
        # same transaction): refused before anything changes, as a rollback would leave it.
        identities = identities_of([r.fetched for r in records])
        refuse_duplicates(account, refs, identities, self._holders(set(identities.values())))
        for ref, key in identities.items():
            self.state.identities.setdefault(key, (account, ref))
        for record in records:
            ref = record.fetched.ref
            entry = existing.get(ref)
            if entry is not None and entry.biz_code == biz_code and entry.status is record.status:
                continue
            old = self.state.rows.get((account, ref))
            moved = old is None or old.imported.biz_code != biz_code
            self.state.rows[(account, ref)] = _Row(
                old.id if old else next(self.state.ids),
                ImportedInvoice(
                    invoice=replace(record.fetched, reimburse_status=record.status),
                    account=account,
                    biz_code=biz_code,
                    imported_by=imported_by if moved or old is None else old.imported.imported_by,
                    import_time=from_us(now) if moved or old is None else old.imported.import_time,
                    update_time=from_us(now),
                ),
                now,
            )
        result = ImportResult(
            biz_code, tuple(self.state.rows[(account, ref)].imported for ref in refs)
        )
        self._finish(row, Settlement(IntentState.DONE, result), audit, now)
        return result

    async def settle_session(
        self,
        intent: Intent,
        session: ImportSession,
        *,
        owner: str,
        audit: Sequence[AuditEntry] = (),
    ) -> ImportSession:
        now = self.clock()
        row = self._own(intent, owner, UNSETTLED)
        self.state.sessions[(session.account, session.biz_code)] = session
        self._finish(row, Settlement(IntentState.DONE, session), audit, now)
        return session


# ----- a process that can die ---------------------------------------------------------------


class Crash(BaseException):
    """The process died here (SIGKILL): nothing after it, no handler, runs."""


class Life:
    """One process's life: every port call is two steps (before and after its effect); at
    step `crash_at` the process dies, and every later call of it fails at once."""

    def __init__(
        self, crash_at: int | None = None, *, shuffle: random.Random | None = None
    ) -> None:
        self.crash_at = crash_at
        self.step = 0
        self.dead = False
        self.trace: list[str] = []
        self._shuffle = shuffle
        self._calls: dict[str, int] = {}
        self._holds: dict[tuple[str, int], asyncio.Event] = {}
        self._signals: dict[tuple[str, int], asyncio.Event] = {}

    def hold(self, method: str, nth: int, until: asyncio.Event) -> None:
        """Makes the `nth` call of `method` wait for `until` before it starts."""
        self._holds[(method, nth)] = until

    def signal(self, method: str, nth: int, then: asyncio.Event) -> None:
        """Sets `then` once the `nth` call of `method` has had its effect (or failed)."""
        self._signals[(method, nth)] = then

    def count(self, method: str) -> int:
        self._calls[method] = self._calls.get(method, 0) + 1
        return self._calls[method]

    async def pause(self) -> None:
        """Lets other processes' calls run first, as often as the shuffle says (none by
        default): how concurrent histories interleave."""
        if self._shuffle is not None:
            for _ in range(self._shuffle.randrange(3)):
                await asyncio.sleep(0)

    def tick(self, where: str) -> None:
        if self.dead:
            raise Crash(where)
        self.step += 1
        self.trace.append(where)
        if self.crash_at is not None and self.step >= self.crash_at:
            self.dead = True
            raise Crash(where)


class Mortal:
    """`target`'s async methods as one process sees them: each call is a step before and a
    step after (so the process can die with or without the effect having happened)."""

    def __init__(self, target: Any, life: Life) -> None:
        self._target = target
        self._life = life

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._target, name)
        if not callable(attribute) or name.startswith("_") or name in {"batches_needed"}:
            return attribute

        async def step(*args: Any, **kwargs: Any) -> Any:
            life = self._life
            nth = life.count(name)
            if (name, nth) in life._holds:
                await life._holds[(name, nth)].wait()
            await life.pause()
            life.tick(f"before {name}")
            try:
                result = await attribute(*args, **kwargs)
            finally:
                if (name, nth) in life._signals:
                    life._signals[(name, nth)].set()
            life.tick(f"after {name}")
            return result

        return step


def mortal(target: Any, life: Life) -> Any:
    return Mortal(target, life)
