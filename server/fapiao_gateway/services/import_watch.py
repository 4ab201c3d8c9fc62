"""WatchImport: what the phone imports under a bizCode, as it happens, until the session ends.

The ledger is the truth: the watcher reads the bizCode's invoices from it, reports those it
has not reported yet, and sleeps until an import under the bizCode is announced
(ImportSignals: in process, or from another replica) or the session expires. So an
announcement lost or doubled changes nothing the watcher reports, and an invoice imported by
a replica whose announcement never came is still reported, at the latest when the session
ends (the last read happens after the expiry).
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

from fapiao_gateway.domain.errors import NotFound, Resource
from fapiao_gateway.domain.import_sessions import ImportSession
from fapiao_gateway.domain.imports import Cursor, ImportedInvoice, SearchFilters
from fapiao_gateway.domain.invoice import InvoiceRef
from fapiao_gateway.services.ports import ImportSessionFinder, ImportSignals, InvoiceLedger

#: Rows read per ledger page while catching up.
_PAGE = 200


@dataclass(frozen=True, slots=True)
class SessionEnded:
    """The last event of a watch: the session expired at `end_time`; `count` invoices seen."""

    end_time: datetime
    count: int


WatchEvent = ImportedInvoice | SessionEnded


def session_not_found(appid: str, biz_code: str) -> NotFound:
    return NotFound(
        f"No import session (IssueImportQr) has bizCode {biz_code!r}.",
        reason="IMPORT_SESSION_NOT_FOUND",
        account=appid,
        metadata={"biz_code": biz_code},
        resource=Resource("fapiao.v1.ImportSession", f"bizCode:{biz_code}"),
    )


class ImportWatcher:
    """The WatchImport use case."""

    def __init__(
        self, ledger: InvoiceLedger, sessions: ImportSessionFinder, signals: ImportSignals
    ) -> None:
        self._ledger = ledger
        self._sessions = sessions
        self._signals = signals

    async def _session(self, appid: str, biz_code: str) -> ImportSession:
        session = await self._sessions.find(appid, biz_code)
        if session is None:
            raise session_not_found(appid, biz_code)
        return session

    async def _imported(self, appid: str, biz_code: str) -> list[ImportedInvoice]:
        """Every invoice under the bizCode now, oldest import first."""
        filters = SearchFilters(account=appid, biz_code=biz_code)
        found: list[ImportedInvoice] = []
        cursor: Cursor | None = None
        while True:
            page = await self._ledger.search(filters, cursor, _PAGE)
            found.extend(page.invoices)
            cursor = page.next_cursor
            if cursor is None:
                return sorted(found, key=lambda i: i.import_time)

    async def watch(self, appid: str, biz_code: str) -> AsyncIterator[WatchEvent]:
        session = await self._session(appid, biz_code)
        seen: set[InvoiceRef] = set()
        # Listening before the first read: an import that lands between the two still rings.
        async with self._signals.listen(appid, biz_code) as wakeup:
            while True:
                now = datetime.now(UTC)
                ended = session.expire_time <= now
                for invoice in await self._imported(appid, biz_code):
                    if invoice.invoice.ref not in seen:
                        seen.add(invoice.invoice.ref)
                        yield invoice
                if ended:
                    # A new QR code for the same bizCode moves its expiry: look once more.
                    session = await self._session(appid, biz_code)
                    if session.expire_time <= datetime.now(UTC):
                        yield SessionEnded(session.expire_time, len(seen))
                        return
                    continue
                remaining = (session.expire_time - now).total_seconds()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wakeup.wait(), remaining)
