"""The imported invoices: looked up by ref, followed to WeChat's status, searched, and written
by an import's settlement (ledger/intents.py). Every query is scoped to one account.

Lookups by refs name the account and the card_ids, so both backends walk the unique
(account, card_id, encrypt_code) index for a batch of any size instead of scanning.
"""

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, Select, and_, insert, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from fapiao_gateway.domain.errors import InvoiceBeingChanged
from fapiao_gateway.domain.imports import (
    Cursor,
    IdentityHolder,
    ImportedInvoice,
    ImportRecord,
    LedgerEntry,
    OpenPage,
    SearchFilters,
    SearchPage,
    identities_of,
    refuse_duplicates,
    refuse_if_held_elsewhere,
)
from fapiao_gateway.domain.invoice import CardStatus, Invoice, InvoiceRef
from fapiao_gateway.domain.status import OPEN_STATUSES, ReimburseStatus
from fapiao_gateway.domain.status_changes import (
    Drift,
    KnownInvoice,
    Observation,
    Witness,
    card_drift,
    drift_entry,
    stale,
)
from fapiao_gateway.domain.tax_identity import tax_identity
from fapiao_gateway.ledger.audit import write_audit
from fapiao_gateway.ledger.codecs import (
    card_status_from_text,
    card_status_text,
    dumps,
    from_us,
    invoice_document,
    invoice_from_document,
    to_us,
)
from fapiao_gateway.ledger.counting import Total, total
from fapiao_gateway.ledger.documents import enter_in
from fapiao_gateway.ledger.engine import Database
from fapiao_gateway.ledger.queries import claimed_by_other, refs_condition
from fapiao_gateway.ledger.schema import imported_invoices as t
from fapiao_gateway.ledger.schema import invoice_claims as claims
from fapiao_gateway.ledger.schema import tax_identities as ids

#: Rows converted per transaction by the document backfill.
_BACKFILL_CHUNK = 500


def imported_from_row(row: Row[Any]) -> ImportedInvoice:
    """A row as the domain sees it; the row's status and card status are the last known."""
    invoice = invoice_from_document(json.loads(row.document))
    return ImportedInvoice(
        invoice=replace(
            invoice,
            reimburse_status=ReimburseStatus(row.status),
            card_status=card_status_from_text(row.card_status) or invoice.card_status,
        ),
        account=row.account,
        biz_code=row.biz_code,
        imported_by=row.imported_by,
        import_time=from_us(row.import_time_us),
        update_time=from_us(row.update_time_us),
    )


