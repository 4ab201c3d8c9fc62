"""Write-ahead intents in the ledger (services.ports.IntentLog): reserving a request, claiming
the invoices it may change, owning it under a lease, and settling it in one transaction with
everything it changes (ledger rows, audit entries, the outcome replayed later).

Concurrency, the same on both backends: reserving and arming are single write transactions
(SQLite: BEGIN IMMEDIATE, so they run one at a time; PostgreSQL: INSERT ... ON CONFLICT and
SELECT ... FOR UPDATE on the rows involved, claims taken in a fixed order). Every change to
an intent after it is reserved names its owner, so a process that lost its lease (it was
presumed dead and recovery took over) cannot settle it a second time.
"""

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import Row, delete, insert, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from fapiao_gateway.domain.errors import (
    InvoiceBeingChanged,
    OutcomePending,
    RequestIdReused,
)
from fapiao_gateway.domain.import_sessions import ImportSession
from fapiao_gateway.domain.imports import ImportRecord, ImportResult
from fapiao_gateway.domain.intents import (
    RETRYABLE,
    UNSETTLED,
    Begun,
    Intent,
    IntentKind,
    IntentState,
    Outcome,
    Plan,
    Reservation,
    Settlement,
)
from fapiao_gateway.domain.invoice import InvoiceRef
from fapiao_gateway.domain.status import ReimburseStatus
from fapiao_gateway.domain.status_changes import AuditEntry
from fapiao_gateway.ledger import codecs
from fapiao_gateway.ledger.audit import write_audit
from fapiao_gateway.ledger.engine import Database
from fapiao_gateway.ledger.import_sessions import write_session
from fapiao_gateway.ledger.invoices import apply_statuses, write_import
from fapiao_gateway.ledger.queries import refs_condition
from fapiao_gateway.ledger.schema import intents as t
from fapiao_gateway.ledger.schema import invoice_claims as claims

_UNSETTLED = [s.value for s in UNSETTLED]
#: What a caller is told to wait when another live call owns its request or invoice.
_BUSY_RETRY_SECONDS = 1.0


def _outcome_json(outcome: Outcome | None) -> str:
    if outcome is None:
        return ""
    if isinstance(outcome, ImportResult):
        return codecs.import_result_json(outcome)
    if isinstance(outcome, ImportSession):
        return codecs.session_json(outcome)
    return codecs.changes_json(outcome)


def _outcome(kind: IntentKind, text: str) -> Outcome:
    match kind:
        case IntentKind.IMPORT:
            return codecs.import_result_from_json(text)
        case IntentKind.IMPORT_SESSION:
            return codecs.session_from_json(text)
        case IntentKind.STATUS_CHANGE:
            return codecs.changes_from_json(text)


def _intent(row: Row[Any]) -> Intent:
    return Intent(
        id=row.id,
        kind=IntentKind(row.kind),
        state=IntentState(row.state),
        account=row.account,
        rpc=row.rpc,
        request_id=row.request_id,
        caller=row.caller,
        fingerprint=row.fingerprint,
        plan=codecs.plan_from_json(row.plan),
        owner=row.owner,
        lease_until_us=row.lease_until_us,
        sent_us=row.sent_us,
        created_us=row.created_us,
    )


