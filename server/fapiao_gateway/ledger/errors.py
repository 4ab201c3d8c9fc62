"""The one place the ledger's driver and socket errors become the gateway's LedgerUnavailable.

Whatever goes wrong between the gateway and its database (a refused or dropped connection,
asyncpg's OSErrors and protocol errors, a statement or pool timeout, SQLite's "database is
locked" past the busy timeout, a PostgreSQL server shutting down) is UNAVAILABLE with
RetryInfo: the call changed nothing it did not record, and can be retried. Two kinds of error
pass through untouched, because the ledger acts on them: IntegrityError (a unique constraint
saying another request got there first) and the gateway's own GatewayErrors. A
ProgrammingError is a bug and stays one (INTERNAL).
"""

import contextlib
from collections.abc import Iterator

from sqlalchemy import exc as sa

from fapiao_gateway.domain.errors import GatewayError, LedgerUnavailable

try:  # asyncpg is optional at import time (SQLite-only installs).
    import asyncpg

    _ASYNCPG_ERRORS: tuple[type[BaseException], ...] = (
        asyncpg.PostgresConnectionError,
        asyncpg.InterfaceError,
        asyncpg.CannotConnectNowError,
        asyncpg.QueryCanceledError,
        asyncpg.LockNotAvailableError,
        asyncpg.AdminShutdownError,
    )
except ImportError:  # pragma: no cover
    _ASYNCPG_ERRORS = ()


def _transient(error: BaseException) -> bool:
    if isinstance(error, sa.IntegrityError | sa.ProgrammingError):
        return False
    transient: tuple[type[BaseException], ...] = (
        sa.OperationalError,
        sa.InterfaceError,
        sa.DBAPIError,
        sa.TimeoutError,
        sa.DisconnectionError,
        sa.ResourceClosedError,
        OSError,
        TimeoutError,
        *_ASYNCPG_ERRORS,
    )
    return isinstance(error, transient)


@contextlib.contextmanager
def ledger_errors() -> Iterator[None]:
    """Turns a transient database failure raised inside into LedgerUnavailable."""
    try:
        yield
    except GatewayError:
        raise
    except Exception as error:
        if not _transient(error):
            raise
        cause = type(getattr(error, "orig", None) or error).__name__
        raise LedgerUnavailable(cause) from error


def is_conflict(error: BaseException) -> bool:
    """Whether a database error means "a concurrent transaction got there first" (a unique
    constraint, or PostgreSQL giving up on a deadlock or serialization conflict)."""
    if isinstance(error, sa.IntegrityError):
        return True
    code = getattr(getattr(error, "orig", None), "sqlstate", None) or getattr(
        getattr(error, "orig", None), "pgcode", None
    )
    return code in {"40001", "40P01"}
