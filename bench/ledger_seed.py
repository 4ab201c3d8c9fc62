"""Synthetic ledger rows, written fast and straight through the ledger's schema.

The schema comes from Alembic (the gateway's own migrations); the rows go in with the
drivers' bulk paths, not through the gateway: executemany on one SQLite transaction, COPY
on PostgreSQL. A million rows take seconds rather than minutes.

The rows (one account): 10 invoices per bizCode; 1,000 invoice codes; 500 buyers; 5,000
sellers; 60% INIT, 30% LOCK, 10% CLOSURE; billing and update times spread over two years.
"""

import asyncio
import concurrent.futures
import contextlib
import json
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from fapiao_gateway.domain.invoice import Invoice, InvoiceRef
from fapiao_gateway.domain.status import ReimburseStatus
from fapiao_gateway.domain.tax_identity import tax_identity
from fapiao_gateway.ledger.codecs import dumps, invoice_document
from fapiao_gateway.ledger.engine import create_engine, migrate
from fapiao_gateway.ledger.schema import imported_invoices
from sqlalchemy.engine import make_url

from bench.canned import APPID

START = datetime(2025, 1, 1, tzinfo=UTC)
SPAN_US = int(timedelta(days=730).total_seconds() * 1_000_000)
PAYLOAD = json.dumps(
    {
        "card_id": "x",
        "openid": "o",
        "type": "增值税电子普通发票",
        "user_info": {"fee": 100, "reimburse_status": "INVOICE_REIMBURSE_INIT"},
    },
    ensure_ascii=False,
)
#: The ledger's own form of an invoice (read back by searches); one for every row: the
#: search filters use the indexed columns, not this.
DOCUMENT = dumps(
    invoice_document(
        Invoice(InvoiceRef("x", "y"), "o", ReimburseStatus.INIT, "增值税电子普通发票", total_fen=9)
    )
)
STATUSES = [ReimburseStatus.INIT] * 6 + [ReimburseStatus.LOCK] * 3 + [ReimburseStatus.CLOSURE]
COLUMNS = [c.name for c in imported_invoices.columns if c.name != "id"]
_CHUNK = 20_000


def biz_code(n: int) -> str:
    return f"EXP-{n // 10:07d}"


def invoice_code(n: int) -> str:
    return f"0{n % 1000:03d}0019001"


def invoice_number(n: int) -> str:
    return f"{n:08d}"


def buyer(n: int) -> str:
    return f"91310000BUYER{n % 500:05d}"


def seller(n: int) -> str:
    return f"91440300SELLER{n % 5000:05d}"


def when(fraction: float) -> datetime:
    """The time `fraction` of the way through the two years the rows span."""
    return START + timedelta(microseconds=int(SPAN_US * fraction))


def row(n: int, rows: int) -> tuple[object, ...]:
    """Row `n` of `rows`, in COLUMNS order."""
    start_us = int(START.timestamp() * 1_000_000)
    step = SPAN_US // rows
    values: dict[str, object] = {
        "account": APPID,
        "card_id": f"pBench{n % 5000:022d}",
        "encrypt_code": f"ZW5jcnlwdC1jb2Rl{n:024d}=",
        "openid": f"oUser{n % 20000:023d}",
        "biz_code": biz_code(n),
        "status": STATUSES[n % 10].value,
        "invoice_code": invoice_code(n),
        "invoice_number": invoice_number(n),
        "buyer_tax_number": buyer(n),
        "seller_tax_number": seller(n),
        "billing_time_us": start_us + (n * 7919 % rows) * step,
        "total_fen": 1000 + n % 100000,
        "tax_identity": tax_identity(invoice_code(n), invoice_number(n)),
        "payload": PAYLOAD,
        "document": DOCUMENT,
        "card_status": "",
        "imported_by": "bench",
        "import_time_us": start_us + n * step,
        "update_time_us": start_us + n * step,
    }
    return tuple(values[name] for name in COLUMNS)


def _chunks(rows: int) -> Iterator[list[tuple[object, ...]]]:
    for start in range(0, rows, _CHUNK):
        yield [row(n, rows) for n in range(start, min(rows, start + _CHUNK))]


async def seed(database_url: str, rows: int) -> None:
    """Migrates `database_url` (an empty ledger) to the newest schema and writes `rows` rows."""
    engine = create_engine(database_url)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        _seed_sqlite(str(url.database), rows)
    else:
        await _seed_postgres(url.set(drivername="postgresql").render_as_string(False), rows)


def _seed_sqlite(path: str, rows: int) -> None:
    connection = sqlite3.connect(path)
    try:
        placeholders = ", ".join("?" * len(COLUMNS))
        statement = f"INSERT INTO imported_invoices ({', '.join(COLUMNS)}) VALUES ({placeholders})"
        with connection:
            for chunk in _chunks(rows):
                connection.executemany(statement, chunk)
        connection.execute("ANALYZE")
    finally:
        connection.close()


async def _seed_postgres(dsn: str, rows: int) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        for chunk in _chunks(rows):
            await connection.copy_records_to_table(
                "imported_invoices", records=chunk, columns=COLUMNS
            )
        await connection.execute("ANALYZE imported_invoices")
    finally:
        await connection.close()


@contextlib.contextmanager
def temp_database(workdir: Path, postgres: str | None, name: str = "ledger") -> Iterator[str]:
    """A new, empty ledger database for one benchmark: a SQLite file under `workdir`, or,
    with `postgres` (an admin URL such as postgresql://postgres@127.0.0.1:5432/test), a
    database created on that server and dropped afterwards. Yields its SQLAlchemy URL."""
    if postgres is None:
        yield f"sqlite+aiosqlite:///{workdir / name}.db"
        return
    database = f"fapiao_bench_{name}_{uuid.uuid4().hex[:8]}"
    _admin(postgres, f'CREATE DATABASE "{database}"')
    try:
        base = make_url(postgres).set(drivername="postgresql+asyncpg", database=database)
        yield base.render_as_string(hide_password=False)
    finally:
        _admin(postgres, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _admin(postgres: str, statement: str) -> None:
    """Runs one statement on the admin connection, from async code as well as sync code
    (in a thread of its own, with a loop of its own)."""

    async def execute() -> None:
        connection = await asyncpg.connect(postgres)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, execute()).result()


def run_seed(database_url: str, rows: int) -> None:
    """seed(), from synchronous code."""
    asyncio.run(seed(database_url, rows))
