"""Imported invoices: what the ledger keeps, how it is searched, and the import rules
(when an import is refused, which invoices it locks, how a bizCode is made)."""

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fapiao_gateway.domain.errors import (
    FailedPrecondition,
    FieldViolation,
    InvoiceDuplicate,
    InvoiceHeldElsewhere,
    PreconditionViolation,
    invalid_fields,
    invoice_subject,
)
from fapiao_gateway.domain.invoice import UNUSABLE_CARD_STATUSES, Invoice, InvoiceRef
from fapiao_gateway.domain.status import ReimburseStatus
from fapiao_gateway.domain.tax_identity import tax_identity

#: A bizCode: the business document (expense report) invoices are imported under.
BIZ_CODE_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")

#: Statuses meaning "in a reimbursement process" (or done with it): an invoice in one of these
#: under another bizCode may not be imported again. An INIT invoice (never locked, or unlocked
#: after a rejection) may move to a new bizCode. This follows WeChat: LOCK is what marks an
#: invoice as taken by a reimbursement, CLOSURE as reimbursed.
TAKEN_STATUSES = frozenset({ReimburseStatus.LOCK, ReimburseStatus.CLOSURE})


def new_biz_code() -> str:
    """An unguessable, URL-safe bizCode for imports that come without one."""
    return "biz-" + secrets.token_urlsafe(16)


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


def refuse_if_held_elsewhere(
    entry: LedgerEntry | None, biz_code: str, status: ReimburseStatus
) -> None:
    """InvoiceHeldElsewhere (ALREADY_EXISTS) if another bizCode holds the invoice in a
    reimbursement process. `status` is the freshest status known for it."""
    if entry is not None and entry.biz_code != biz_code and status in TAKEN_STATUSES:
        raise InvoiceHeldElsewhere(entry.ref, biz_code=entry.biz_code, status=status.value)


@dataclass(frozen=True, slots=True)
class IdentityHolder:
    """The ledger row that holds a tax identity company-wide: the first card through which
    that fapiao was imported, in whichever account, with its report as it stands now."""

    tax_identity: str
    account: str
    ref: InvoiceRef
    biz_code: str
    status: ReimburseStatus
    import_time: datetime

    def holds_other_than(self, account: str, ref: InvoiceRef) -> bool:
        """Whether this holder is another card than (account, ref): a duplicate."""
        return (self.account, self.ref) != (account, ref)


def identities_of(invoices: Sequence[Invoice]) -> dict[InvoiceRef, str]:
    """The tax identity of each invoice that has one."""
    keyed = {i.ref: tax_identity(i.invoice_code, i.invoice_number) for i in invoices}
    return {ref: key for ref, key in keyed.items() if key is not None}


def refuse_duplicates(
    account: str,
    refs: Sequence[InvoiceRef],
    identities: Mapping[InvoiceRef, str],
    holders: Mapping[str, IdentityHolder],
) -> None:
    """The company-wide duplicate guard. InvoiceDuplicate (ALREADY_EXISTS, naming the
    holder) if another card, of this account or any other, already holds an invoice's tax
    identity, whatever its report's state (open, locked or written off); INVALID_ARGUMENT if
    one request picks two cards of the same fapiao. The same card imported again is not a
    duplicate: the per-card rules (refuse_if_held_elsewhere) decide it."""
    first: dict[str, int] = {}
    repeated: list[FieldViolation] = []
    for index, ref in enumerate(refs):
        key = identities.get(ref)
        if key is None:
            continue
        if key in first:
            repeated.append(
                FieldViolation(
                    f"invoices[{index}]",
                    f"The same invoice ({key}) as invoices[{first[key]}], through another "
                    "WeChat card; pick it once.",
                )
            )
            continue
        first[key] = index
    if repeated:
        raise invalid_fields(repeated)
    for ref in refs:
        key = identities.get(ref)
        holder = holders.get(key) if key is not None else None
        if key is not None and holder is not None and holder.holds_other_than(account, ref):
            raise InvoiceDuplicate(
                ref,
                tax_identity=key,
                holder_account=holder.account,
                holder_biz_code=holder.biz_code,
                holder_import_time=holder.import_time.isoformat(),
            )


