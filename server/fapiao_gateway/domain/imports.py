"""Imported invoices: what the ledger keeps, how it is searched, and when an import is refused."""

import re
from dataclasses import dataclass, field
from datetime import datetime

from fapiao_gateway.domain.invoice import Invoice, InvoiceRef
from fapiao_gateway.domain.status import ReimburseStatus

#: A bizCode: the business document (expense report) invoices are imported under.
BIZ_CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

#: Statuses meaning "in a reimbursement process" (or done with it): an invoice in one of these
#: under another bizCode may not be imported again. An INIT invoice (never locked, or unlocked
#: after a rejection) may move to a new bizCode. This follows WeChat: LOCK is what marks an
#: invoice as taken by a reimbursement, CLOSURE as reimbursed.
TAKEN_STATUSES = frozenset({ReimburseStatus.LOCK, ReimburseStatus.CLOSURE})


@dataclass(frozen=True, slots=True)
class ImportedInvoice:
    """A ledger row: the invoice as last known, and where it was imported."""

    invoice: Invoice
    account: str
    biz_code: str
    imported_by: str
    import_time: datetime
    update_time: datetime


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """What an import needs to know of a row already in the ledger."""

    ref: InvoiceRef
    biz_code: str
    status: ReimburseStatus
    update_time_us: int


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """SearchInvoices' filters, combined with AND; empty values do not filter."""

    account: str
    biz_code: str = ""
    invoice_code: str = ""
    invoice_number: str = ""
    update_time_start: datetime | None = None
    update_time_end: datetime | None = None
    billing_time_start: datetime | None = None
    billing_time_end: datetime | None = None
    buyer_tax_numbers: tuple[str, ...] = ()
    seller_tax_numbers: tuple[str, ...] = ()
    status: ReimburseStatus | None = None


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the previous page ended, in the (update_time, id) order of the results."""

    update_time_us: int
    row_id: int


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of results; total_size only on the first page (it costs a count)."""

    invoices: tuple[ImportedInvoice, ...] = field(default_factory=tuple)
    next_cursor: Cursor | None = None
    total_size: int | None = None