class InvoiceLedger:
    """The imported-invoice store (services.ports.InvoiceLedger)."""

    def __init__(self, db: Database, clock: Callable[[], int]) -> None:
        self._db = db
        self._now_us = clock

    async def entries(
        self, account: str, refs: Sequence[InvoiceRef]
    ) -> dict[InvoiceRef, LedgerEntry]:
        """The rows these refs already have in `account`'s ledger."""

        async def work(conn: AsyncConnection) -> dict[InvoiceRef, LedgerEntry]:
            return await entries_in(conn, account, refs, for_update=False)

        return await self._db.read(work)

    async def known(
        self, account: str, refs: Sequence[InvoiceRef]
    ) -> dict[InvoiceRef, KnownInvoice]:
        """Last known status and owner (openid) of the refs imported into `account`."""

        async def work(conn: AsyncConnection) -> dict[InvoiceRef, KnownInvoice]:
            query = select(t.c.card_id, t.c.encrypt_code, t.c.status, t.c.openid).where(
                refs_condition(account, refs)
            )
            rows = (await conn.execute(query)).all()
            return {
                InvoiceRef(r.card_id, r.encrypt_code): KnownInvoice(
                    ReimburseStatus(r.status), r.openid
                )
                for r in rows
            }

        return await self._db.read(work)

    async def follow(
        self, account: str, observed: Mapping[InvoiceRef, Observation], *, witness: Witness
    ) -> tuple[Drift, ...]:
        """Makes imported rows show what WeChat just reported, where they differ and no
        request of the gateway is changing the invoice (that request settles it itself); each
        row moved is audited as `witness` found it, in the same transaction. Returns them."""
        if not observed:
            return ()
        known = await self._current(account, list(observed))
        if not any(
            is_drift(known[r], o) or learns(known[r], o) for r, o in observed.items() if r in known
        ):
            return ()

        async def work(conn: AsyncConnection) -> tuple[Drift, ...]:
            now = self._now_us()
            return await follow_in(conn, account, observed, witness, now)

        return await self._db.write(work)

    async def _current(self, account: str, refs: Sequence[InvoiceRef]) -> dict[InvoiceRef, Any]:
        async def work(conn: AsyncConnection) -> dict[InvoiceRef, Any]:
            return await _rows_of(conn, account, refs)

        return await self._db.read(work)

    async def open_invoices(
        self, account: str, cursor: Cursor | None, limit: int, *, biz_code: str = ""
    ) -> OpenPage:
        """A page of `account`'s rows in INIT or LOCK (what can still change at WeChat),
        newest update first, after `cursor`; of one bizCode when given."""
        columns = (t.c.id, t.c.card_id, t.c.encrypt_code, t.c.biz_code, t.c.status)
        query = select(*columns, t.c.update_time_us).where(
            t.c.account == account, t.c.status.in_([s.value for s in OPEN_STATUSES])
        )
        if biz_code:
            query = query.where(t.c.biz_code == biz_code)
        if cursor is not None:
            query = query.where(
                tuple_(t.c.update_time_us, t.c.id) < tuple_(cursor.update_time_us, cursor.row_id)
            )
        query = query.order_by(t.c.update_time_us.desc(), t.c.id.desc()).limit(limit + 1)

        async def work(conn: AsyncConnection) -> list[Any]:
            return list((await conn.execute(query)).all())

        rows = await self._db.read(work)
        page, more = rows[:limit], len(rows) > limit
        return OpenPage(
            tuple(
                LedgerEntry(
                    InvoiceRef(r.card_id, r.encrypt_code),
                    r.biz_code,
                    ReimburseStatus(r.status),
                    r.update_time_us,
                )
                for r in page
            ),
            Cursor(page[-1].update_time_us, page[-1].id) if more and page else None,
        )

    async def accounts_with_open_invoices(self) -> list[str]:
        """The accounts (appids) whose ledger holds invoices in INIT or LOCK."""
        query = (
            select(t.c.account)
            .where(t.c.status.in_([s.value for s in OPEN_STATUSES]))
            .distinct()
            .order_by(t.c.account)
        )

        async def work(conn: AsyncConnection) -> list[str]:
            return list((await conn.execute(query)).scalars().all())

        return await self._db.read(work)

    async def search(self, filters: SearchFilters, cursor: Cursor | None, limit: int) -> SearchPage:
        """One page of `filters`' results, newest update first, after `cursor`.

        The page's ids are found first and its rows read after: a filter whose matches are
        sorted (a billing-time range) then sorts index entries, not whole rows."""
        conditions = _conditions(filters)
        keys: Select[Any] = select(t.c.id).where(*conditions)
        if cursor is not None:
            keys = keys.where(
                tuple_(t.c.update_time_us, t.c.id) < tuple_(cursor.update_time_us, cursor.row_id)
            )
        keys = keys.order_by(t.c.update_time_us.desc(), t.c.id.desc()).limit(limit + 1)

        async def work(conn: AsyncConnection) -> tuple[list[Row[Any]], Total | None]:
            ids = list((await conn.execute(keys)).scalars())
            found = (await conn.execute(select(t).where(t.c.id.in_(ids)))).all() if ids else []
            rows = sorted(found, key=lambda r: (r.update_time_us, r.id), reverse=True)
            return rows, await total(conn, conditions) if cursor is None else None

        rows, counted = await self._db.read(work)
        page, more = rows[:limit], len(rows) > limit
        next_cursor = Cursor(page[-1].update_time_us, page[-1].id) if more and page else None
        return SearchPage(
            tuple(imported_from_row(r) for r in page),
            next_cursor,
            counted.count if counted else None,
            total_estimated=bool(counted and counted.estimated),
        )

    async def holders(self, identities: Collection[str]) -> dict[str, IdentityHolder]:
        """Who holds each of these tax identities company-wide, where held."""

        async def work(conn: AsyncConnection) -> dict[str, IdentityHolder]:
            return await holders_in(conn, identities, for_update=False)

        return await self._db.read(work)

    async def backfill_documents(self, parse: Callable[[Mapping[str, Any], str], Invoice]) -> int:
        """Gives rows written before the `document` column existed their document, parsing
        the stored WeChat JSON with `parse` (the composition root hands in WeChat's parser, so
        the ledger needs none). Returns how many rows it converted."""
        converted = 0
        while True:

            async def chunk(conn: AsyncConnection) -> int:
                rows = (
                    await conn.execute(
                        select(t.c.id, t.c.encrypt_code, t.c.payload)
                        .where(t.c.document.is_(None))
                        .limit(_BACKFILL_CHUNK)
                    )
                ).all()
                for row in rows:
                    payload = json.loads(row.payload, parse_float=Decimal)
                    invoice = parse(payload, row.encrypt_code)
                    await conn.execute(
                        update(t)
                        .where(t.c.id == row.id)
                        .values(document=dumps(invoice_document(invoice)))
                    )
                return len(rows)

            done = await self._db.write(chunk)
            converted += done
            if done < _BACKFILL_CHUNK:
                return converted


