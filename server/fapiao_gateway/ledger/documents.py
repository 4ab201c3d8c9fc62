"""The archive records of the invoices' documents (services.ports.DocumentLedger).

An import enters its invoices' documents PENDING in its own transaction (`enter_in`), so no
imported invoice is ever without a record; the archiver takes due records, downloads, and
records each outcome. Invoices imported before the archive existed are entered by the
archiver itself (`enter_missing`), a batch per round.
"""

import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Row, and_, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from fapiao_gateway.domain.documents import ArchiveState, DocumentKind, DocumentRecord
from fapiao_gateway.domain.invoice import Invoice, InvoiceRef
from fapiao_gateway.domain.status import ReimburseStatus
from fapiao_gateway.ledger.codecs import from_us
from fapiao_gateway.ledger.engine import Database
from fapiao_gateway.ledger.schema import imported_invoices as rows_t
from fapiao_gateway.ledger.schema import invoice_documents as t

#: Why an invoice's PDF record is FAILED from the start: WeChat gave no URL for it.
NO_DOCUMENT_URL = "NO_DOCUMENT_URL"


def _documents(invoice: Invoice) -> list[tuple[DocumentKind, str]]:
    """The documents an invoice has: always its PDF (failed at once without a URL), and the
    trip attachment when WeChat gave one."""
    out = [(DocumentKind.INVOICE, invoice.pdf_url.strip())]
    if invoice.trip_pdf_url.strip():
        out.append((DocumentKind.TRIP, invoice.trip_pdf_url.strip()))
    return out


