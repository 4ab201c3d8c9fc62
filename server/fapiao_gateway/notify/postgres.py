"""PostgreSQL LISTEN/NOTIFY as the announcement medium (a dedicated asyncpg connection
listens; NOTIFY goes through any connection)."""

import asyncio
from collections.abc import Callable

import asyncpg
from sqlalchemy.engine import make_url

from fapiao_gateway.notify.relay import Deliver, Medium

CHANNEL = "fapiao_import"


def asyncpg_dsn(database_url: str) -> str:
    """The libpq DSN of a postgresql+asyncpg:// SQLAlchemy URL."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresMedium(Medium):
    name = "postgresql"

    def __init__(self, database_url: str, *, timeout: float = 5.0) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._timeout = timeout
        self._sender: asyncpg.Connection | None = None
        self._send_lock = asyncio.Lock()

    async def send(self, payload: str) -> None:
        async with self._send_lock:  # one connection, one statement at a time
            if self._sender is None or self._sender.is_closed():
                self._sender = await asyncpg.connect(self._dsn, timeout=self._timeout)
            try:
                await self._sender.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)
            except Exception:
                await self._close_sender()
                raise

    async def _close_sender(self) -> None:
        sender, self._sender = self._sender, None
        if sender is not None and not sender.is_closed():
            sender.terminate()

    async def hear(self, deliver: Deliver, ready: Callable[[], None]) -> None:
        connection = await asyncpg.connect(self._dsn, timeout=self._timeout)
        lost = asyncio.Event()
        try:
            connection.add_termination_listener(lambda _c: lost.set())
            await connection.add_listener(CHANNEL, lambda _c, _pid, _ch, payload: deliver(payload))
            ready()
            await lost.wait()
        finally:
            if not connection.is_closed():
                await connection.close(timeout=self._timeout)
            await self._close_sender()
