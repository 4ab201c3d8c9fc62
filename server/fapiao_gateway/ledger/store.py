"""Reading and writing the ledger of imported invoices. Every query is scoped to one account."""

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, Select, and_, func, insert, select, tuple_, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from fapiao_gateway.domain.errors import AlreadyExists, Unavailable, invoice_resource
from fapiao_gateway.domain.imports import (
    TAKEN_STATUSES,
    Cursor,
    ImportedInvoice,
    LedgerEntry,
    SearchFilters,
    SearchPage,
)
from fapiao_gateway.domain.invoice import Invoice, InvoiceRef
from fapiao_gateway.domain.status import ReimburseStatus
from fapiao_gateway.domain.status_changes import KnownInvoice
from fapiao_gateway.ledger.schema import imported_invoices as t
from fapiao_gateway.wechat.models import InvoiceInfo


def now_us() -> int:
    return time.time_ns() // 1000


def to_us(value: datetime) -> int:
    return int(value.timestamp() * 1_000_000)


def from_us(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1_000_000, UTC)


@dataclass(frozen=True, slots=True)
class ImportRecord:
    """One invoice of an import: what WeChat returned, and the status to store."""

    invoice: Invoice
    payload: dict[str, Any]
    #: The status WeChat reported when the import fetched it (before any lock of ours).
    fetched_status: ReimburseStatus


def refuse_if_held_elsewhere(
    entry: LedgerEntry | None, biz_code: str, status: ReimburseStatus, account: str
) -> None:
    """ALREADY_EXISTS if another bizCode holds the invoice in a reimbursement process.
    `status` is the freshest status known for it (see record_import)."""
    if entry is not None and entry.biz_code != biz_code and status in TAKEN_STATUSES:
        raise _already_imported(LedgerEntry(entry.ref, entry.biz_code, status, 0), account)


def _already_imported(entry: LedgerEntry, account: str) -> AlreadyExists:
    """The refusal for an invoice another bizCode holds in a reimbursement process."""
    return AlreadyExists(
        f"The invoice is already imported under bizCode {entry.biz_code!r} "
        f"with status {entry.status.value}; one invoice is reimbursed once.",
        reason="INVOICE_ALREADY_IMPORTED",
        metadata={
            "account": account,
            "card_id": entry.ref.card_id,
            "encrypt_code": entry.ref.encrypt_code,
            "biz_code": entry.biz_code,
        },
        resource=invoice_resource(
            entry.ref,
            owner=f"bizCode:{entry.biz_code}",
            description=f"imported under bizCode {entry.biz_code} ({entry.status.value})",
        ),
    )


def ledger_unavailable(exc: Exception) -> Unavailable:
    return Unavailable(
        f"The ledger database is not available ({type(exc).__name__}).",
        reason="LEDGER_UNAVAILABLE",
        retry_after=1.0,
    )


def ref_condition(refs: Sequence[InvoiceRef]) -> Any:
    return tuple_(t.c.card_id, t.c.encrypt_code).in_([(r.card_id, r.encrypt_code) for r in refs])