async def _rows_of(
    conn: AsyncConnection, account: str, refs: Sequence[InvoiceRef]
) -> dict[InvoiceRef, Any]:
    query = select(
        t.c.card_id, t.c.encrypt_code, t.c.biz_code, t.c.status, t.c.card_status, t.c.document
    ).where(refs_condition(account, refs))
    rows = (await conn.execute(query)).all()
    return {InvoiceRef(r.card_id, r.encrypt_code): r for r in rows}


def _known_card(row: Any) -> CardStatus | None:
    if row.card_status:
        return CardStatus(row.card_status)
    if row.document is None:
        return None
    return card_status_from_text(json.loads(row.document).get("card_status"))


def is_drift(row: Any, seen: Observation) -> bool:
    """Whether WeChat reports something the ledger must follow, and audit."""
    return ReimburseStatus(row.status) is not seen.status or card_drift(
        _known_card(row), seen.card_status
    )


def learns(row: Any, seen: Observation) -> bool:
    """Whether WeChat reports a card status the row lacks, without a drift to audit."""
    return seen.card_status is not None and not row.card_status


async def follow_in(
    conn: AsyncConnection,
    account: str,
    observed: Mapping[InvoiceRef, Observation],
    witness: Witness,
    now: int,
) -> tuple[Drift, ...]:
    """InvoiceLedger.follow inside the caller's transaction."""
    query = select(
        t.c.card_id,
        t.c.encrypt_code,
        t.c.biz_code,
        t.c.status,
        t.c.card_status,
        t.c.document,
        t.c.update_time_us,
    ).where(refs_condition(account, list(observed)), ~claimed_by_other(account, now))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    drifts: list[Drift] = []
    for row in (await conn.execute(query)).all():
        ref = InvoiceRef(row.card_id, row.encrypt_code)
        seen = observed[ref]
        if stale(seen, row.update_time_us):
            continue
        card_before = _known_card(row)
        card_after = seen.card_status or card_before
        drifted = is_drift(row, seen)
        if not drifted and not learns(row, seen):
            continue
        values: dict[str, Any] = {"card_status": card_status_text(card_after)}
        if drifted:
            values |= {"status": seen.status.value, "update_time_us": now}
        await conn.execute(update(t).where(refs_condition(account, [ref])).values(**values))
        if drifted:
            drift = Drift(
                ref, row.biz_code, ReimburseStatus(row.status), seen.status, card_before, card_after
            )
            drifts.append(drift)
            await write_audit(conn, drift_entry(account, drift, witness), now)
    return tuple(drifts)


