"""Reconciliation: the ledger follows WeChat without waiting for a reader.

An invoice's status can change at WeChat without the gateway: its issuer red-flushes it
(CANCEL), another reimburser's system unlocks it, the user's card expires or is deleted.
Reconciliation re-reads the invoices the ledger holds in INIT or LOCK (what can still
change), newest first, in upstream batches, and applies every drift it finds through
InvoiceLedger.follow: rows an intent is changing are left to that intent, and each row
moved is audited (RECONCILIATION, RECONCILED) in the transaction that moves it.

Its spending is bounded: background rounds draw, per account and day (China Standard Time,
when WeChat's daily quotas reset), at most `daily_calls` upstream calls, counted in the
ledger (CallBudget) so every replica draws from the same share, and stop where it runs out
(the next day, or the next round after a quiet spell, goes on). A caller's explicit request
for one bizCode (ReconcileInvoices) is counted too, so the background yields to it, but not
refused by the share: it is a read the caller asked for, bounded like GetInvoices by the
per-request budget of upstream calls.
"""

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from fapiao_gateway.domain.context import Deadline
from fapiao_gateway.domain.errors import GatewayError
from fapiao_gateway.domain.imports import Cursor
from fapiao_gateway.domain.invoice import CHINA_TZ, InvoiceRef
from fapiao_gateway.domain.status_changes import (
    AuditAction,
    AuditOutcome,
    Drift,
    Witness,
    observations,
)
from fapiao_gateway.services.ports import (
    CallBudget,
    Clock,
    InvoiceLedger,
    InvoiceSource,
    OpenInvoices,
)
from fapiao_gateway.services.reading import check_budget

log = logging.getLogger("fapiao_gateway.reconciliation")

#: The caller name background rounds are audited under.
BACKGROUND = "reconciliation"
#: Time for reading one page of invoices in a background round.
_PAGE_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class ReconcilePolicy:
    """How much reconciliation may spend, and how it pages."""

    #: Upstream calls per account and day for background rounds (0: no background rounds).
    daily_calls: int
    #: Ledger rows read per page (the source splits them into upstream batches).
    page_size: int = 200
    #: Most upstream calls one ReconcileInvoices request may cost.
    request_budget: int = 50


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """What one reconciliation of an account (or of one bizCode) did."""

    account: str
    #: Invoices read from WeChat and compared.
    checked: int = 0
    #: Rows moved to what WeChat reports (each audited).
    drifts: tuple[Drift, ...] = field(default_factory=tuple)
    #: Upstream calls it made.
    calls: int = 0
    #: Whether it stopped because the day's share was spent (more invoices were left).
    out_of_budget: bool = False


def china_day(now_us: int) -> str:
    """The calendar day in China Standard Time, when WeChat's daily quotas reset."""
    return datetime.fromtimestamp(now_us / 1e6, CHINA_TZ).date().isoformat()


class Reconciler:
    """Re-reads open invoices and makes the ledger follow WeChat."""

    def __init__(
        self,
        source: InvoiceSource,
        ledger: InvoiceLedger,
        open_invoices: OpenInvoices,
        budget: CallBudget,
        clock: Clock,
        policy: ReconcilePolicy,
    ) -> None:
        self._source = source
        self._ledger = ledger
        self._open = open_invoices
        self._budget = budget
        self._now_us = clock
        self._policy = policy

    async def run_once(self) -> list[Reconciliation]:
        """A background round: every account with open invoices, within the day's share.
        An account WeChat refuses (e.g. its permission was revoked) is logged and skipped."""
        done: list[Reconciliation] = []
        for appid in await self._open.accounts_with_open_invoices():
            try:
                done.append(await self._sweep(appid, metered=True))
            except GatewayError as error:
                log.warning(
                    "reconciliation of account=%s stopped: %s (%s)",
                    appid,
                    error.reason,
                    error.message,
                )
        for result in done:
            if result.drifts or result.out_of_budget:
                log.info(
                    "reconciled account=%s checked=%d drifts=%d calls=%d out_of_budget=%s",
                    result.account,
                    result.checked,
                    len(result.drifts),
                    result.calls,
                    result.out_of_budget,
                )
        return done

    async def reconcile_report(
        self, appid: str, biz_code: str, *, caller: str, deadline: Deadline
    ) -> Reconciliation:
        """ReconcileInvoices: one bizCode's open invoices, now (counted, not metered).
        INVALID_ARGUMENT when they would cost more upstream calls than one request may."""
        page = await self._open.open_invoices(
            appid, None, self._policy.page_size * self._policy.request_budget, biz_code=biz_code
        )
        refs = [entry.ref for entry in page.entries]
        check_budget(self._source, refs, self._policy.request_budget, field="biz_code")
        witness = Witness(
            caller, "ReconcileInvoices", AuditAction.RECONCILIATION, AuditOutcome.RECONCILED
        )
        return await self._read(appid, refs, witness, deadline, limit=None)

    async def _sweep(self, appid: str, *, metered: bool) -> Reconciliation:
        witness = Witness(
            BACKGROUND, "Reconcile", AuditAction.RECONCILIATION, AuditOutcome.RECONCILED
        )
        limit = self._policy.daily_calls if metered else None
        total = Reconciliation(appid)
        cursor: Cursor | None = None
        while True:
            page = await self._open.open_invoices(appid, cursor, self._policy.page_size)
            refs = [entry.ref for entry in page.entries]
            if not refs:
                return total
            if limit is not None:
                left = limit - await self._budget.spent(appid, china_day(self._now_us()))
                refs = self._affordable(refs, left)
            done = await self._read(
                appid, refs, witness, Deadline.after(_PAGE_SECONDS), limit=limit
            )
            total = Reconciliation(
                appid,
                total.checked + done.checked,
                total.drifts + done.drifts,
                total.calls + done.calls,
                done.out_of_budget or len(refs) < len(page.entries),
            )
            if total.out_of_budget or page.next_cursor is None:
                return total
            cursor = page.next_cursor

    async def _read(
        self,
        appid: str,
        refs: Sequence[InvoiceRef],
        witness: Witness,
        deadline: Deadline,
        *,
        limit: int | None,
    ) -> Reconciliation:
        """Reads `refs` (after counting their calls against `limit`) and follows WeChat."""
        if not refs:
            return Reconciliation(appid, out_of_budget=limit is not None)
        cost = self._source.batches_needed(refs)
        if not await self._budget.take(appid, china_day(self._now_us()), cost, limit):
            return Reconciliation(appid, out_of_budget=True)
        fetched, failed = await self._source.fetch_batches(appid, refs, deadline)
        if failed and not fetched:
            raise next(iter(failed.values()))
        drifts = await self._ledger.follow(appid, observations(fetched), witness=witness)
        return Reconciliation(appid, len(fetched), drifts, cost)

    def _affordable(self, refs: Sequence[InvoiceRef], calls: int) -> list[InvoiceRef]:
        """The longest prefix of `refs` (newest first) that `calls` upstream calls can read."""
        low, high = 0, len(refs)
        while low < high:
            middle = (low + high + 1) // 2
            if self._source.batches_needed(refs[:middle]) <= calls:
                low = middle
            else:
                high = middle - 1
        return list(refs[:low])

    async def run(self, interval: float) -> None:
        """Background rounds now and every `interval` seconds, until cancelled."""
        while True:
            try:
                await self.run_once()
            except GatewayError as error:
                log.warning("reconciliation round skipped: %s", error.reason)
            await asyncio.sleep(interval)