class IntentLog:
    """The intents table and the invoices' claims."""

    def __init__(self, db: Database, clock: Callable[[], int]) -> None:
        self._db = db
        self._now_us = clock

    # ----- reserving ---------------------------------------------------------------------

    async def begin(
        self,
        *,
        kind: IntentKind,
        rpc: str,
        account: str,
        request_id: str,
        caller: str,
        fingerprint: str,
        owner: str,
        lease_us: int,
    ) -> Begun:
        """Reserves the request (see domain.intents.Reservation). Raises RequestIdReused when
        the request_id was used for a different request."""

        async def work(conn: AsyncConnection) -> Begun:
            now = self._now_us()
            fresh = {
                "state": IntentState.STARTED.value,
                "plan": "",
                "outcome": "",
                "error": "",
                "owner": owner,
                "lease_until_us": now + lease_us,
                "sent_us": 0,
                "updated_us": now,
            }
            values = {
                "account": account,
                "request_id": request_id,
                "rpc": rpc,
                "caller": caller,
                "kind": kind.value,
                "fingerprint": fingerprint,
                "created_us": now,
                **fresh,
            }
            if not request_id:
                inserted = await conn.execute(insert(t).values(**values).returning(t.c.id))
                return Begun(Reservation.NEW, await self._get(conn, inserted.scalar_one()))
            new_id = await self._insert_once(conn, values)
            if new_id is not None:
                return Begun(Reservation.NEW, await self._get(conn, new_id))
            query = select(t).where(t.c.account == account, t.c.request_id == request_id)
            if conn.dialect.name == "postgresql":
                query = query.with_for_update()
            row = (await conn.execute(query)).one()
            if row.fingerprint != fingerprint or row.kind != kind.value:
                raise RequestIdReused(request_id)
            state = IntentState(row.state)
            if state is IntentState.DONE:
                return Begun(
                    Reservation.REPLAY, outcome=_outcome(IntentKind(row.kind), row.outcome)
                )
            alive = row.owner != "" and row.lease_until_us > now
            if state in UNSETTLED and alive:
                return Begun(Reservation.BUSY, retry_after=_BUSY_RETRY_SECONDS)
            if state in RETRYABLE or state is IntentState.STARTED:
                # Nothing of an earlier attempt remains at WeChat: run afresh on the same row.
                await conn.execute(update(t).where(t.c.id == row.id).values(**fresh))
                return Begun(Reservation.NEW, await self._get(conn, row.id))
            # ARMED or COMPENSATING, owner gone: take it over and settle it first.
            await conn.execute(
                update(t)
                .where(t.c.id == row.id)
                .values(owner=owner, lease_until_us=now + lease_us, updated_us=now)
            )
            return Begun(Reservation.RESOLVE, await self._get(conn, row.id))

        return await self._db.write(work)

    @staticmethod
    async def _insert_once(conn: AsyncConnection, values: dict[str, Any]) -> int | None:
        """Inserts the row unless (account, request_id) exists; its id, or None."""
        dialect: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(t)
            .values(**values)
            .on_conflict_do_nothing(
                index_elements=[t.c.account, t.c.request_id], index_where=text("request_id <> ''")
            )
            .returning(t.c.id)
        )
        return (await conn.execute(statement)).scalar_one_or_none()

    @staticmethod
    async def _get(conn: AsyncConnection, intent_id: int) -> Intent:
        return _intent((await conn.execute(select(t).where(t.c.id == intent_id))).one())

    # ----- claiming and owning -----------------------------------------------------------

    async def arm(self, intent: Intent, plan: Plan, *, owner: str, lease_us: int) -> Intent:
        """Records what the intent may do and claims its invoices, before WeChat is called.

        InvoiceBeingChanged (ABORTED) when another unsettled intent holds one of them; then
        nothing is claimed and the intent is still STARTED. A claim whose holding intent
        settled and whose hold has lapsed is taken over.
        """

        async def work(conn: AsyncConnection) -> Intent:
            now = self._now_us()
            await self._own(conn, intent, owner, {IntentState.STARTED})
            refs = sorted(plan.refs, key=lambda r: (r.card_id, r.encrypt_code))
            held = await self._claims_on(conn, intent.account, refs)
            for ref in refs:
                other = held.get(ref)
                if other is None or other.intent_id == intent.id:
                    continue
                if other.expires_us == 0 or other.expires_us > now:
                    lapse = (other.expires_us - now) / 1e6 if other.expires_us else 0.0
                    raise InvoiceBeingChanged(ref, retry_after=max(_BUSY_RETRY_SECONDS, lapse))
                await conn.execute(
                    delete(claims).where(
                        claims.c.account == intent.account,
                        claims.c.card_id == ref.card_id,
                        claims.c.encrypt_code == ref.encrypt_code,
                    )
                )
            for ref in refs:
                if ref in held and held[ref].intent_id == intent.id:
                    continue
                try:
                    async with conn.begin_nested():
                        await conn.execute(
                            insert(claims).values(
                                account=intent.account,
                                card_id=ref.card_id,
                                encrypt_code=ref.encrypt_code,
                                intent_id=intent.id,
                                expires_us=0,
                            )
                        )
                except IntegrityError:  # PostgreSQL: a concurrent arm claimed it first
                    raise InvoiceBeingChanged(ref, retry_after=_BUSY_RETRY_SECONDS) from None
            await conn.execute(
                update(t)
                .where(t.c.id == intent.id)
                .values(
                    state=IntentState.ARMED.value,
                    plan=codecs.plan_json(plan),
                    sent_us=now,
                    lease_until_us=now + lease_us,
                    updated_us=now,
                )
            )
            return await self._get(conn, intent.id)

        return await self._db.write(work)

    async def compensating(self, intent: Intent, *, owner: str) -> Intent:
        """Marks an import as being undone; its releases are about to be sent (now)."""

        async def work(conn: AsyncConnection) -> Intent:
            now = self._now_us()
            await self._own(conn, intent, owner, {IntentState.ARMED, IntentState.COMPENSATING})
            await conn.execute(
                update(t)
                .where(t.c.id == intent.id)
                .values(state=IntentState.COMPENSATING.value, sent_us=now, updated_us=now)
            )
            return await self._get(conn, intent.id)

        return await self._db.write(work)

    async def release(self, intent: Intent, *, owner: str, just_sent: bool = False) -> None:
        """Gives an unsettled intent up: recovery, or a retry with its request_id, takes it
        over without waiting for the lease. `just_sent`: a write of it may have gone out
        until now (its answer was lost), so it settles only after the settle time from now."""

        async def work(conn: AsyncConnection) -> None:
            now = self._now_us()
            values: dict[str, Any] = {"owner": "", "lease_until_us": 0, "updated_us": now}
            if just_sent:
                values["sent_us"] = now
            await conn.execute(
                update(t)
                .where(t.c.id == intent.id, t.c.owner == owner, t.c.state.in_(_UNSETTLED))
                .values(**values)
            )

        await self._db.write(work)

    async def take_over(self, intent_id: int, *, owner: str, lease_us: int) -> Intent | None:
        """Becomes the owner of an unsettled intent whose lease has passed; None when it is
        settled or someone else owns it now."""

        async def work(conn: AsyncConnection) -> Intent | None:
            now = self._now_us()
            taken = await conn.execute(
                update(t)
                .where(
                    t.c.id == intent_id,
                    t.c.state.in_(_UNSETTLED),
                    or_(t.c.owner == owner, t.c.lease_until_us <= now),
                )
                .values(owner=owner, lease_until_us=now + lease_us, updated_us=now)
            )
            return await self._get(conn, intent_id) if taken.rowcount == 1 else None

        return await self._db.write(work)

    async def renew(self, ids: Collection[int], *, owner: str, lease_us: int) -> int:
        """Extends the lease of the unsettled intents `ids` that `owner` holds (its heartbeat
        for the calls it is working on)."""
        if not ids:
            return 0

        async def work(conn: AsyncConnection) -> int:
            now = self._now_us()
            renewed = await conn.execute(
                update(t)
                .where(t.c.id.in_(sorted(ids)), t.c.owner == owner, t.c.state.in_(_UNSETTLED))
                .values(lease_until_us=now + lease_us)
            )
            return int(renewed.rowcount)

        return await self._db.write(work)

    async def due(self, *, sent_before_us: int, limit: int = 100) -> list[Intent]:
        """Unsettled intents nobody is working on (owner gone, or given up) whose last write
        was sent before `sent_before_us`, oldest first."""

        async def work(conn: AsyncConnection) -> list[Intent]:
            query = (
                select(t)
                .where(
                    t.c.state.in_(_UNSETTLED),
                    t.c.lease_until_us <= self._now_us(),
                    t.c.sent_us <= sent_before_us,
                )
                .order_by(t.c.id)
                .limit(limit)
            )
            return [_intent(r) for r in (await conn.execute(query)).all()]

        return await self._db.read(work)

    async def owned_by(self, owner: str) -> list[Intent]:
        """The unsettled intents `owner` holds."""

        async def work(conn: AsyncConnection) -> list[Intent]:
            query = select(t).where(t.c.owner == owner, t.c.state.in_(_UNSETTLED))
            return [_intent(r) for r in (await conn.execute(query.order_by(t.c.id))).all()]

        return await self._db.read(work)

    async def unsettled(self, *, limit: int = 1000) -> list[Intent]:
        """Every unsettled intent (for operators), oldest first."""

        async def work(conn: AsyncConnection) -> list[Intent]:
            query = select(t).where(t.c.state.in_(_UNSETTLED)).order_by(t.c.id).limit(limit)
            return [_intent(r) for r in (await conn.execute(query)).all()]

        return await self._db.read(work)

    async def claimed(self, account: str, refs: Sequence[InvoiceRef]) -> set[InvoiceRef]:
        """Which of `refs` an intent holds the claim on now."""
        if not refs:
            return set()

        async def work(conn: AsyncConnection) -> set[InvoiceRef]:
            now = self._now_us()
            rows = await conn.execute(
                select(claims.c.card_id, claims.c.encrypt_code).where(
                    refs_condition(account, refs, claims),
                    or_(claims.c.expires_us == 0, claims.c.expires_us > now),
                )
            )
            return {InvoiceRef(r.card_id, r.encrypt_code) for r in rows.all()}

        return await self._db.read(work)

    async def purge_lapsed_claims(self) -> int:
        """Deletes the claims of settled intents whose hold has passed."""

        async def work(conn: AsyncConnection) -> int:
            now = self._now_us()
            gone = await conn.execute(
                delete(claims).where(claims.c.expires_us != 0, claims.c.expires_us <= now)
            )
            return int(gone.rowcount)

        return await self._db.write(work)

    # ----- settling ----------------------------------------------------------------------

    async def settle(
        self,
        intent: Intent,
        settlement: Settlement,
        *,
        owner: str,
        audit: Sequence[AuditEntry] = (),
        statuses: Mapping[InvoiceRef, ReimburseStatus] | None = None,
    ) -> None:
        """Ends the intent in one transaction: the ledger rows take `statuses`, the audit
        entries are written, the outcome is kept and the claims released (or held)."""

        async def work(conn: AsyncConnection) -> None:
            now = self._now_us()
            await self._own(conn, intent, owner, UNSETTLED)
            if statuses:
                await apply_statuses(conn, intent.account, statuses, now)
            await self._finish(conn, intent, settlement, audit, now)

        await self._db.write(work)

    async def settle_import(
        self,
        intent: Intent,
        *,
        owner: str,
        biz_code: str,
        imported_by: str,
        records: Sequence[ImportRecord],
        fetched_at_us: int,
        audit: Sequence[AuditEntry] = (),
    ) -> ImportResult:
        """Stores an import and ends its intent DONE in one transaction. The guard is checked
        again inside it: InvoiceHeldElsewhere or InvoiceBeingChanged roll everything back."""

        async def work(conn: AsyncConnection) -> ImportResult:
            now = self._now_us()
            await self._own(conn, intent, owner, UNSETTLED)
            stored = await write_import(
                conn,
                account=intent.account,
                biz_code=biz_code,
                imported_by=imported_by,
                records=records,
                fetched_at_us=fetched_at_us,
                intent_id=intent.id,
                now=now,
            )
            result = ImportResult(biz_code, tuple(stored))
            await self._finish(conn, intent, Settlement(IntentState.DONE, result), audit, now)
            return result

        return await self._db.write(work)

    async def settle_session(
        self,
        intent: Intent,
        session: ImportSession,
        *,
        owner: str,
        audit: Sequence[AuditEntry] = (),
    ) -> ImportSession:
        """Opens (or reopens) an import session and ends its intent DONE, together, with its
        audit entries."""

        async def work(conn: AsyncConnection) -> ImportSession:
            now = self._now_us()
            await self._own(conn, intent, owner, UNSETTLED)
            await write_session(conn, session, now)
            await self._finish(conn, intent, Settlement(IntentState.DONE, session), audit, now)
            return session

        return await self._db.write(work)

    async def _finish(
        self,
        conn: AsyncConnection,
        intent: Intent,
        settlement: Settlement,
        audit: Sequence[AuditEntry],
        now: int,
    ) -> None:
        for entry in audit:
            await write_audit(conn, entry, now)
        await conn.execute(
            update(t)
            .where(t.c.id == intent.id)
            .values(
                state=settlement.state.value,
                outcome=_outcome_json(settlement.outcome),
                error=settlement.error[:128],
                owner="",
                lease_until_us=0,
                updated_us=now,
            )
        )
        if settlement.hold_until_us > now:
            await conn.execute(
                update(claims)
                .where(claims.c.intent_id == intent.id)
                .values(expires_us=settlement.hold_until_us)
            )
        else:
            await conn.execute(delete(claims).where(claims.c.intent_id == intent.id))

    async def _own(
        self, conn: AsyncConnection, intent: Intent, owner: str, states: Collection[IntentState]
    ) -> None:
        """Checks (and on PostgreSQL locks) that `owner` still holds the intent in `states`."""
        query = select(t.c.owner, t.c.state).where(t.c.id == intent.id)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = (await conn.execute(query)).one()
        if row.owner != owner or IntentState(row.state) not in states:
            raise OutcomePending(intent.request_id)

    @staticmethod
    async def _claims_on(
        conn: AsyncConnection, account: str, refs: Sequence[InvoiceRef]
    ) -> dict[InvoiceRef, Row[Any]]:
        if not refs:
            return {}
        query = select(claims).where(refs_condition(account, refs, claims))
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        return {InvoiceRef(r.card_id, r.encrypt_code): r for r in (await conn.execute(query)).all()}
