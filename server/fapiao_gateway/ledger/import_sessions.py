"""Import sessions in the ledger, so ImportInvoices can tell a QR-originated bizCode is
known and not expired (a bizCode without a session is an ordinary document number)."""

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from fapiao_gateway.domain.import_sessions import ImportSession
from fapiao_gateway.ledger.codecs import from_us, to_us
from fapiao_gateway.ledger.engine import Database
from fapiao_gateway.ledger.schema import import_sessions as t


async def write_session(conn: AsyncConnection, session: ImportSession, now: int) -> None:
    """Opens the session, or moves the expiry of the bizCode's existing one (inside the
    caller's transaction)."""
    values = {
        "issued_by": session.issued_by,
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
                account=session.account, biz_code=session.biz_code, created_us=now, **values
            )
        )


class ImportSessions:
    """Finding import sessions (they are opened by IssueImportQr's settlement)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def find(self, account: str, biz_code: str) -> ImportSession | None:
        async def work(conn: AsyncConnection) -> ImportSession | None:
            row = (
                await conn.execute(
                    select(t).where(t.c.account == account, t.c.biz_code == biz_code)
                )
            ).first()
            if row is None:
                return None
            return ImportSession(
                account=row.account,
                biz_code=row.biz_code,
                issued_by=row.issued_by,
                url=row.url,
                expire_time=from_us(row.expire_us),
            )

        return await self._db.read(work)
