"""The audit trail: every state-changing action, how it ended, and reading it back by
account, bizCode, invoice, request and time, newest first."""

import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Row, Select, insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from fapiao_gateway.domain.invoice import InvoiceRef
from fapiao_gateway.domain.status import ReimburseStatus
from fapiao_gateway.domain.status_changes import (
    AuditAction,
    AuditCursor,
    AuditEntry,
    AuditFilters,
    AuditPage,
)
from fapiao_gateway.ledger.codecs import dumps, from_us, to_us
from fapiao_gateway.ledger.engine import Database
from fapiao_gateway.ledger.queries import refs_condition
from fapiao_gateway.ledger.schema import audit_invoices as audited
from fapiao_gateway.ledger.schema import imported_invoices as invoices
from fapiao_gateway.ledger.schema import status_audit as audit


async def write_audit(conn: AsyncConnection, entry: AuditEntry, now: int) -> None:
    """Appends `entry` inside the caller's transaction (so it commits with what it records).
    An entry without a bizCode gets the one report that holds all its invoices, if there is
    one (a status change knows its invoices, not their report)."""
    biz_code = entry.biz_code or await _holding_report(conn, entry)
    inserted = await conn.execute(
        insert(audit)
        .values(
            account=entry.account,
            caller=entry.caller,
            request_id=entry.request_id,
            rpc=entry.rpc,
            invoices=dumps(
                [
                    {
                        "card_id": ref.card_id,
                        "encrypt_code": ref.encrypt_code,
                        "from": status.value if status else "",
                    }
                    for ref, status in entry.invoices
                ]
            ),
            to_status=entry.to_status.value if entry.to_status else "",
            outcome=entry.outcome,
            wechat_errcode=entry.wechat_errcode,
            created_us=now,
            action=entry.action.value,
            biz_code=biz_code,
            detail=dumps(dict(entry.detail)) if entry.detail else "",
        )
        .returning(audit.c.id)
    )
    audit_id = inserted.scalar_one()
    refs = sorted({ref for ref, _ in entry.invoices}, key=lambda r: (r.card_id, r.encrypt_code))
    if refs:
        await conn.execute(
            insert(audited),
            [
                {
                    "audit_id": audit_id,
                    "account": entry.account,
                    "card_id": ref.card_id,
                    "encrypt_code": ref.encrypt_code,
                }
                for ref in refs
            ],
        )


async def _holding_report(conn: AsyncConnection, entry: AuditEntry) -> str:
    refs = [ref for ref, _ in entry.invoices]
    if not refs:
        return ""
    query = (
        select(invoices.c.biz_code).where(refs_condition(entry.account, refs)).distinct().limit(2)
    )
    found = (await conn.execute(query)).scalars().all()
    return found[0] if len(found) == 1 else ""


def _entry(r: Row[Any]) -> AuditEntry:
    return AuditEntry(
        account=r.account,
        caller=r.caller,
        request_id=r.request_id,
        rpc=r.rpc,
        invoices=tuple(
            (
                InvoiceRef(i["card_id"], i["encrypt_code"]),
                ReimburseStatus(i["from"]) if i["from"] else None,
            )
            for i in json.loads(r.invoices)
        ),
        to_status=ReimburseStatus(r.to_status) if r.to_status else None,
        outcome=r.outcome,
        wechat_errcode=r.wechat_errcode,
        created=from_us(r.created_us),
        action=AuditAction(r.action) if r.action else AuditAction.STATUS_CHANGE,
        biz_code=r.biz_code,
        detail=tuple(json.loads(r.detail).items()) if r.detail else (),
        entry_id=r.id,
    )


def _newest_first(query: Select[Any], limit: int) -> Select[Any]:
    return query.order_by(audit.c.created_us.desc(), audit.c.id.desc()).limit(limit)


class AuditTrail:
    """Recording actions that change nothing else, and reading the trail back."""

    def __init__(self, db: Database, clock: Callable[[], int]) -> None:
        self._db = db
        self._now_us = clock

    async def record(self, entry: AuditEntry) -> None:
        """Audits an action on its own (e.g. a replay, which changes nothing)."""

        async def work(conn: AsyncConnection) -> None:
            await write_audit(conn, entry, self._now_us())

        await self._db.write(work)

    async def page(
        self, filters: AuditFilters, cursor: AuditCursor | None, limit: int
    ) -> AuditPage:
        """One page of `filters`' entries, newest first, after `cursor`."""
        query = select(audit).where(*_conditions(filters))
        if cursor is not None:
            query = query.where(
                tuple_(audit.c.created_us, audit.c.id) < tuple_(cursor.created_us, cursor.entry_id)
            )
        rows = await self._raw(_newest_first(query, limit + 1))
        shown, more = rows[:limit], len(rows) > limit
        next_cursor = AuditCursor(shown[-1].created_us, shown[-1].id) if more and shown else None
        return AuditPage(tuple(_entry(r) for r in shown), next_cursor)

    async def trail(
        self,
        *,
        accounts: Sequence[str] = (),
        request_id: str = "",
        biz_code: str = "",
        limit: int = 100,
    ) -> list[AuditEntry]:
        """The newest entries (of `accounts`, or all), optionally of one request or bizCode
        (for operators: `fapiao-gateway audit`)."""
        query = select(audit)
        if accounts:
            query = query.where(audit.c.account.in_(accounts))
        if request_id:
            query = query.where(audit.c.request_id == request_id)
        if biz_code:
            query = query.where(audit.c.biz_code == biz_code)
        return [_entry(r) for r in await self._raw(_newest_first(query, limit))]

    async def _raw(self, query: Select[Any]) -> list[Row[Any]]:
        async def work(conn: AsyncConnection) -> list[Row[Any]]:
            return list((await conn.execute(query)).all())

        return await self._db.read(work)


def _conditions(f: AuditFilters) -> list[Any]:
    conditions: list[Any] = [audit.c.account == f.account]
    if f.biz_code:
        conditions.append(audit.c.biz_code == f.biz_code)
    if f.request_id:
        conditions.append(audit.c.request_id == f.request_id)
    if f.start is not None:
        conditions.append(audit.c.created_us >= to_us(f.start))
    if f.end is not None:
        conditions.append(audit.c.created_us < to_us(f.end))
    if f.ref is not None:
        conditions.append(
            audit.c.id.in_(
                select(audited.c.audit_id).where(
                    audited.c.account == f.account,
                    audited.c.card_id == f.ref.card_id,
                    audited.c.encrypt_code == f.ref.encrypt_code,
                )
            )
        )
    return conditions
