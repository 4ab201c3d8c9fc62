"""File SQLite transactions run whole in a thread: one hop per transaction.

Through aiosqlite every statement costs four hops to its thread and back (cursor, execute,
fetch, close), each a thread wake-up and an event-loop wake-up: a search made 16 of them and
spent 6 ms around 0.05 ms of queries (issue 12), and under load each hop also waits for the
GIL. Here a transaction's work function runs in one of the pool's threads, on a connection
of a synchronous (pysqlite) engine, behind `ThreadConnection`, which offers the
AsyncConnection methods ledger work uses. Its awaits never suspend, so `_drive` runs the work
coroutine to its end in that thread; work that waits on anything else is a bug, refused.

In-memory databases (tests) keep aiosqlite: their one shared connection is the async engine's.
"""

import asyncio
import contextlib
import contextvars
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, Engine, Executable, Result
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import URL, Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

T = TypeVar("T")


class ThreadConnection:
    """The AsyncConnection methods ledger work uses, over a synchronous Connection."""

    def __init__(self, connection: Connection) -> None:
        self.sync_connection = connection

    @property
    def dialect(self) -> Dialect:
        return self.sync_connection.dialect

    async def execute(
        self, statement: Executable, parameters: Any = None, **options: Any
    ) -> Result[Any]:
        return self.sync_connection.execute(statement, parameters, **options)

    @contextlib.asynccontextmanager
    async def begin_nested(self) -> AsyncIterator[None]:
        with self.sync_connection.begin_nested():
            yield


def _drive(work: Awaitable[T]) -> T:
    """The result of a coroutine whose awaits all complete at once."""
    coroutine = cast(Coroutine[Any, Any, T], work)
    try:
        coroutine.send(None)
    except StopIteration as done:
        return cast(T, done.value)
    coroutine.close()
    raise RuntimeError("ledger work on SQLite waited on something other than its connection")


class SqliteThreads:
    """`size` threads, each with a connection of a pysqlite engine on the same file."""

    def __init__(
        self,
        url: URL,
        *,
        size: int,
        pool_seconds: float,
        install_hooks: Callable[[Engine], None],
    ) -> None:
        self.engine = create_sync_engine(
            url.set(drivername="sqlite+pysqlite"),
            pool_size=size,
            max_overflow=0,
            pool_timeout=pool_seconds,
            # A pooled connection serves whichever thread takes it, one at a time.
            connect_args={"check_same_thread": False},
        )
        install_hooks(self.engine)
        self._threads = ThreadPoolExecutor(size, thread_name_prefix="fapiao-ledger")

    async def read(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        return await self._run(self._read, work)

    async def write(
        self, work: Callable[[AsyncConnection], Awaitable[T]], options: dict[str, Any]
    ) -> T:
        return await self._run(self._write, work, options)

    async def _run(self, how: Callable[..., T], *args: Any) -> T:
        # In the caller's context, as asyncio.to_thread runs it: the statements' trace spans
        # belong to the call's trace.
        run = functools.partial(contextvars.copy_context().run, how, *args)
        return await asyncio.get_running_loop().run_in_executor(self._threads, run)

    def _read(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        with self.engine.connect() as connection:
            return _drive(work(_as_async(connection)))

    def _write(self, work: Callable[[AsyncConnection], Awaitable[T]], options: dict[str, Any]) -> T:
        with self.engine.connect() as connection:
            connection = connection.execution_options(**options)
            with connection.begin():
                return _drive(work(_as_async(connection)))

    def close(self) -> None:
        """Closes the connections once the transactions under way are done."""
        self._threads.shutdown(wait=True)
        self.engine.dispose()


def _as_async(connection: Connection) -> AsyncConnection:
    # Ledger work is typed for AsyncConnection; it gets the methods it uses.
    return cast(AsyncConnection, ThreadConnection(connection))
