"""ImportInvoices: fetch what the user picked, optionally lock it, store it under a bizCode.

All or nothing: either every requested invoice ends up in the ledger (locked, if asked) or
the call fails, nothing is stored, and every lock this call took is released — by the call
itself when WeChat answered, by recovery when an answer was lost or the process died.

The order: reserve the request (AIP-155: a replay returns the first result, bizCode
included) -> fetch -> check (per card, and company-wide by tax identity: the same fapiao
through another card or account is refused before WeChat is touched) -> arm the intent,
claiming the invoices to lock -> lock -> store, settling the intent in the same
transaction. While the intent holds the claims, no other request of the gateway can lock or
release those invoices, so the compensation releases only what this import locked.
"""

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from fapiao_gateway.domain.commands import ImportPicks
from fapiao_gateway.domain.context import Deadline, RequestContext
from fapiao_gateway.domain.errors import (
    FailedPrecondition,
    GatewayError,
    InvoiceBeingChanged,
    InvoiceHeldElsewhere,
    PreconditionViolation,
    WeChatCode,
)
from fapiao_gateway.domain.imports import (
    ImportRecord,
    ImportResult,
    LedgerEntry,
    identities_of,
    invoices_to_lock,
    new_biz_code,
    refuse_duplicates,
    refuse_if_held_elsewhere,
    refuse_unreimbursable,
)
from fapiao_gateway.domain.intents import (
    IntendedWrite,
    Intent,
    IntentKind,
    IntentState,
    Plan,
    Reservation,
    Settlement,
)
from fapiao_gateway.domain.invoice import FetchedInvoice, InvoiceRef
from fapiao_gateway.domain.status import ReimburseStatus
from fapiao_gateway.domain.status_changes import AuditEntry, AuditOutcome
from fapiao_gateway.services.auditing import audit_entry, planned
from fapiao_gateway.services.compensation import Compensator, held_by_other_report
from fapiao_gateway.services.ports import (
    Clock,
    ImportSessionFinder,
    ImportSignals,
    IntentLog,
    InvoiceLedger,
    InvoiceSource,
    StatusWriter,
)
from fapiao_gateway.services.reading import check_budget, fetch_all
from fapiao_gateway.services.reservations import IntentPolicy, Reservations


