"""Import sessions in the ledger, so ImportInvoices can tell a QR-originated bizCode is
known and not expired (a bizCode without a session is an ordinary document number)."""

from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from fapiao_gateway.domain.errors import FieldViolation, invalid_fields
from fapiao_gateway.domain.import_sessions import ImportSession
from fapiao_gateway.ledger.schema import import_sessions as t
from fapiao_gateway.ledger.store import from_us, ledger_unavailable, now_us, to_us


class ImportSessions:
    """Opening and finding import sessions."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def open(
        self, session: ImportSession, *, request_id: str, explicit_biz_code: bool
    ) -> ImportSession:
        """Stores `session`; reopening a bizCode moves its expiry. With a request_id already
        used for this account, returns the session that call opened (AIP-155), unless the
        caller named a different bizCode this time (INVALID_ARGUMENT)."""
        try:
            async with self._engine.begin() as conn:
                if request_id:
                    earlier = (
                        await conn.execute(
                            select(t).where(
                                t.c.account == session.account, t.c.request_id == request_id
                            )
                        )
                    ).first()
                    if earlier is not None:
                        if explicit_biz_code and earlier.biz_code != session.biz_code:
                            raise invalid_fields(
                                [
                                    FieldViolation(
                                        "request_id",
                                        "Already used for another bizCode; use a new request_id.",
                                    )
                                ]
                            )
                        return self._session(earlier)
                values = {
                    "issued_by": session.issued_by,
                    "request_id": request_id,
                    "url": session.url,
                    "expire_us": to_us(session.expire_time),
                }
                found = await conn.execute(
                    update(t)
                    .where(t.c.account == session.account, t.c.biz_code == session.biz_code)
                    .values(**values)
                )
                if found.rowcount == 0:
                    await conn.execute(
                        insert(t).values(
                            account=session.account,
                            biz_code=session.biz_code,
                            created_us=now_us(),
                            **values,
                        )
                    )
        except IntegrityError:
            return session  # opened concurrently with the same bizCode: same session
        except (OperationalError, DBAPIError) as exc:
            raise ledger_unavailable(exc) from exc
        return session

    async def find(self, account: str, biz_code: str) -> ImportSession | None:
        try:
            async with self._engine.connect() as conn:
                row = (
                    await conn.execute(
                        select(t).where(t.c.account == account, t.c.biz_code == biz_code)
                    )
                ).first()
        except (OperationalError, DBAPIError) as exc:
            raise ledger_unavailable(exc) from exc
        return None if row is None else self._session(row)

    @staticmethod
    def _session(row: Row[Any]) -> ImportSession:
        return ImportSession(
            account=row.account,
            biz_code=row.biz_code,
            issued_by=row.issued_by,
            url=row.url,
            expire_time=from_us(row.expire_us),
        )