async def enter_in(
    conn: AsyncConnection, account: str, invoices: Sequence[Invoice], now: int
) -> None:
    """Enters the invoices' documents PENDING (those not entered yet), inside the caller's
    transaction."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    rows = [
        {
            "account": account,
            "card_id": invoice.ref.card_id,
            "encrypt_code": invoice.ref.encrypt_code,
            "kind": kind.value,
            "url": url,
            "state": (ArchiveState.PENDING if url else ArchiveState.FAILED).value,
            "reason": "" if url else NO_DOCUMENT_URL,
            "next_attempt_us": now,
            "created_us": now,
            "updated_us": now,
        }
        for invoice in invoices
        for kind, url in _documents(invoice)
    ]
    if rows:  # one statement for the whole import, not a round trip per document
        await conn.execute(dialect.insert(t).on_conflict_do_nothing(), rows)


def record_of(row: Row[Any]) -> DocumentRecord:
    return DocumentRecord(
        account=row.account,
        ref=InvoiceRef(row.card_id, row.encrypt_code),
        kind=DocumentKind(row.kind),
        url=row.url,
        state=ArchiveState(row.state),
        digest=row.digest,
        size=row.size,
        fetched_at=from_us(row.fetched_us) if row.fetched_us else None,
        attempts=row.attempts,
        reason=row.reason,
    )


def _key(record: DocumentRecord) -> Any:
    return and_(
        t.c.account == record.account,
        t.c.card_id == record.ref.card_id,
        t.c.encrypt_code == record.ref.encrypt_code,
        t.c.kind == record.kind.value,
    )


class DocumentLedger:
    """The archive records, in the ledger's database."""

    def __init__(self, db: Database, clock: Callable[[], int]) -> None:
        self._db = db
        self._now_us = clock

    async def find(
        self, account: str, ref: InvoiceRef, kind: DocumentKind
    ) -> DocumentRecord | None:
        query = select(t).where(
            t.c.account == account,
            t.c.card_id == ref.card_id,
            t.c.encrypt_code == ref.encrypt_code,
            t.c.kind == kind.value,
        )

        async def work(conn: AsyncConnection) -> DocumentRecord | None:
            row = (await conn.execute(query)).first()
            return record_of(row) if row is not None else None

        return await self._db.read(work)

    async def enter_missing(self, limit: int) -> int:
        """Enters the documents of up to `limit` imported invoices that have no record yet
        (imported before the archive existed); returns how many invoices it entered."""
        query = (
            select(rows_t.c.account, rows_t.c.card_id, rows_t.c.encrypt_code, rows_t.c.document)
            .outerjoin(
                t,
                and_(
                    t.c.account == rows_t.c.account,
                    t.c.card_id == rows_t.c.card_id,
                    t.c.encrypt_code == rows_t.c.encrypt_code,
                    t.c.kind == DocumentKind.INVOICE.value,
                ),
            )
            .where(t.c.kind.is_(None), rows_t.c.document.is_not(None))
            .limit(limit)
        )

        async def work(conn: AsyncConnection) -> int:
            now = self._now_us()
            found = (await conn.execute(query)).all()
            for row in found:
                document = json.loads(row.document)
                invoice = Invoice(
                    InvoiceRef(row.card_id, row.encrypt_code),
                    "",
                    ReimburseStatus.INIT,  # unused: only the URLs matter here
                    pdf_url=document.get("pdf_url") or "",
                    trip_pdf_url=document.get("trip_pdf_url") or "",
                )
                await enter_in(conn, row.account, [invoice], now)
            return len(found)

        return await self._db.write(work)

    async def take_due(self, limit: int, lease_us: int) -> list[DocumentRecord]:
        """Up to `limit` PENDING records due now, each put off by `lease_us` so another
        replica's archiver does not take it meanwhile."""

        async def work(conn: AsyncConnection) -> list[DocumentRecord]:
            now = self._now_us()
            query = (
                select(t)
                .where(
                    t.c.state == ArchiveState.PENDING.value,
                    t.c.next_attempt_us <= now,
                )
                .order_by(t.c.next_attempt_us)
                .limit(limit)
            )
            if conn.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            taken = [record_of(r) for r in (await conn.execute(query)).all()]
            for record in taken:
                await conn.execute(
                    update(t).where(_key(record)).values(next_attempt_us=now + lease_us)
                )
            return taken

        return await self._db.write(work)

    async def archived(self, record: DocumentRecord, digest: str, size: int) -> None:
        async def work(conn: AsyncConnection) -> None:
            now = self._now_us()
            await conn.execute(
                update(t)
                .where(_key(record))
                .values(
                    state=ArchiveState.ARCHIVED.value,
                    digest=digest,
                    size=size,
                    fetched_us=now,
                    attempts=t.c.attempts + 1,
                    reason="",
                    updated_us=now,
                )
            )

        await self._db.write(work)

    async def attempt_failed(
        self, record: DocumentRecord, reason: str, *, retry_at_us: int | None
    ) -> None:
        """Records a failed download: PENDING again until `retry_at_us`, or FAILED (None)."""

        async def work(conn: AsyncConnection) -> None:
            now = self._now_us()
            state = ArchiveState.FAILED if retry_at_us is None else ArchiveState.PENDING
            await conn.execute(
                update(t)
                .where(_key(record))
                .values(
                    state=state.value,
                    attempts=t.c.attempts + 1,
                    reason=reason[:128],
                    next_attempt_us=retry_at_us or 0,
                    updated_us=now,
                )
            )

        await self._db.write(work)

    async def totals(self) -> dict[str, tuple[int, int]]:
        """Per state: how many records, and how many archived bytes."""

        async def work(conn: AsyncConnection) -> dict[str, tuple[int, int]]:
            query = select(t.c.state, func.count(), func.coalesce(func.sum(t.c.size), 0)).group_by(
                t.c.state
            )
            return {r[0]: (int(r[1]), int(r[2])) for r in (await conn.execute(query)).all()}

        return await self._db.read(work)

    async def archived_digests(self) -> dict[str, int]:
        """Every archived digest and its recorded size (for `archive verify`)."""

        async def work(conn: AsyncConnection) -> dict[str, int]:
            query = select(t.c.digest, t.c.size).where(t.c.state == ArchiveState.ARCHIVED.value)
            return {r.digest: int(r.size) for r in (await conn.execute(query)).all()}

        return await self._db.read(work)
