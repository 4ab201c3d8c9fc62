"""Idempotency records and the audit trail of status changes, and the one transaction that
makes a successful change visible: ledger rows, audit entry and DONE record together."""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from fapiao_gateway.domain.errors import FieldViolation, invalid_fields
from fapiao_gateway.domain.invoice import InvoiceRef
from fapiao_gateway.domain.status import ReimburseStatus
from fapiao_gateway.domain.status_changes import AuditEntry, StatusChange
from fapiao_gateway.ledger.schema import idempotency_records as idem
from fapiao_gateway.ledger.schema import imported_invoices as invoices
from fapiao_gateway.ledger.schema import status_audit as audit
from fapiao_gateway.ledger.store import from_us, ledger_unavailable, now_us, ref_condition


class Claim(StrEnum):
    """What claiming a request id found."""

    NEW = "NEW"  # first time: the caller owns it and acts
    DONE = "DONE"  # done before: replay the stored outcome
    UNKNOWN = "UNKNOWN"  # an earlier attempt may have been applied: read before writing
    BUSY = "BUSY"  # another call with this id is running: wait


@dataclass(frozen=True, slots=True)
class Claimed:
    state: Claim
    outcome: tuple[StatusChange, ...] = ()


def _changes_json(changes: Sequence[StatusChange]) -> str:
    return json.dumps(
        [
            {
                "card_id": c.ref.card_id,
                "encrypt_code": c.ref.encrypt_code,
                "previous": c.previous.value if c.previous else "",
                "status": c.status.value,
                "change_time_us": int(c.change_time.timestamp() * 1_000_000),
            }
            for c in changes
        ]
    )


def _changes_from_json(text: str) -> tuple[StatusChange, ...]:
    return tuple(
        StatusChange(
            InvoiceRef(c["card_id"], c["encrypt_code"]),
            ReimburseStatus(c["previous"]) if c["previous"] else None,
            ReimburseStatus(c["status"]),
            from_us(c["change_time_us"]),
        )
        for c in json.loads(text)
    )


def _request_id_reused() -> Exception:
    return invalid_fields(
        [
            FieldViolation(
                "request_id", "Already used for a different request; use a new request_id."
            )
        ]
    )


class StatusChangeStore:
    """Request-id claims, the audit trail, and committing successful changes."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def claim(
        self,
        *,
        account: str,
        request_id: str,
        caller: str,
        rpc: str,
        fingerprint: str,
        lease_us: int,
    ) -> Claimed:
        """Claims `request_id` for this call, or says why not (see Claim)."""
        now = now_us()
        try:
            async with self._engine.begin() as conn:
                row = await self._record(conn, account, request_id)
                if row is None:
                    try:
                        async with conn.begin_nested():
                            await conn.execute(
                                insert(idem).values(
                                    account=account,
                                    request_id=request_id,
                                    caller=caller,
                                    rpc=rpc,
                                    fingerprint=fingerprint,
                                    state="PENDING",
                                    outcome="[]",
                                    lease_until_us=now + lease_us,
                                    created_us=now,
                                    updated_us=now,
                                )
                            )
                    except IntegrityError:
                        return Claimed(Claim.BUSY)  # another call inserted it just now
                    return Claimed(Claim.NEW)
                if row.fingerprint != fingerprint:
                    raise _request_id_reused()
                if row.state == "DONE":
                    return Claimed(Claim.DONE, _changes_from_json(row.outcome))
                if row.state == "PENDING" and row.lease_until_us > now:
                    return Claimed(Claim.BUSY)
                # UNKNOWN, or PENDING whose owner died mid-call: take it over and find out.
                await conn.execute(
                    update(idem)
                    .where(idem.c.id == row.id)
                    .values(state="PENDING", lease_until_us=now + lease_us, updated_us=now)
                )
                return Claimed(Claim.UNKNOWN)
        except (OperationalError, DBAPIError) as exc:
            raise ledger_unavailable(exc) from exc

    @staticmethod
    async def _record(conn: AsyncConnection, account: str, request_id: str) -> Any:
        query = select(idem).where(idem.c.account == account, idem.c.request_id == request_id)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        return (await conn.execute(query)).first()

    async def commit_success(
        self, *, changes: Sequence[StatusChange], entry: AuditEntry, request_id: str
    ) -> None:
        """The change as one fact: ledger rows follow, the audit records it, the request id
        remembers it, all in one transaction."""
        now = now_us()
        try:
            async with self._engine.begin() as conn:
                for change in changes:
                    await conn.execute(
                        update(invoices)
                        .where(invoices.c.account == entry.account, ref_condition([change.ref]))
                        .values(status=change.status.value, update_time_us=now)
                    )
                await self._audit(conn, entry, now)
                if request_id:
                    await conn.execute(
                        update(idem)
                        .where(idem.c.account == entry.account, idem.c.request_id == request_id)
                        .values(state="DONE", outcome=_changes_json(changes), updated_us=now)
                    )
        except (OperationalError, DBAPIError) as exc:
            raise ledger_unavailable(exc) from exc

    async def record_failure(self, entry: AuditEntry, *, request_id: str, unknown: bool) -> None:
        """Audits a failed attempt. Its request id is forgotten when the failure certainly
        changed nothing (a retry runs again), or kept as UNKNOWN when it may have."""
        now = now_us()
        try:
            async with self._engine.begin() as conn:
                await self._audit(conn, entry, now)
                if request_id:
                    where = (idem.c.account == entry.account, idem.c.request_id == request_id)
                    if unknown:
                        await conn.execute(
                            update(idem).where(*where).values(state="UNKNOWN", updated_us=now)
                        )
                    else:
                        await conn.execute(delete(idem).where(*where))
        except (OperationalError, DBAPIError) as exc:
            raise ledger_unavailable(exc) from exc

    async def record(self, entry: AuditEntry) -> None:
        """Audits an attempt that changed nothing and holds no request id (e.g. a replay)."""
        try:
            async with self._engine.begin() as conn:
                await self._audit(conn, entry, now_us())
        except (OperationalError, DBAPIError) as exc:
            raise ledger_unavailable(exc) from exc

    @staticmethod
    async def _audit(conn: AsyncConnection, entry: AuditEntry, now: int) -> None:
        await conn.execute(
            insert(audit).values(
                account=entry.account,
                caller=entry.caller,
                request_id=entry.request_id,
                rpc=entry.rpc,
                invoices=json.dumps(
                    [
                        {
                            "card_id": ref.card_id,
                            "encrypt_code": ref.encrypt_code,
                            "from": status.value if status else "",
                        }
                        for ref, status in entry.invoices
                    ]
                ),
                to_status=entry.to_status.value,
                outcome=entry.outcome,
                wechat_errcode=entry.wechat_errcode,
                created_us=now,
            )
        )

    async def audit_trail(
        self, *, accounts: Sequence[str] = (), request_id: str = "", limit: int = 100
    ) -> list[AuditEntry]:
        """The newest audit entries (of `accounts`, or all), optionally of one request id."""
        query = select(audit).order_by(audit.c.created_us.desc(), audit.c.id.desc()).limit(limit)
        if accounts:
            query = query.where(audit.c.account.in_(accounts))
        if request_id:
            query = query.where(audit.c.request_id == request_id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            AuditEntry(
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
                to_status=ReimburseStatus(r.to_status),
                outcome=r.outcome,
                wechat_errcode=r.wechat_errcode,
                created=from_us(r.created_us),
            )
            for r in rows
        ]