class Ledger:
    """The imported-invoice store."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def entries(self, account: str, refs: Sequence[InvoiceRef]) -> list[LedgerEntry]:
        """The rows these refs already have in `account`'s ledger."""
        try:
            async with self._engine.connect() as conn:
                return await self._entries(conn, account, refs, for_update=False)
        except (OperationalError, DBAPIError) as exc:
            raise ledger_unavailable(exc) from exc

    async def _entries(
        self, conn: AsyncConnection, account: str, refs: Sequence[InvoiceRef], *, for_update: bool
    ) -> list[LedgerEntry]:
        query = select(
            t.c.card_id, t.c.encrypt_code, t.c.biz_code, t.c.status, t.c.update_time_us
        ).where(t.c.account == account, ref_condition(refs))
        if for_update and conn.dialect.name == "postgresql":
            query = query.with_for_update()
        rows = (await conn.execute(query)).all()
        return [
            LedgerEntry(
                InvoiceRef(r.card_id, r.encrypt_code),
                r.biz_code,
                ReimburseStatus(r.status),
                r.update_time_us,
            )
            for r in rows
        ]

    async def known(
        self, account: str, refs: Sequence[InvoiceRef]
    ) -> dict[InvoiceRef, KnownInvoice]:
        """Status and openid of those refs the ledger holds (imported invoices)."""
        query = select(t.c.card_id, t.c.encrypt_code, t.c.status, t.c.openid).where(
            t.c.account == account, ref_condition(refs)
        )
        try:
            async with self._engine.connect() as conn:
                rows = (await conn.execute(query)).all()
        except (OperationalError, DBAPIError) as exc:
            raise ledger_unavailable(exc) from exc
        return {
            InvoiceRef(r.card_id, r.encrypt_code): KnownInvoice(ReimburseStatus(r.status), r.openid)
            for r in rows
        }

    async def follow(self, account: str, statuses: dict[InvoiceRef, ReimburseStatus]) -> None:
        """Makes imported rows show the status WeChat just reported, where they differ:
        someone changed it outside the gateway, and the ledger follows WeChat."""
        if not statuses:
            return
        known = await self.known(account, list(statuses))
        stale = {
            ref: status
            for ref, status in statuses.items()
            if ref in known and known[ref].status is not status
        }
        if not stale:
            return
        stamp = now_us()
        try:
            async with self._engine.begin() as conn:
                for ref, status in stale.items():
                    await conn.execute(
                        update(t)
                        .where(t.c.account == account, ref_condition([ref]))
                        .values(status=status.value, update_time_us=stamp)
                    )
        except (OperationalError, DBAPIError) as exc:
            raise ledger_unavailable(exc) from exc

    async def record_import(
        self,
        *,
        account: str,
        biz_code: str,
        imported_by: str,
        records: Sequence[ImportRecord],
        stored_statuses: dict[InvoiceRef, ReimburseStatus],
        fetched_at_us: int,
    ) -> list[ImportedInvoice]:
        """Stores an import in one transaction, after checking the guard once more inside it.

        A row changed since the import fetched from WeChat (by a concurrent call) speaks for
        itself; otherwise WeChat's fresher status decides whether another bizCode holds it.
        """
        refs = [record.invoice.ref for record in records]
        stamp = now_us()
        try:
            async with self._engine.begin() as conn:
                existing = {
                    e.ref: e for e in await self._entries(conn, account, refs, for_update=True)
                }
                for record in records:
                    entry = existing.get(record.invoice.ref)
                    fresher = entry is not None and entry.update_time_us > fetched_at_us
                    status = (
                        entry.status if entry is not None and fresher else record.fetched_status
                    )
                    refuse_if_held_elsewhere(entry, biz_code, status, account)
                for record in records:
                    invoice = record.invoice
                    entry = existing.get(invoice.ref)
                    status = stored_statuses[invoice.ref]
                    if entry is not None and entry.biz_code == biz_code and entry.status is status:
                        continue  # a repeated import: the row stays as it is
                    values = self._values(invoice, record.payload, status, biz_code, stamp)
                    if entry is None:
                        await conn.execute(
                            insert(t).values(
                                account=account,
                                card_id=invoice.ref.card_id,
                                encrypt_code=invoice.ref.encrypt_code,
                                imported_by=imported_by,
                                import_time_us=stamp,
                                **values,
                            )
                        )
                    else:
                        moved = (
                            {"imported_by": imported_by, "import_time_us": stamp}
                            if entry.biz_code != biz_code
                            else {}
                        )
                        await conn.execute(
                            update(t)
                            .where(t.c.account == account, ref_condition([invoice.ref]))
                            .values(**values, **moved)
                        )
                rows = (
                    await conn.execute(select(t).where(t.c.account == account, ref_condition(refs)))
                ).all()
        except IntegrityError:
            # A concurrent import inserted one of these invoices first: ours loses the race.
            raise AlreadyExists(
                "Another import of the same invoice finished first; search for it by invoice.",
                reason="INVOICE_IMPORT_RACE",
                metadata={"account": account},
            ) from None
        except (OperationalError, DBAPIError) as exc:
            raise ledger_unavailable(exc) from exc
        by_ref = {InvoiceRef(r.card_id, r.encrypt_code): r for r in rows}
        return [self._imported(by_ref[ref]) for ref in refs]

    async def search(self, filters: SearchFilters, cursor: Cursor | None, limit: int) -> SearchPage:
        """One page of `filters`' results, newest update first, after `cursor`."""
        conditions = self._conditions(filters)
        query: Select[Any] = select(t).where(*conditions)
        if cursor is not None:
            query = query.where(
                tuple_(t.c.update_time_us, t.c.id) < tuple_(cursor.update_time_us, cursor.row_id)
            )
        query = query.order_by(t.c.update_time_us.desc(), t.c.id.desc()).limit(limit + 1)
        try:
            async with self._engine.connect() as conn:
                rows = (await conn.execute(query)).all()
                total = None
                if cursor is None:
                    total = (
                        await conn.execute(select(func.count()).select_from(t).where(*conditions))
                    ).scalar_one()
        except (OperationalError, DBAPIError) as exc:
            raise ledger_unavailable(exc) from exc
        page, more = rows[:limit], len(rows) > limit
        next_cursor = Cursor(page[-1].update_time_us, page[-1].id) if more and page else None
        return SearchPage(tuple(self._imported(r) for r in page), next_cursor, total)

    @staticmethod
    def _conditions(f: SearchFilters) -> list[Any]:
        conditions: list[Any] = [t.c.account == f.account]
        equal = {
            t.c.biz_code: f.biz_code,
            t.c.invoice_code: f.invoice_code,
            t.c.invoice_number: f.invoice_number,
            t.c.status: f.status.value if f.status else "",
        }
        conditions += [column == value for column, value in equal.items() if value]
        if f.update_time_start:
            conditions.append(t.c.update_time_us >= to_us(f.update_time_start))
        if f.update_time_end:
            conditions.append(t.c.update_time_us < to_us(f.update_time_end))
        if f.billing_time_start:
            conditions.append(t.c.billing_time_us >= to_us(f.billing_time_start))
        if f.billing_time_end:
            conditions.append(t.c.billing_time_us < to_us(f.billing_time_end))
        if f.buyer_tax_numbers:
            conditions.append(t.c.buyer_tax_number.in_(f.buyer_tax_numbers))
        if f.seller_tax_numbers:
            conditions.append(t.c.seller_tax_number.in_(f.seller_tax_numbers))
        return [and_(*conditions)]

    @staticmethod
    def _values(
        invoice: Invoice,
        payload: dict[str, Any],
        status: ReimburseStatus,
        biz_code: str,
        stamp: int,
    ) -> dict[str, Any]:
        return {
            "openid": invoice.openid,
            "biz_code": biz_code,
            "status": status.value,
            "invoice_code": invoice.invoice_code,
            "invoice_number": invoice.invoice_number,
            "buyer_tax_number": invoice.buyer_tax_number,
            "seller_tax_number": invoice.seller_tax_number,
            "billing_time_us": to_us(invoice.billing_time) if invoice.billing_time else None,
            "total_fen": invoice.total_fen,
            "payload": json.dumps(payload, ensure_ascii=False),
            "update_time_us": stamp,
        }

    @staticmethod
    def _imported(row: Row[Any]) -> ImportedInvoice:
        # The payload is WeChat's JSON, so WeChat's parser reads it back; the row's status is
        # the last known one (it may have changed since the payload was fetched).
        parsed = InvoiceInfo.model_validate(json.loads(row.payload)).to_domain(row.encrypt_code)
        invoice = replace(parsed, reimburse_status=ReimburseStatus(row.status))
        return ImportedInvoice(
            invoice=invoice,
            account=row.account,
            biz_code=row.biz_code,
            imported_by=row.imported_by,
            import_time=from_us(row.import_time_us),
            update_time=from_us(row.update_time_us),
        )
