"""Reimbursement statuses and the transitions a reimburser may make."""

from enum import StrEnum


class ReimburseStatus(StrEnum):
    """WeChat's reimburse_status values, spelled as WeChat spells them on the wire."""

    INIT = "INVOICE_REIMBURSE_INIT"
    LOCK = "INVOICE_REIMBURSE_LOCK"
    CLOSURE = "INVOICE_REIMBURSE_CLOSURE"
    CANCEL = "INVOICE_REIMBURSE_CANCEL"


#: Targets a reimburser may ask for. CANCEL is set only by the issuer (red-flush).
SETTABLE_STATUSES = frozenset({ReimburseStatus.INIT, ReimburseStatus.LOCK, ReimburseStatus.CLOSURE})

#: The transitions a reimburser may make: lock, unlock, write off.
ALLOWED_TRANSITIONS = frozenset(
    {
        (ReimburseStatus.INIT, ReimburseStatus.LOCK),
        (ReimburseStatus.LOCK, ReimburseStatus.INIT),
        (ReimburseStatus.LOCK, ReimburseStatus.CLOSURE),
    }
)

#: Statuses an invoice can still leave at WeChat (reconciliation re-reads these).
OPEN_STATUSES = frozenset({ReimburseStatus.INIT, ReimburseStatus.LOCK})

#: Statuses nothing can leave.
FINAL_STATUSES = frozenset({ReimburseStatus.CLOSURE, ReimburseStatus.CANCEL})


def transition_allowed(current: ReimburseStatus, target: ReimburseStatus) -> bool:
    """Whether a reimburser may move an invoice from `current` to `target`."""
    return (current, target) in ALLOWED_TRANSITIONS
