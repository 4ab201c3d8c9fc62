"""Status changes, the rule that refuses an impossible one, and the audit trail, as values.

The audit trail records every state-changing action, whoever caused it: status changes, the
locks an import takes and the releases that compensate them, import sessions (QR codes),
and the drifts the ledger learns from WeChat: by a caller's read that found the ledger
behind, or by reconciliation. A read that changes nothing leaves no entry (that would be an
access log, and one entry per read would outgrow the ledger); a read that moved the ledger
does, since the ledger then says something new on WeChat's word.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from fapiao_gateway.domain.errors import PreconditionViolation, invoice_subject
from fapiao_gateway.domain.invoice import (
    UNUSABLE_CARD_STATUSES,
    CardStatus,
    FetchedInvoice,
    InvoiceRef,
)
from fapiao_gateway.domain.status import ReimburseStatus, transition_allowed


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A change WeChat accepted. `previous` is None where the gateway did not know it."""

    ref: InvoiceRef
    previous: ReimburseStatus | None
    status: ReimburseStatus
    change_time: datetime


@dataclass(frozen=True, slots=True)
class KnownInvoice:
    """What the gateway knows of an invoice before a change (from the ledger or a read)."""

    status: ReimburseStatus
    openid: str


def why_not(
    ref: InvoiceRef, current: KnownInvoice, target: ReimburseStatus, openid: str
) -> PreconditionViolation | None:
    """Why moving the invoice from what is known of it to `target` cannot work, or None."""
    subject = invoice_subject(ref)
    if openid and current.openid and current.openid != openid:
        return PreconditionViolation(
            "INVOICE_OWNER_MISMATCH", subject, "the invoice does not belong to the given openid"
        )
    if transition_allowed(current.status, target):
        return None
    if current.status is ReimburseStatus.INIT and target is ReimburseStatus.CLOSURE:
        return PreconditionViolation(
            "INVOICE_NOT_LOCKED", subject, "the invoice must be locked before it is written off"
        )
    return PreconditionViolation(
        "INVOICE_STATUS_CONFLICT",
        subject,
        f"cannot go from {current.status.value} to {target.value}",
    )


class AuditOutcome:
    """How an audited attempt ended (AuditEntry.outcome), besides a failure's reason."""

    OK = "OK"  # WeChat applied it, as asked
    REPLAYED = "REPLAYED"  # a replay of a request done before; nothing was sent
    OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN"  # sent, but WeChat's answer was lost; recovery decides
    RESOLVED = "RESOLVED"  # an attempt whose answer was lost turned out applied
    NOT_APPLIED = "NOT_APPLIED"  # an attempt whose answer was lost turned out not applied
    ROLLED_BACK = "ROLLED_BACK"  # an import's lock, (possibly) taken and then released
    COMPENSATED = "COMPENSATED"  # the release of a failed import's locks
    FOLLOWED = "FOLLOWED"  # a read found WeChat ahead of the ledger; the ledger follows
    RECONCILED = "RECONCILED"  # reconciliation found WeChat ahead; the ledger follows