class InvoiceImporter:
    """The ImportInvoices use case."""

    def __init__(
        self,
        source: InvoiceSource,
        writer: StatusWriter,
        ledger: InvoiceLedger,
        sessions: ImportSessionFinder,
        log: IntentLog,
        reservations: Reservations,
        compensator: Compensator,
        policy: IntentPolicy,
        clock: Clock,
        *,
        lock_batch_size: int = 50,
        upstream_budget: int = 50,
        signals: ImportSignals | None = None,
    ) -> None:
        self._signals = signals
        self._source = source
        self._writer = writer
        self._ledger = ledger
        self._sessions = sessions
        self._log = log
        self._reservations = reservations
        self._compensator = compensator
        self._owner = policy.owner
        self._lease_us = policy.lease_us
        self._now_us = clock
        self._lock_batch_size = lock_batch_size
        self._upstream_budget = upstream_budget

    async def import_invoices(self, ctx: RequestContext, command: ImportPicks) -> ImportResult:
        check_budget(self._source, command.refs, self._upstream_budget)
        async with self._reservations.reserved(ctx, IntentKind.IMPORT, command) as begun:
            if begun.state is Reservation.REPLAY:
                assert isinstance(begun.outcome, ImportResult)
                return begun.outcome
            assert begun.intent is not None
            result = await self._import(ctx, command, begun.intent)
        if self._signals is not None:  # wakes WatchImport, after the import is committed
            await self._signals.announce(command.appid, result.biz_code)
        return result

    async def _import(
        self, ctx: RequestContext, command: ImportPicks, intent: Intent
    ) -> ImportResult:
        biz_code = command.biz_code or new_biz_code()
        refs = command.refs
        try:
            await self._check_session(command.appid, biz_code)
            fetched_at = self._now_us()
            fetched = await fetch_all(self._source, command.appid, refs, ctx.deadline)
            refuse_unreimbursable([fetched[ref].invoice for ref in refs])
            identities = identities_of([fetched[ref].invoice for ref in refs])
            # One round trip for both reads: the longer the time from the fetch to the lock
            # decision, the likelier a status read from WeChat is stale by then.
            entries, holders = await asyncio.gather(
                self._ledger.entries(command.appid, refs),
                self._ledger.holders(set(identities.values())),
            )
            # The company-wide duplicate guard, before anything is locked at WeChat; the
            # ledger checks it again, atomically, as it stores.
            refuse_duplicates(command.appid, refs, identities, holders)
            statuses = {ref: fetched[ref].invoice.reimburse_status for ref in refs}
            for ref in refs:  # early, before any lock; the ledger checks again as it stores
                refuse_if_held_elsewhere(entries.get(ref), biz_code, statuses[ref])
            to_lock = await self._lockable(command, biz_code, statuses, entries, ctx.deadline)
            if to_lock:
                plan = Plan(
                    ReimburseStatus.LOCK,
                    tuple(IntendedWrite(ref, ReimburseStatus.INIT) for ref in to_lock),
                    biz_code=biz_code,
                )
                intent = await self._log.arm(
                    intent, plan, owner=self._owner, lease_us=self._lease_us
                )
        except GatewayError as refused:
            await self._fail(intent, refused)
            raise
        if to_lock:
            await self._lock(intent, [fetched[ref] for ref in to_lock], ctx.deadline)
        records = [
            ImportRecord(
                fetched[ref].invoice,
                fetched[ref].raw,
                ReimburseStatus.LOCK if ref in to_lock else statuses[ref],
            )
            for ref in refs
        ]
        audit = _lock_audit(intent, AuditOutcome.OK)
        try:
            return await self._log.settle_import(
                intent,
                owner=self._owner,
                biz_code=biz_code,
                imported_by=ctx.caller.name,
                records=records,
                fetched_at_us=fetched_at,
                audit=audit,
            )
        except GatewayError as failed:
            # Refused at the last moment (a concurrent import got there first) or the ledger
            # is down: release what was locked; if even that cannot be recorded now, the
            # intent stays unsettled and recovery finishes the job.
            if to_lock:
                await asyncio.shield(self._undo(intent, to_lock, failed.reason))
            else:
                await asyncio.shield(self._fail(intent, failed))
            raise
        except BaseException:
            await asyncio.shield(self._give_up(intent, just_sent=bool(to_lock)))
            raise

    async def _lockable(
        self,
        command: ImportPicks,
        biz_code: str,
        statuses: Mapping[InvoiceRef, ReimburseStatus],
        entries: Mapping[InvoiceRef, LedgerEntry],
        deadline: Deadline,
    ) -> list[InvoiceRef]:
        """The invoices to lock. One that is locked because another request of the gateway
        is changing it (a lock that may yet be rolled back), or was when WeChat was read
        (and is free again now), is ABORTED, to retry, rather than refused as not lockable;
        one that such a request finished storing since `entries` was read is held by its
        report (ALREADY_EXISTS)."""
        if not command.lock:
            return []
        try:
            return invoices_to_lock(biz_code, command.refs, statuses, entries)
        except FailedPrecondition:
            busy = await self._log.claimed(command.appid, command.refs)
            if busy:
                first = sorted(busy, key=command.refs.index)[0]
                raise InvoiceBeingChanged(first, retry_after=1.0) from None
            # No claim left: a racing import settled (its entry and the release of its
            # claims are one transaction), so a fresh read of the ledger names its report.
            settled = await self._ledger.entries(command.appid, command.refs)
            for ref in command.refs:
                refuse_if_held_elsewhere(settled.get(ref), biz_code, statuses[ref])
            # Nothing of the gateway holds them now, so the status read may be stale: a lock
            # of a request since undone (an import whose lock recovery released). One more
            # read tells; an invoice free again is retried (ABORTED), not refused for good.
            locked = [r for r in command.refs if statuses[r] is not ReimburseStatus.INIT]
            again = await fetch_all(self._source, command.appid, locked, deadline)
            freed = [r for r in locked if again[r].invoice.reimburse_status is ReimburseStatus.INIT]
            if freed:
                raise InvoiceBeingChanged(freed[0], retry_after=1.0) from None
            raise

    async def _check_session(self, appid: str, biz_code: str) -> None:
        """A bizCode from an import QR code is accepted only until its session expires."""
        session = await self._sessions.find(appid, biz_code)
        if session is not None and session.expire_time <= datetime.now(UTC):
            raise FailedPrecondition(
                f"The import QR code for bizCode {biz_code!r} expired "
                f"at {session.expire_time.isoformat()}.",
                reason="IMPORT_SESSION_EXPIRED",
                account=appid,
                metadata={"biz_code": biz_code},
                precondition_violations=[
                    PreconditionViolation(
                        "IMPORT_SESSION_EXPIRED", f"bizCode:{biz_code}", "issue a new QR code"
                    )
                ],
            )

    async def _lock(
        self, intent: Intent, invoices: Sequence[FetchedInvoice], deadline: Deadline
    ) -> None:
        """Locks per openid (updatestatusbatch is per user) in batches. A batch WeChat refused
        releases the batches before it; a batch whose answer was lost, or a cancelled call,
        leaves everything to recovery (a lock could still land)."""
        groups: dict[str, list[InvoiceRef]] = {}
        for fetched in invoices:
            groups.setdefault(fetched.invoice.openid, []).append(fetched.invoice.ref)
        locked: list[InvoiceRef] = []
        for openid, refs in groups.items():
            for start in range(0, len(refs), self._lock_batch_size):
                batch = refs[start : start + self._lock_batch_size]
                try:
                    await self._writer.set_statuses(
                        intent.account, openid, batch, ReimburseStatus.LOCK, deadline
                    )
                except GatewayError as failed:
                    if failed.maybe_applied:
                        await self._give_up(intent, just_sent=True)
                        raise
                    if locked:
                        await asyncio.shield(self._undo(intent, locked, failed.reason))
                    else:
                        await asyncio.shield(self._fail(intent, failed))
                    raise await self._explain(intent, failed) from None
                except BaseException:
                    await asyncio.shield(self._give_up(intent, just_sent=True))
                    raise
                locked.extend(batch)

    async def _explain(self, intent: Intent, refused: GatewayError) -> GatewayError:
        """Why WeChat refused a lock, as the caller can act on it: the invoices were read as
        INIT, so a refusal usually means another report locked one meanwhile; then that is
        the answer (ALREADY_EXISTS naming it), not WeChat's bare status conflict."""
        if refused.wechat_errcode != WeChatCode.STATUS_CONFLICT or intent.plan is None:
            return refused
        try:
            entries = await self._ledger.entries(intent.account, intent.plan.refs)
        except GatewayError:
            return refused
        for ref in intent.plan.refs:
            entry = entries.get(ref)
            if entry is not None and held_by_other_report(entry, intent.plan.biz_code):
                return InvoiceHeldElsewhere(ref, biz_code=entry.biz_code, status=entry.status.value)
        return refused

    async def _fail(self, intent: Intent, error: GatewayError) -> None:
        """Settles an import that changed nothing at WeChat (audited when it tried to)."""
        audit = _lock_audit(intent, error.reason, error.wechat_errcode)
        try:
            await self._log.settle(
                intent,
                Settlement(IntentState.FAILED, error=error.reason),
                owner=self._owner,
                audit=audit,
            )
        except GatewayError:
            await self._give_up(intent)

    async def _undo(self, intent: Intent, locked: Sequence[InvoiceRef], cause: str) -> None:
        try:
            await self._compensator.undo(intent, locked, cause=cause)
        except GatewayError:
            await self._give_up(intent, just_sent=True)

    async def _give_up(self, intent: Intent, *, just_sent: bool = False) -> None:
        """Leaves the intent to recovery (best effort: if the ledger is down, its lease lapses)."""
        try:
            await self._log.release(intent, owner=self._owner, just_sent=just_sent)
        except GatewayError:
            return


def _lock_audit(
    intent: Intent, outcome: str, wechat_errcode: int | None = None
) -> list[AuditEntry]:
    """The audit entry of the import's lock, if it planned one."""
    if intent.plan is None:
        return []
    return [
        audit_entry(
            intent,
            to=ReimburseStatus.LOCK,
            outcome=outcome,
            invoices=planned(intent.plan),
            wechat_errcode=wechat_errcode,
        )
    ]
