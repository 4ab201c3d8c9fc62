"""Archiving the invoices' documents, in the background: never on an import's write path.

An import only enters its invoices' documents PENDING, in the transaction that stores it;
this worker then downloads each (bounded attempts with growing pauses), refuses what is not
a sound PDF (domain.documents.pdf_problem: never archived as the original), stores the rest
content-addressed and records digest, size and fetch time. Invoices imported before the
archive existed are entered a batch per round, so reconciliation of old rows needs no
separate pass. A failed round is logged and the next one tries again.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from fapiao_gateway.domain.documents import (
    ArchiveState,
    DocumentFetchFailed,
    DocumentNotAvailable,
    DocumentRecord,
    DocumentRequest,
    pdf_problem,
)
from fapiao_gateway.domain.errors import GatewayError
from fapiao_gateway.services.ports import (
    ArchiveObserver,
    ArchiveStore,
    Clock,
    DocumentLedger,
    DocumentSource,
)

log = logging.getLogger("fapiao_gateway.archive")


@dataclass(frozen=True, slots=True)
class ArchivePolicy:
    """How hard the archiver tries."""

    max_attempts: int = 5
    #: The pause after the first failure; doubled after each further one, up to max.
    retry_base_seconds: float = 30.0
    retry_max_seconds: float = 3600.0
    #: Records taken per round, and invoices from before the archive entered per round.
    batch: int = 50
    #: How long a taken record is left to this archiver before another may take it.
    lease_seconds: float = 300.0


@dataclass(frozen=True, slots=True)
class RoundResult:
    archived: int = 0
    retrying: int = 0
    failed: int = 0


class Archiver:
    """Downloads, checks and stores pending documents."""

    def __init__(
        self,
        records: DocumentLedger,
        source: DocumentSource,
        store: ArchiveStore,
        clock: Clock,
        policy: ArchivePolicy,
        observer: ArchiveObserver | None = None,
    ) -> None:
        self._observer = observer
        self._records = records
        self._source = source
        self._store = store
        self._now_us = clock
        self._policy = policy
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Asks for a round soon (an import just entered documents)."""
        self._wake.set()

    async def run(self, interval_seconds: float) -> None:
        """Rounds until cancelled: every interval, and whenever woken."""
        while True:
            self._wake.clear()
            try:
                done = await self.run_once()
                if done.archived + done.retrying + done.failed >= self._policy.batch:
                    continue  # a full batch: there may be more due at once
            except GatewayError as failed:
                log.warning("archive round failed: %s", failed.reason)
            except Exception:
                log.exception("archive round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), interval_seconds)

    async def run_once(self) -> RoundResult:
        """One round: enter old invoices, then try every due record once."""
        policy = self._policy
        await self._records.enter_missing(policy.batch)
        due = await self._records.take_due(policy.batch, int(policy.lease_seconds * 1e6))
        archived = retrying = failed = 0
        for record in due:
            outcome = await self._archive(record)
            archived += outcome is ArchiveState.ARCHIVED
            retrying += outcome is ArchiveState.PENDING
            failed += outcome is ArchiveState.FAILED
        if self._observer is not None:
            totals = await self._records.totals()
            self._observer.archive_round(totals, archived, retrying, failed)
        return RoundResult(archived, retrying, failed)

    async def _archive(self, record: DocumentRecord) -> ArchiveState:
        try:
            data = await self._source.download(record.url)
            problem = pdf_problem(data)
            final = False
        except DocumentFetchFailed as refused:
            problem, final = refused.reason, refused.final
        if not problem:
            digest = await self._store.put(data)
            await self._records.archived(record, digest, len(data))
            log.info(
                "archived account=%s card_id=%s document=%s sha256=%s bytes=%d",
                record.account,
                record.ref.card_id,
                record.kind.value,
                digest,
                len(data),
            )
            return ArchiveState.ARCHIVED
        attempts = record.attempts + 1
        last = final or attempts >= self._policy.max_attempts
        pause = min(
            self._policy.retry_base_seconds * 2 ** (attempts - 1), self._policy.retry_max_seconds
        )
        retry_at = None if last else self._now_us() + int(pause * 1e6)
        await self._records.attempt_failed(record, problem, retry_at_us=retry_at)
        log.warning(
            "archive download %s account=%s card_id=%s document=%s reason=%s attempt=%d",
            "failed for good" if last else "failed, will retry",
            record.account,
            record.ref.card_id,
            record.kind.value,
            problem,
            attempts,
        )
        return ArchiveState.FAILED if last else ArchiveState.PENDING


@dataclass(frozen=True, slots=True)
class DocumentStream:
    """An archived document on its way out: its record, then its bytes."""

    record: DocumentRecord
    chunks: AsyncIterator[bytes]


class DocumentReader:
    """GetInvoiceDocument: the archived bytes of one document, or why there are none."""

    def __init__(self, records: DocumentLedger, store: ArchiveStore) -> None:
        self._records = records
        self._store = store

    async def open(self, request: DocumentRequest, chunk_size: int) -> DocumentStream:
        record = await self._records.find(request.account, request.ref, request.kind)
        if record is None or record.state is not ArchiveState.ARCHIVED:
            raise DocumentNotAvailable(record, request)
        return DocumentStream(record, await self.open_record(record, chunk_size))

    async def open_record(self, record: DocumentRecord, chunk_size: int) -> AsyncIterator[bytes]:
        """The stored bytes of an archived record, in chunks."""
        return self._store.chunks(record.digest, chunk_size)
