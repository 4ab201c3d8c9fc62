"""How many upstream calls reconciliation spent per account and day (services.ports.CallBudget).

In the ledger rather than in memory: WeChat's daily quota is the account's, whichever
replica calls, and a count in each process would let N replicas spend N shares (and forget
the day's spending at every restart). Taking calls is one write transaction that checks the
limit and counts, so concurrent replicas never overspend together (SQLite: BEGIN IMMEDIATE;
PostgreSQL: the day's row locked FOR UPDATE after an INSERT ... ON CONFLICT DO NOTHING).
"""

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from fapiao_gateway.ledger.engine import Database
from fapiao_gateway.ledger.schema import reconcile_calls as t


class ReconcileCalls:
    """The per-account, per-day count of reconciliation's upstream calls."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def take(self, account: str, day: str, calls: int, limit: int | None) -> bool:
        """Counts `calls` more for `account` on `day` if the day's total stays within
        `limit` (None: no limit); False, counting nothing, if it would not."""

        async def work(conn: AsyncConnection) -> bool:
            dialect: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
            await conn.execute(
                dialect.insert(t)
                .values(account=account, day=day, calls=0)
                .on_conflict_do_nothing(index_elements=[t.c.account, t.c.day])
            )
            query = select(t.c.calls).where(t.c.account == account, t.c.day == day)
            if conn.dialect.name == "postgresql":
                query = query.with_for_update()
            spent = (await conn.execute(query)).scalar_one()
            if limit is not None and spent + calls > limit:
                return False
            await conn.execute(
                update(t).where(t.c.account == account, t.c.day == day).values(calls=spent + calls)
            )
            return True

        return await self._db.write(work)

    async def spent(self, account: str, day: str) -> int:
        """The calls counted for `account` on `day`."""

        async def work(conn: AsyncConnection) -> int:
            query = select(t.c.calls).where(t.c.account == account, t.c.day == day)
            return int((await conn.execute(query)).scalar_one_or_none() or 0)

        return await self._db.read(work)
