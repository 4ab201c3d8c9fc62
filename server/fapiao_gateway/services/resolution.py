"""Settling an intent whose owner died or lost its answer, by reading WeChat.

Called by recovery (for intents nobody owns any more) and by a retry of the same request_id,
only once a write the intent sent can no longer land late (the settle time has passed):

- STARTED: nothing was sent; the intent FAILED.
- a status change, ARMED: WeChat shows the target on every invoice, so it was applied (DONE,
  the ledger follows, audited RESOLVED); otherwise it was not (FAILED, the ledger follows
  what WeChat shows, audited NOT_APPLIED). A retry then runs the request again.
- an import, ARMED or COMPENSATING: never completed after the fact (the caller was told it
  failed, or was told nothing): every lock of it WeChat still shows is released
  (services/compensation.py) and the intent COMPENSATED.
A failure to read (WeChat or the ledger down) leaves the intent unsettled for next time.
"""

import logging
from datetime import UTC, datetime

from fapiao_gateway.domain.context import Deadline
from fapiao_gateway.domain.errors import GatewayError
from fapiao_gateway.domain.intents import Intent, IntentKind, IntentState, Plan, Settlement
from fapiao_gateway.domain.status import ReimburseStatus
from fapiao_gateway.domain.status_changes import AuditOutcome, StatusChange
from fapiao_gateway.services.auditing import audit_entry, planned
from fapiao_gateway.services.compensation import (
    Compensator,
    held_by_other_report,
    rollback_audit,
)
from fapiao_gateway.services.ports import IntentLog, InvoiceLedger, InvoiceSource
from fapiao_gateway.services.reading import fetch_all

log = logging.getLogger("fapiao_gateway.recovery")


class Resolver:
    """Settles one unsettled intent this process has taken over."""

    def __init__(
        self,
        source: InvoiceSource,
        ledger: InvoiceLedger,
        log: IntentLog,
        compensator: Compensator,
        owner: str,
    ) -> None:
        self._source = source
        self._ledger = ledger
        self._log = log
        self._compensator = compensator
        self._owner = owner

    async def resolve(
        self, intent: Intent, deadline: Deadline, *, plan_hint: Plan | None = None
    ) -> None:
        """Settles `intent` (see the module docstring); raises what stopped it, after giving
        the intent up for the next attempt."""
        try:
            if intent.state is IntentState.STARTED:
                await self._log.settle(
                    intent, Settlement(IntentState.FAILED, error="ABANDONED"), owner=self._owner
                )
            elif intent.kind is IntentKind.IMPORT:
                await self._compensate_import(intent, deadline)
            else:
                await self._status_change(intent, intent.plan or plan_hint, deadline)
        except GatewayError:
            await self._log.release(intent, owner=self._owner)
            raise

    async def _status_change(self, intent: Intent, plan: Plan | None, deadline: Deadline) -> None:
        if plan is None:
            # Recorded before plans existed; only a retry (which knows the request) settles it.
            await self._log.release(intent, owner=self._owner)
            return
        current = await fetch_all(self._source, intent.account, plan.refs, deadline)
        now = datetime.now(UTC)
        statuses = {ref: f.invoice.reimburse_status for ref, f in current.items()}
        if all(status is plan.target for status in statuses.values()):
            changes = tuple(StatusChange(w.ref, w.before, plan.target, now) for w in plan.writes)
            settlement = Settlement(IntentState.DONE, changes)
            outcome = AuditOutcome.RESOLVED
        else:
            settlement = Settlement(IntentState.FAILED, error=AuditOutcome.NOT_APPLIED)
            outcome = AuditOutcome.NOT_APPLIED
        log.info(
            "settled an interrupted status change intent=%d account=%s outcome=%s",
            intent.id,
            intent.account,
            outcome,
        )
        await self._log.settle(
            intent,
            settlement,
            owner=self._owner,
            statuses=statuses,
            audit=[audit_entry(intent, to=plan.target, outcome=outcome, invoices=planned(plan))],
        )

    async def _compensate_import(self, intent: Intent, deadline: Deadline) -> None:
        plan = intent.plan
        if plan is None:
            await self._log.settle(
                intent,
                Settlement(IntentState.COMPENSATED, error="NOTHING_LOCKED"),
                owner=self._owner,
            )
            return
        current = await fetch_all(self._source, intent.account, plan.refs, deadline)
        entries = await self._ledger.entries(intent.account, plan.refs)
        locked = [
            ref
            for ref in plan.refs
            if current[ref].invoice.reimburse_status is ReimburseStatus.LOCK
            and not held_by_other_report(entries.get(ref), plan.biz_code)
        ]
        # A compensation that was under way may have released some already (its answers
        # lost, or its process gone): those releases are audited with this one's.
        released_before = []
        if intent.state is IntentState.COMPENSATING:
            released_before = [
                ref
                for ref in plan.refs
                if current[ref].invoice.reimburse_status is not ReimburseStatus.LOCK
            ]
        log.info(
            "compensating an interrupted import intent=%d account=%s locks_left=%d",
            intent.id,
            intent.account,
            len(locked),
        )
        if locked:
            await self._compensator.undo(
                intent, locked, cause="RECOVERED", released_before=released_before
            )
            return
        await self._log.settle(
            intent,
            Settlement(IntentState.COMPENSATED, error="RECOVERED"),
            owner=self._owner,
            audit=rollback_audit(intent, released_before),
        )