class AuditAction(StrEnum):
    """What kind of action an audit entry records."""

    STATUS_CHANGE = "STATUS_CHANGE"  # UpdateStatus, UpdateStatusBatch
    IMPORT_LOCK = "IMPORT_LOCK"  # the locks ImportInvoices takes
    COMPENSATION = "COMPENSATION"  # releasing a failed import's locks
    IMPORT_SESSION = "IMPORT_SESSION"  # IssueImportQr opening a bizCode's session
    READ = "READ"  # a caller's read moved the ledger to what WeChat reports
    RECONCILIATION = "RECONCILIATION"  # reconciliation moved the ledger to WeChat's state


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One state-changing action, successful or not."""

    account: str
    caller: str
    request_id: str
    rpc: str
    #: The invoices acted on, each with its status before (None: not known).
    invoices: tuple[tuple[InvoiceRef, ReimburseStatus | None], ...]
    #: The status they were to have; None for an action that sets none (an import session).
    to_status: ReimburseStatus | None
    #: An AuditOutcome, or the failure's reason, e.g. INVOICE_STATUS_CONFLICT.
    outcome: str
    wechat_errcode: int | None = None
    created: datetime | None = None
    action: AuditAction = AuditAction.STATUS_CHANGE
    #: The business document (report) acted for, when there is one.
    biz_code: str = ""
    #: Further facts as (name, value) pairs, e.g. the card status before and after a drift,
    #: or an import session's URL and expiry.
    detail: tuple[tuple[str, str], ...] = ()
    #: The ledger's id of the entry (0 until stored); pages of the trail end at one.
    entry_id: int = 0


@dataclass(frozen=True, slots=True)
class AuditFilters:
    """ListAuditEvents' filters, combined with AND; empty values do not filter."""

    account: str
    biz_code: str = ""
    ref: InvoiceRef | None = None
    request_id: str = ""
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuditCursor:
    """Where the previous page of the trail ended, in its (created, id) order."""

    created_us: int
    entry_id: int


@dataclass(frozen=True, slots=True)
class AuditPage:
    """One page of the trail, newest first."""

    entries: tuple[AuditEntry, ...]
    next_cursor: AuditCursor | None = None


@dataclass(frozen=True, slots=True)
class Observation:
    """What WeChat just reported of an invoice: what the ledger follows."""

    status: ReimburseStatus
    card_status: CardStatus | None = None
    #: When the read was sent; the ledger does not follow a read into a row changed since
    #: (an import may have locked the invoice after this read saw it free).
    read_at_us: int | None = None


def observations(fetched: Mapping[InvoiceRef, FetchedInvoice]) -> dict[InvoiceRef, Observation]:
    """What a read of these invoices reported, for the ledger to follow."""
    return {
        ref: Observation(f.invoice.reimburse_status, f.invoice.card_status, f.read_at_us)
        for ref, f in fetched.items()
    }


def stale(seen: Observation, row_updated_us: int) -> bool:
    """Whether the ledger row changed at or after the read was sent: then the read may be
    older than the row, and the ledger must not follow it (reconciliation reads again)."""
    return seen.read_at_us is not None and row_updated_us >= seen.read_at_us


@dataclass(frozen=True, slots=True)
class Drift:
    """A ledger row that differed from what WeChat reports, and was moved to it."""

    ref: InvoiceRef
    biz_code: str
    before: ReimburseStatus
    after: ReimburseStatus
    card_before: CardStatus | None
    card_after: CardStatus | None


@dataclass(frozen=True, slots=True)
class Witness:
    """Who or what found a drift, for the audit entry it leaves: a caller's read (action
    READ, outcome FOLLOWED) or reconciliation (RECONCILIATION, RECONCILED)."""

    caller: str
    rpc: str
    action: AuditAction = AuditAction.READ
    outcome: str = AuditOutcome.FOLLOWED
    request_id: str = ""


def card_drift(known: CardStatus | None, seen: CardStatus | None) -> bool:
    """Whether a card status WeChat reports is news worth an audit entry: a change from a
    known status, or a first report that the card is unusable. WeChat saying nothing, or a
    usable card where the ledger knew none (rows imported before card states were kept),
    is not."""
    if seen is None or seen is known:
        return False
    return known is not None or seen in UNUSABLE_CARD_STATUSES


def drift_entry(account: str, drift: Drift, witness: Witness) -> AuditEntry:
    """The audit entry for a drift the ledger applied."""
    detail: list[tuple[str, str]] = []
    if drift.card_before is not drift.card_after:
        detail += [
            ("card_status_from", drift.card_before.value if drift.card_before else ""),
            ("card_status_to", drift.card_after.value if drift.card_after else ""),
        ]
    return AuditEntry(
        account=account,
        caller=witness.caller,
        request_id=witness.request_id,
        rpc=witness.rpc,
        invoices=((drift.ref, drift.before),),
        to_status=drift.after,
        outcome=witness.outcome,
        action=witness.action,
        biz_code=drift.biz_code,
        detail=tuple(detail),
    )
