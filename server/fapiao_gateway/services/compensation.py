"""Undoing what a failed import did at WeChat: releasing its locks, and only those.

An import claims every invoice it locks before it locks them, so while its intent is
unsettled no other request of the gateway can lock them: a lock found on one of them is this
import's. The ledger is asked all the same, and an invoice it gives to another report is
never released. A release whose answer is lost leaves the intent COMPENSATING for recovery,
which verifies by reading once a late request could no longer land.
"""

import logging
from collections.abc import Sequence

from fapiao_gateway.domain.context import Deadline
from fapiao_gateway.domain.errors import GatewayError, WeChatCode
from fapiao_gateway.domain.imports import TAKEN_STATUSES, LedgerEntry
from fapiao_gateway.domain.intents import Intent, IntentState, Settlement
from fapiao_gateway.domain.invoice import InvoiceRef
from fapiao_gateway.domain.status import ReimburseStatus
from fapiao_gateway.domain.status_changes import AuditAction, AuditEntry, AuditOutcome
from fapiao_gateway.services.auditing import audit_entry, planned
from fapiao_gateway.services.ports import IntentLog, StatusWriter

log = logging.getLogger("fapiao_gateway.compensation")

#: Time for each release: the caller's deadline may be spent by now.
_RELEASE_SECONDS = 15.0
#: Answers that mean "this account holds no lock on it": nothing to release.
_NOT_LOCKED_HERE = frozenset({WeChatCode.STATUS_CONFLICT, WeChatCode.LOCKED_BY_OTHER_ACCOUNT})


def held_by_other_report(entry: LedgerEntry | None, biz_code: str) -> bool:
    """Whether the ledger gives the invoice to a report other than `biz_code`."""
    return entry is not None and entry.biz_code != biz_code and entry.status in TAKEN_STATUSES


class Compensator:
    """Releases a failed import's locks and settles its intent COMPENSATED."""

    def __init__(self, writer: StatusWriter, log: IntentLog, owner: str) -> None:
        self._writer = writer
        self._log = log
        self._owner = owner

    async def undo(
        self,
        intent: Intent,
        refs: Sequence[InvoiceRef],
        *,
        cause: str,
        released_before: Sequence[InvoiceRef] = (),
    ) -> bool:
        """Releases `refs` (locks of `intent`) and settles it; True when settled. False when
        some release could not be confirmed: the intent is then left to recovery.
        `released_before`: invoices an earlier attempt of this compensation may have
        released already (audited with the rest)."""
        assert intent.plan is not None
        intent = await self._log.compensating(intent, owner=self._owner)
        released: list[InvoiceRef] = list(released_before)
        unsure = False
        for ref in refs:
            try:
                await self._writer.set_status(
                    intent.account, ref, ReimburseStatus.INIT, Deadline.after(_RELEASE_SECONDS)
                )
                released.append(ref)
            except GatewayError as error:
                if error.wechat_errcode in _NOT_LOCKED_HERE and not error.maybe_applied:
                    continue
                unsure = True
                log.warning(
                    "lock of a failed import not released yet (recovery retries) "
                    "account=%s intent=%d card_id=%s reason=%s",
                    intent.account,
                    intent.id,
                    ref.card_id,
                    error.reason,
                )
        if unsure:
            await self._log.release(intent, owner=self._owner, just_sent=True)
            return False
        await self._log.settle(
            intent,
            Settlement(IntentState.COMPENSATED, error=cause),
            owner=self._owner,
            audit=rollback_audit(intent, released),
        )
        return True


def rollback_audit(intent: Intent, released: Sequence[InvoiceRef]) -> list[AuditEntry]:
    """What a compensated import did: its locks (maybe) taken, then the ones released."""
    assert intent.plan is not None
    entries = [
        audit_entry(
            intent,
            to=ReimburseStatus.LOCK,
            outcome=AuditOutcome.ROLLED_BACK,
            invoices=planned(intent.plan),
        )
    ]
    if released:
        entries.append(
            audit_entry(
                intent,
                to=ReimburseStatus.INIT,
                outcome=AuditOutcome.COMPENSATED,
                invoices=[(ref, ReimburseStatus.LOCK) for ref in released],
                action=AuditAction.COMPENSATION,
            )
        )
    return entries
