"""The archive's records on both ledgers, driven by the real archiver and directory store:
an import enters its documents PENDING in its own transaction; a sound PDF is archived with
its digest, size and fetch time; a corrupt one is retried, then FAILED with its reason and
never stored; rows imported before the archive existed are entered by the archiver."""

import hashlib
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from fapiao_gateway.archive.directory import DirectoryArchive
from fapiao_gateway.domain.documents import (
    ArchiveState,
    DocumentFetchFailed,
    DocumentKind,
)
from fapiao_gateway.domain.imports import ImportRecord
from fapiao_gateway.domain.intents import IntentKind
from fapiao_gateway.domain.invoice import Invoice, InvoiceRef
from fapiao_gateway.domain.status import ReimburseStatus
from fapiao_gateway.ledger.documents import DocumentLedger
from fapiao_gateway.ledger.engine import Database, create_engine, migrate
from fapiao_gateway.ledger.intents import IntentLog
from fapiao_gateway.ledger.schema import invoice_documents
from fapiao_gateway.sandbox.pdfs import invoice_pdf
from fapiao_gateway.services.archiving import ArchivePolicy, Archiver, DocumentReader
from sqlalchemy import delete

from tests.services.fakes import FakeClock
from tests.support.processes import run

ACCOUNT = "wx5a6b7c8d9e0f1a2b"
GOOD, BAD, TRIP = (InvoiceRef(f"card-{n}", f"code-{n}") for n in ("good", "bad", "trip"))
PDF = invoice_pdf("archive-test")


class Downloads:
    """A DocumentSource serving fixed answers per URL, counting the downloads."""

    def __init__(self) -> None:
        self.count: dict[str, int] = {}

    async def download(self, url: str) -> bytes:
        self.count[url] = self.count.get(url, 0) + 1
        if url.endswith("/bad"):
            return b"<html>not a pdf</html>"
        if url.endswith("/gone"):
            raise DocumentFetchFailed("DOCUMENT_HTTP_404")
        return PDF


@dataclass
class Archive:
    db: Database
    clock: FakeClock
    records: DocumentLedger
    store: DirectoryArchive
    downloads: Downloads
    archiver: Archiver
    intents: IntentLog


@pytest.fixture
async def archive(database_url: str, tmp_path) -> AsyncIterator[Archive]:
    db = Database(create_engine(database_url))
    await migrate(db.engine)
    clock = FakeClock()
    records = DocumentLedger(db, clock)
    store = DirectoryArchive(tmp_path / "archive")
    downloads = Downloads()
    policy = ArchivePolicy(max_attempts=3, retry_base_seconds=1, retry_max_seconds=2)
    try:
        yield Archive(
            db,
            clock,
            records,
            store,
            downloads,
            Archiver(records, downloads, store, clock, policy),
            IntentLog(db, clock),
        )
    finally:
        await db.close()


def invoice(ref: InvoiceRef, pdf: str, trip: str = "") -> Invoice:
    return Invoice(
        ref,
        "openid-1",
        ReimburseStatus.INIT,
        pdf_url=f"https://pdf.example/{pdf}",
        trip_pdf_url=trip,
    )


async def import_(archive: Archive, *invoices: Invoice) -> None:
    begun = await archive.intents.begin(
        kind=IntentKind.IMPORT,
        rpc="ImportInvoices",
        account=ACCOUNT,
        request_id="imp-1",
        caller="test",
        fingerprint="f",
        owner="p1",
        lease_us=5_000_000,
    )
    assert begun.intent is not None
    await archive.intents.settle_import(
        begun.intent,
        owner="p1",
        biz_code="EXP-1",
        imported_by="test",
        records=[ImportRecord(i, {}, ReimburseStatus.INIT) for i in invoices],
        fetched_at_us=archive.clock(),
    )


async def test_sound_pdfs_are_archived_and_corrupt_ones_never(archive: Archive) -> None:
    await import_(
        archive,
        invoice(GOOD, "good"),
        invoice(BAD, "bad"),
        invoice(TRIP, "good2", trip="https://pdf.example/gone"),
    )
    pending = await archive.records.find(ACCOUNT, GOOD, DocumentKind.INVOICE)
    assert pending is not None and pending.state is ArchiveState.PENDING

    first = await archive.archiver.run_once()
    assert (first.archived, first.retrying, first.failed) == (2, 2, 0)
    good = await archive.records.find(ACCOUNT, GOOD, DocumentKind.INVOICE)
    assert good is not None and good.state is ArchiveState.ARCHIVED
    assert good.digest == hashlib.sha256(PDF).hexdigest() and good.size == len(PDF)
    assert good.fetched_at is not None
    stream = await DocumentReader(archive.records, archive.store).open_record(good, 100)
    assert b"".join([c async for c in stream]) == PDF

    for _ in range(3):  # the retries come due as time passes
        archive.clock.advance(3)
        await archive.archiver.run_once()
    bad = await archive.records.find(ACCOUNT, BAD, DocumentKind.INVOICE)
    trip = await archive.records.find(ACCOUNT, TRIP, DocumentKind.TRIP)
    assert bad is not None and (bad.state, bad.reason, bad.attempts) == (
        ArchiveState.FAILED,
        "NOT_A_PDF",
        3,
    )
    assert trip is not None and (trip.state, trip.reason) == (
        ArchiveState.FAILED,
        "DOCUMENT_HTTP_404",
    )
    assert archive.downloads.count["https://pdf.example/bad"] == 3
    stored = [digest for digest, _ in archive.store.stored()]
    assert stored == [good.digest]  # one file (two invoices, the same bytes), no corrupt one
    totals = await archive.records.totals()
    assert totals[ArchiveState.ARCHIVED.value] == (2, 2 * len(PDF))


async def test_rows_imported_before_the_archive_are_entered_by_the_archiver(
    archive: Archive,
) -> None:
    await import_(archive, invoice(GOOD, "good"))

    async def forget(conn) -> None:  # as if imported before migration 0006
        await conn.execute(delete(invoice_documents))

    await archive.db.write(forget)
    assert await archive.records.find(ACCOUNT, GOOD, DocumentKind.INVOICE) is None
    done = await archive.archiver.run_once()
    assert done.archived == 1
    found = await archive.records.find(ACCOUNT, GOOD, DocumentKind.INVOICE)
    assert found is not None and found.state is ArchiveState.ARCHIVED


async def test_archive_verify_finds_a_file_corrupted_on_disk(
    archive: Archive, database_url: str
) -> None:
    await import_(archive, invoice(GOOD, "good"))
    assert (await archive.archiver.run_once()).archived == 1
    env = {
        **os.environ,
        "FAPIAO_DATABASE_URL": database_url,
        "FAPIAO_ARCHIVE__DIRECTORY": str(archive.store.root),
    }
    code, out, _ = await run("archive", "verify", env=env)
    assert (code, json.loads(out.splitlines()[-1])) == (0, {"checked": 1, "problems": 0})

    ((digest, path),) = list(archive.store.stored())
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit flipped on disk
    path.write_bytes(bytes(data))
    code, out, _ = await run("archive", "verify", env=env)

    assert code == 1
    problem, summary = (json.loads(line) for line in out.splitlines()[-2:])
    assert (problem["digest"], problem["problem"]) == (digest, "DIGEST_MISMATCH")
    assert problem["actual"] == hashlib.sha256(bytes(data)).hexdigest()
    assert summary == {"checked": 1, "problems": 1}

    path.unlink()  # gone altogether: the ledger still says it is archived
    code, out, _ = await run("archive", "verify", env=env)
    assert code == 1 and json.loads(out.splitlines()[-2])["problem"] == "MISSING"