def refuse_unreimbursable(invoices: Sequence[Invoice]) -> None:
    """FAILED_PRECONDITION (INVOICE_NOT_REIMBURSABLE, a violation per invoice) if any invoice
    is not the user's to reimburse: its card is expired, deleted, given away (or being
    given) or made unavailable (user_card_status), or the issuer red-flushed it (CANCEL).
    Checked on what WeChat just reported, before anything is locked or stored.

    There is no override: none of these can be reimbursed, and the user can pick a usable
    invoice (an expired card's invoice is re-sent by its issuer as a new card)."""
    refused: list[tuple[Invoice, str, str]] = []
    for invoice in invoices:
        if invoice.card_status in UNUSABLE_CARD_STATUSES:
            assert invoice.card_status is not None
            refused.append(
                (
                    invoice,
                    f"CARD_{invoice.card_status.value}",
                    f"the invoice's card is {invoice.card_status.value} in the user's card package",
                )
            )
        elif invoice.reimburse_status is ReimburseStatus.CANCEL:
            refused.append((invoice, "INVOICE_CANCELLED", "the issuer red-flushed the invoice"))
    if refused:
        raise FailedPrecondition(
            f"{len(refused)} invoice(s) cannot be reimbursed: {refused[0][2]}.",
            reason="INVOICE_NOT_REIMBURSABLE",
            ref=refused[0][0].ref,
            precondition_violations=[
                PreconditionViolation(kind, invoice_subject(invoice.ref), why)
                for invoice, kind, why in refused
            ],
        )


def invoices_to_lock(
    biz_code: str,
    refs: Sequence[InvoiceRef],
    statuses: Mapping[InvoiceRef, ReimburseStatus],
    entries: Mapping[InvoiceRef, LedgerEntry],
) -> list[InvoiceRef]:
    """The invoices an import with lock must lock; refuses the import (before WeChat is
    touched) if any cannot be. INIT is locked; LOCK is fine only when this bizCode already
    holds it (a repeated import)."""
    to_lock: list[InvoiceRef] = []
    refused: list[tuple[InvoiceRef, ReimburseStatus]] = []
    for ref in refs:
        status, entry = statuses[ref], entries.get(ref)
        if status is ReimburseStatus.INIT:
            to_lock.append(ref)
        elif not (
            status is ReimburseStatus.LOCK and entry is not None and entry.biz_code == biz_code
        ):
            refused.append((ref, status))
    if refused:
        raise FailedPrecondition(
            f"{len(refused)} invoice(s) cannot be locked: only INIT invoices can.",
            reason="INVOICE_NOT_LOCKABLE",
            ref=refused[0][0],
            precondition_violations=[
                PreconditionViolation(
                    "INVOICE_NOT_LOCKABLE",
                    invoice_subject(ref),
                    f"status is {status.value}, not INVOICE_REIMBURSE_INIT",
                )
                for ref, status in refused
            ],
        )
    return to_lock


@dataclass(frozen=True, slots=True)
class ImportRecord:
    """One invoice of an import to store: what WeChat returned, and the status to store
    (WeChat's when fetched, LOCK when the import locked it)."""

    fetched: Invoice
    raw: Mapping[str, Any]
    status: ReimburseStatus


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What ImportInvoices answers (and replays): the bizCode and the stored invoices."""

    biz_code: str
    invoices: tuple[ImportedInvoice, ...]


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """SearchInvoices' filters, combined with AND; empty values do not filter. `accounts`,
    when given, replaces `account`: a search across the accounts the caller may read."""

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
    accounts: tuple[str, ...] = ()
    tax_identity: str = ""


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the previous page ended, in the (update_time, id) order of the results."""

    update_time_us: int
    row_id: int


@dataclass(frozen=True, slots=True)
class OpenPage:
    """A page of ledger rows still open at WeChat (INIT, LOCK), newest update first."""

    entries: tuple[LedgerEntry, ...]
    next_cursor: Cursor | None = None


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of results; total_size only on the first page (it costs a count): exact up
    to a limit, past it an estimate (`total_estimated`)."""

    invoices: tuple[ImportedInvoice, ...] = field(default_factory=tuple)
    next_cursor: Cursor | None = None
    total_size: int | None = None
    total_estimated: bool = False
