"""Status changes and their audit trail, as plain values."""

from dataclasses import dataclass
from datetime import datetime

from fapiao_gateway.domain.invoice import InvoiceRef
from fapiao_gateway.domain.status import ReimburseStatus


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A change WeChat accepted. `previous` is None where the gateway did not know it."""

    ref: InvoiceRef
    previous: ReimburseStatus | None
    status: ReimburseStatus
    change_time: datetime


@dataclass(frozen=True, slots=True)
class KnownInvoice:
    """What the ledger knows of an imported invoice before a change."""

    status: ReimburseStatus
    openid: str


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One status change attempt, successful or not."""

    account: str
    caller: str
    request_id: str
    rpc: str
    invoices: tuple[tuple[InvoiceRef, ReimburseStatus | None], ...]
    to_status: ReimburseStatus
    #: OK, REPLAYED, RESOLVED (an earlier attempt turned out to have worked), or the
    #: failure's reason, e.g. INVOICE_STATUS_CONFLICT or OUTCOME_UNKNOWN.
    outcome: str
    wechat_errcode: int | None = None
    created: datetime | None = None