async def entries_in(
    conn: AsyncConnection, account: str, refs: Sequence[InvoiceRef], *, for_update: bool
) -> dict[InvoiceRef, LedgerEntry]:
    query = select(
        t.c.card_id, t.c.encrypt_code, t.c.biz_code, t.c.status, t.c.update_time_us
    ).where(refs_condition(account, refs))
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    rows = (await conn.execute(query)).all()
    return {
        InvoiceRef(r.card_id, r.encrypt_code): LedgerEntry(
            InvoiceRef(r.card_id, r.encrypt_code),
            r.biz_code,
            ReimburseStatus(r.status),
            r.update_time_us,
        )
        for r in rows
    }


async def holders_in(
    conn: AsyncConnection, identities: Collection[str], *, for_update: bool
) -> dict[str, IdentityHolder]:
    """InvoiceLedger.holders inside the caller's transaction (locking the holders' rows on
    PostgreSQL when `for_update`)."""
    if not identities:
        return {}
    query = (
        select(
            ids.c.tax_identity,
            ids.c.account,
            ids.c.card_id,
            ids.c.encrypt_code,
            t.c.biz_code,
            t.c.status,
            t.c.import_time_us,
        )
        .join(
            t,
            and_(
                t.c.account == ids.c.account,
                t.c.card_id == ids.c.card_id,
                t.c.encrypt_code == ids.c.encrypt_code,
            ),
        )
        .where(ids.c.tax_identity.in_(sorted(identities)))
    )
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update(of=ids)
    return {
        r.tax_identity: IdentityHolder(
            r.tax_identity,
            r.account,
            InvoiceRef(r.card_id, r.encrypt_code),
            r.biz_code,
            ReimburseStatus(r.status),
            from_us(r.import_time_us),
        )
        for r in (await conn.execute(query)).all()
    }


async def hold_identities(
    conn: AsyncConnection, account: str, identities: Mapping[InvoiceRef, str], now: int
) -> None:
    """The duplicate guard's atomic step: claims each identity not yet held for its card
    (an insert that, on a concurrent holder, waits for it and then does nothing), then
    refuses the whole import if any identity turns out held by another card."""
    if not identities:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    # One statement for all (a round trip per identity cost more than the inserts), in the
    # identities' order: two imports sharing identities wait for each other, never deadlock.
    await conn.execute(
        dialect.insert(ids).on_conflict_do_nothing(index_elements=[ids.c.tax_identity]),
        [
            {
                "tax_identity": key,
                "account": account,
                "card_id": ref.card_id,
                "encrypt_code": ref.encrypt_code,
                "created_us": now,
            }
            for ref, key in sorted(identities.items(), key=lambda item: item[1])
        ],
    )
    held = await holders_in(conn, set(identities.values()), for_update=True)
    refuse_duplicates(account, list(identities), identities, held)


async def apply_statuses(
    conn: AsyncConnection, account: str, statuses: Mapping[InvoiceRef, ReimburseStatus], now: int
) -> None:
    """Sets the rows' status (where imported) as a settled change says."""
    for status in set(statuses.values()):
        refs = [r for r, s in statuses.items() if s is status]
        await conn.execute(
            update(t)
            .where(refs_condition(account, refs))
            .values(status=status.value, update_time_us=now)
        )


