"""UpdateStatus and UpdateStatusBatch: lock, unlock and write off, safely.

- Reserved first (services/reservations.py, AIP-155): a replay returns the first outcome
  without calling WeChat; a duplicate waits; an earlier attempt whose answer was lost is
  settled by reading WeChat before anything else.
- The ledger's last known status is checked before WeChat is called; a refusal is confirmed
  by reading WeChat first (the ledger may be stale), and the ledger follows what it reads.
- The intent is armed (its invoices claimed) before the write: no other request of the
  gateway changes them until it is settled. Then one write: batches are atomic at WeChat,
  so they are never split.
- Settled in one transaction with the ledger rows and the audit entry; a write whose answer
  was lost is given up to recovery (services/resolution.py), which settles it by reading.
  Every attempt is audited, failures included.
"""

import asyncio
import contextlib
from collections.abc import Sequence
from datetime import UTC, datetime

from fapiao_gateway.domain.commands import ChangeStatus
from fapiao_gateway.domain.context import Deadline, RequestContext
from fapiao_gateway.domain.errors import (
    FailedPrecondition,
    GatewayError,
    PreconditionViolation,
    invoice_subject,
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
from fapiao_gateway.domain.invoice import InvoiceRef
from fapiao_gateway.domain.status import ReimburseStatus
from fapiao_gateway.domain.status_changes import (
    AuditEntry,
    AuditOutcome,
    KnownInvoice,
    StatusChange,
    Witness,
    observations,
    why_not,
)
from fapiao_gateway.services.auditing import audit_entry, planned
from fapiao_gateway.services.ports import (
    AuditLog,
    IntentLog,
    InvoiceLedger,
    InvoiceSource,
    StatusWriter,
)
from fapiao_gateway.services.reading import fetch_all
from fapiao_gateway.services.reservations import IntentPolicy, Reservations

#: Time to re-read invoices after WeChat refused a change, so the ledger shows the truth.
_SYNC_SECONDS = 10.0


def refuse_unimported(appid: str, unknown: Sequence[InvoiceRef]) -> None:
    """A lock belongs to a report: an invoice must be imported (under its bizCode) before it
    is locked, or it would be locked at WeChat with no owner in the ledger."""
    if unknown:
        raise FailedPrecondition(
            f"{len(unknown)} invoice(s) are not imported: import them under their report "
            "(ImportInvoices, optionally with lock) before locking.",
            reason="INVOICE_NOT_IMPORTED",
            account=appid,
            ref=unknown[0],
            precondition_violations=[
                PreconditionViolation(
                    "INVOICE_NOT_IMPORTED",
                    invoice_subject(ref),
                    "import it under its bizCode first",
                )
                for ref in unknown
            ],
        )


class StatusUpdater:
    """The status-change use cases."""

    def __init__(
        self,
        source: InvoiceSource,
        writer: StatusWriter,
        ledger: InvoiceLedger,
        log: IntentLog,
        audit: AuditLog,
        reservations: Reservations,
        policy: IntentPolicy,
    ) -> None:
        self._source = source
        self._writer = writer
        self._ledger = ledger
        self._log = log
        self._audit = audit
        self._reservations = reservations
        self._owner = policy.owner
        self._lease_us = policy.lease_us

    async def change(self, ctx: RequestContext, command: ChangeStatus) -> list[StatusChange]:
        """Moves the command's invoices to its target (one, or a batch of one openid's)."""
        hint = Plan(
            command.target, tuple(IntendedWrite(r, None) for r in command.refs), command.openid
        )
        async with self._reservations.reserved(
            ctx, IntentKind.STATUS_CHANGE, command, plan_hint=hint
        ) as begun:
            if begun.state is Reservation.REPLAY:
                assert isinstance(begun.outcome, tuple)
                await self._audit.record(self._replayed(ctx, command))
                return list(begun.outcome)
            assert begun.intent is not None
            return await self._change(ctx, command, begun.intent, hint)

    async def _change(
        self, ctx: RequestContext, command: ChangeStatus, intent: Intent, hint: Plan
    ) -> list[StatusChange]:
        try:
            known = await self._ledger.known(command.appid, command.refs)
            await self._check(command, known, ctx.deadline, _witness(ctx, command))
            plan = Plan(
                command.target,
                tuple(
                    IntendedWrite(r, known[r].status if r in known else None) for r in command.refs
                ),
                command.openid,
            )
            intent = await self._log.arm(intent, plan, owner=self._owner, lease_us=self._lease_us)
        except GatewayError as refused:
            await self._fail(intent, hint, refused)
            raise
        try:
            if command.openid:
                await self._writer.set_statuses(
                    command.appid, command.openid, command.refs, command.target, ctx.deadline
                )
            else:
                await self._writer.set_status(
                    command.appid, command.refs[0], command.target, ctx.deadline
                )
        except GatewayError as failed:
            if failed.maybe_applied:
                await self._unknown(intent, plan, failed)
            else:
                await self._fail(intent, plan, failed)
                await self._follow_quietly(command.appid, command.refs, _witness(ctx, command))
            raise
        except BaseException:
            # Cancelled mid-call: the write may have gone out; recovery settles it.
            await asyncio.shield(self._log.release(intent, owner=self._owner, just_sent=True))
            raise
        now = datetime.now(UTC)
        changes = [StatusChange(w.ref, w.before, command.target, now) for w in plan.writes]
        await self._log.settle(
            intent,
            Settlement(IntentState.DONE, tuple(changes)),
            owner=self._owner,
            statuses=dict.fromkeys(command.refs, command.target),
            audit=[
                audit_entry(
                    intent, to=command.target, outcome=AuditOutcome.OK, invoices=planned(plan)
                )
            ],
        )
        return changes

    async def _fail(self, intent: Intent, plan: Plan, error: GatewayError) -> None:
        """Settles an attempt that certainly changed nothing: a retry runs it again."""
        await self._log.settle(
            intent,
            Settlement(IntentState.FAILED, error=error.reason),
            owner=self._owner,
            audit=[
                audit_entry(
                    intent,
                    to=plan.target,
                    outcome=error.reason,
                    invoices=planned(plan),
                    wechat_errcode=error.wechat_errcode,
                )
            ],
        )

    async def _unknown(self, intent: Intent, plan: Plan, error: GatewayError) -> None:
        """The write's answer was lost: audited as such, and given up to recovery (or to a
        retry with the same request_id), which settles it by reading WeChat."""
        await self._audit.record(
            audit_entry(
                intent,
                to=plan.target,
                outcome=AuditOutcome.OUTCOME_UNKNOWN,
                invoices=planned(plan),
                wechat_errcode=error.wechat_errcode,
            )
        )
        await self._log.release(intent, owner=self._owner, just_sent=True)

    @staticmethod
    def _replayed(ctx: RequestContext, command: ChangeStatus) -> AuditEntry:
        return AuditEntry(
            account=command.appid,
            caller=ctx.caller.name,
            request_id=command.request_id,
            rpc=command.rpc,
            invoices=tuple((ref, None) for ref in command.refs),
            to_status=command.target,
            outcome=AuditOutcome.REPLAYED,
        )

    async def _current(
        self, appid: str, refs: Sequence[InvoiceRef], deadline: Deadline, witness: Witness
    ) -> dict[InvoiceRef, KnownInvoice]:
        """What WeChat says now (a read: always safe); the ledger follows it."""
        fetched = await fetch_all(self._source, appid, refs, deadline)
        await self._ledger.follow(appid, observations(fetched), witness=witness)
        return {
            ref: KnownInvoice(f.invoice.reimburse_status, f.invoice.openid)
            for ref, f in fetched.items()
        }

    async def _check(
        self,
        command: ChangeStatus,
        known: dict[InvoiceRef, KnownInvoice],
        deadline: Deadline,
        witness: Witness,
    ) -> None:
        """Refuses a lock of an invoice no report holds, and a change the ledger says cannot
        work (after WeChat confirms it)."""
        target, openid = command.target, command.openid
        if target is ReimburseStatus.LOCK:
            refuse_unimported(command.appid, [r for r in command.refs if r not in known])
        doubtful = [r for r in command.refs if r in known and why_not(r, known[r], target, openid)]
        if not doubtful:
            return
        current = await self._current(command.appid, doubtful, deadline, witness)
        violations = [v for r in doubtful if (v := why_not(r, current[r], target, openid))]
        if violations:
            raise FailedPrecondition(
                f"{len(violations)} invoice(s) cannot move to {target.value}.",
                reason=violations[0].type,
                account=command.appid,
                ref=doubtful[0],
                precondition_violations=violations,
            )

    async def _follow_quietly(
        self, appid: str, refs: Sequence[InvoiceRef], witness: Witness
    ) -> None:
        """After WeChat refused a change, re-read so the ledger shows the truth (best effort)."""
        with contextlib.suppress(GatewayError):
            await self._current(appid, refs, Deadline.after(_SYNC_SECONDS), witness)


def _witness(ctx: RequestContext, command: ChangeStatus) -> Witness:
    """A status change's own reads, for the drifts they find."""
    return Witness(ctx.caller.name, command.rpc, request_id=command.request_id)