async def write_import(
    conn: AsyncConnection,
    *,
    account: str,
    biz_code: str,
    imported_by: str,
    records: Sequence[ImportRecord],
    fetched_at_us: int,
    intent_id: int,
    now: int,
) -> list[ImportedInvoice]:
    """Stores an import, after checking the guard once more inside the transaction.

    A row changed since the import fetched from WeChat (by a concurrent call) speaks for
    itself; otherwise WeChat's fresher status decides whether another bizCode holds it. An
    invoice another request is changing at WeChat (it holds the claim) is not touched.
    """
    refs = [record.fetched.ref for record in records]
    existing = await entries_in(conn, account, refs, for_update=True)
    busy = (
        await conn.execute(
            select(claims.c.card_id, claims.c.encrypt_code).where(
                refs_condition(account, refs, claims),
                claims.c.intent_id != intent_id,
                or_(claims.c.expires_us == 0, claims.c.expires_us > now),
            )
        )
    ).first()
    if busy is not None:
        raise InvoiceBeingChanged(InvoiceRef(busy.card_id, busy.encrypt_code), retry_after=1.0)
    records = [
        freshest(record, existing.get(record.fetched.ref), fetched_at_us) for record in records
    ]
    for record in records:
        entry = existing.get(record.fetched.ref)
        refuse_if_held_elsewhere(entry, biz_code, status_before(record, entry, fetched_at_us))
    new_rows: list[dict[str, Any]] = []
    for record in records:
        ref = record.fetched.ref
        entry = existing.get(ref)
        if entry is not None and entry.biz_code == biz_code and entry.status is record.status:
            continue  # a repeated import: the row stays as it is
        values = _values(record, biz_code, now)
        if entry is None:
            new_rows.append(
                {
                    "account": account,
                    "card_id": ref.card_id,
                    "encrypt_code": ref.encrypt_code,
                    "imported_by": imported_by,
                    "import_time_us": now,
                    **values,
                }
            )
        else:
            moved = (
                {"imported_by": imported_by, "import_time_us": now}
                if entry.biz_code != biz_code
                else {}
            )
            await conn.execute(
                update(t).where(refs_condition(account, [ref])).values(**values, **moved)
            )
    if new_rows:  # one statement, not a round trip per invoice
        await conn.execute(insert(t), new_rows)
    await hold_identities(conn, account, identities_of([r.fetched for r in records]), now)
    await enter_in(conn, account, [r.fetched for r in records], now)
    rows = (await conn.execute(select(t).where(refs_condition(account, refs)))).all()
    by_ref = {InvoiceRef(r.card_id, r.encrypt_code): r for r in rows}
    return [imported_from_row(by_ref[ref]) for ref in refs]


def freshest(record: ImportRecord, entry: LedgerEntry | None, fetched_at_us: int) -> ImportRecord:
    """The record with the freshest status known: a row changed since the import read WeChat
    (by a concurrent request of the gateway) speaks for itself, unless this import changed
    the status itself (its own lock)."""
    if record.status is not record.fetched.reimburse_status:
        return record
    if entry is not None and entry.update_time_us >= fetched_at_us:
        return replace(record, status=entry.status)
    return record


def status_before(
    record: ImportRecord, entry: LedgerEntry | None, fetched_at_us: int
) -> ReimburseStatus:
    """The freshest status known of the invoice apart from the import's own lock: the one that
    tells whether another bizCode holds it. An import locks only invoices it read as INIT,
    and WeChat took its lock, so that lock says nothing of another report's hold: a row
    another report let go (INIT) is the import's to take, one it holds (LOCK, CLOSURE) is
    not."""
    if entry is not None and entry.update_time_us >= fetched_at_us:
        return entry.status
    return record.fetched.reimburse_status


def _values(record: ImportRecord, biz_code: str, now: int) -> dict[str, Any]:
    invoice = replace(record.fetched, reimburse_status=record.status)
    return {
        "openid": invoice.openid,
        "biz_code": biz_code,
        "status": record.status.value,
        "invoice_code": invoice.invoice_code,
        "invoice_number": invoice.invoice_number,
        "buyer_tax_number": invoice.buyer_tax_number,
        "seller_tax_number": invoice.seller_tax_number,
        "billing_time_us": to_us(invoice.billing_time) if invoice.billing_time else None,
        "total_fen": invoice.total_fen,
        "tax_identity": tax_identity(invoice.invoice_code, invoice.invoice_number),
        "payload": dumps(dict(record.raw)),
        "card_status": card_status_text(invoice.card_status),
        "document": dumps(invoice_document(invoice)),
        "update_time_us": now,
    }


def _conditions(f: SearchFilters) -> list[Any]:
    conditions: list[Any] = [
        t.c.account.in_(f.accounts) if f.accounts else t.c.account == f.account
    ]
    equal = {
        t.c.tax_identity: f.tax_identity,
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
