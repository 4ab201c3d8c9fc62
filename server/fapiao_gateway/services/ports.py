"""What the use cases need from the world, in domain terms (typing.Protocol).

`wechat/` and `ledger/` satisfy these without importing this module; `bootstrap.py` plugs
them in, and tests plug in fakes (tests/services/fakes.py). A use case holds appids,
InvoiceRefs and domain values, never a secret-bearing account, WeChat's JSON, a SQL row or a
protobuf.
"""

from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from fapiao_gateway.domain.accounts import WeChatAccount
from fapiao_gateway.domain.callers import ImportScope
from fapiao_gateway.domain.context import Deadline
from fapiao_gateway.domain.documents import DocumentKind, DocumentRecord
from fapiao_gateway.domain.errors import GatewayError
from fapiao_gateway.domain.import_sessions import ImportSession
from fapiao_gateway.domain.imports import (
    Cursor,
    IdentityHolder,
    ImportRecord,
    ImportResult,
    LedgerEntry,
    OpenPage,
    SearchFilters,
    SearchPage,
)
from fapiao_gateway.domain.intents import Begun, Intent, IntentKind, Plan, Settlement
from fapiao_gateway.domain.invoice import FetchedInvoice, InvoiceRef
from fapiao_gateway.domain.signatures import TicketKind
from fapiao_gateway.domain.status import ReimburseStatus
from fapiao_gateway.domain.status_changes import (
    AuditCursor,
    AuditEntry,
    AuditFilters,
    AuditPage,
    Drift,
    KnownInvoice,
    Observation,
    Witness,
)

BatchRead = tuple[dict[InvoiceRef, FetchedInvoice], dict[InvoiceRef, GatewayError]]


class Clock(Protocol):
    """Wall-clock time as unix microseconds (comparable across processes)."""

    def __call__(self) -> int: ...


class AccountDirectory(Protocol):
    """The configured WeChat accounts, by appid or alias."""

    def find(self, name: str) -> WeChatAccount | None: ...

    def listed(self) -> tuple[WeChatAccount, ...]:
        """Every configured account."""
        ...


class InvoiceSource(Protocol):
    """Reading invoices from WeChat (always safe to repeat)."""

    def batches_needed(self, refs: Sequence[InvoiceRef]) -> int:
        """How many upstream calls reading `refs` in batches takes."""
        ...

    async def fetch(self, appid: str, ref: InvoiceRef, deadline: Deadline) -> FetchedInvoice: ...

    async def fetch_batches(
        self, appid: str, refs: Sequence[InvoiceRef], deadline: Deadline
    ) -> BatchRead:
        """What WeChat returned of `refs`, and the error of each ref whose batch failed;
        refs in neither were left out by WeChat (errcode 0)."""
        ...


class StatusWriter(Protocol):
    """Changing invoices' reimbursement status at WeChat. A failure whose `maybe_applied` is
    set may have been applied all the same."""

    async def set_status(
        self, appid: str, ref: InvoiceRef, target: ReimburseStatus, deadline: Deadline
    ) -> None: ...

    async def set_statuses(
        self,
        appid: str,
        openid: str,
        refs: Sequence[InvoiceRef],
        target: ReimburseStatus,
        deadline: Deadline,
    ) -> None:
        """All or none of one openid's invoices."""
        ...


class TicketSource(Protocol):
    """The account's JS-SDK tickets, cached."""

    async def ticket(self, appid: str, kind: TicketKind, deadline: Deadline) -> str: ...


class InvoiceLedger(Protocol):
    """The imported invoices."""

    async def entries(
        self, account: str, refs: Sequence[InvoiceRef]
    ) -> dict[InvoiceRef, LedgerEntry]: ...

    async def known(
        self, account: str, refs: Sequence[InvoiceRef]
    ) -> dict[InvoiceRef, KnownInvoice]: ...

    async def follow(
        self, account: str, observed: Mapping[InvoiceRef, Observation], *, witness: Witness
    ) -> tuple[Drift, ...]:
        """Makes rows show what WeChat just reported (not those an intent is changing),
        auditing each row it moves as found by `witness`; returns them."""
        ...

    async def search(
        self, filters: SearchFilters, cursor: Cursor | None, limit: int
    ) -> SearchPage: ...

    async def holders(self, identities: Collection[str]) -> dict[str, IdentityHolder]:
        """Who holds each of these tax identities company-wide (any account), where held."""
        ...


class IntentLog(Protocol):
    """Write-ahead intents (domain/intents.py): every method is one transaction; every change
    after `begin` names the owner, and fails with OutcomePending if it is not the owner."""

    async def begin(
        self,
        *,
        kind: IntentKind,
        rpc: str,
        account: str,
        request_id: str,
        caller: str,
        fingerprint: str,
        owner: str,
        lease_us: int,
    ) -> Begun: ...

    async def arm(self, intent: Intent, plan: Plan, *, owner: str, lease_us: int) -> Intent:
        """Claims the plan's invoices (InvoiceBeingChanged if another intent holds one)."""
        ...

    async def compensating(self, intent: Intent, *, owner: str) -> Intent: ...

    async def release(self, intent: Intent, *, owner: str, just_sent: bool = False) -> None:
        """Gives it up for recovery; `just_sent`: a write may have gone out until now."""
        ...

    async def take_over(self, intent_id: int, *, owner: str, lease_us: int) -> Intent | None: ...

    async def renew(self, ids: Collection[int], *, owner: str, lease_us: int) -> int: ...

    async def due(self, *, sent_before_us: int, limit: int = 100) -> list[Intent]:
        """Unsettled, unowned intents whose last write went out before `sent_before_us`."""
        ...

    async def owned_by(self, owner: str) -> list[Intent]: ...

    async def claimed(self, account: str, refs: Sequence[InvoiceRef]) -> set[InvoiceRef]:
        """Which of `refs` an intent holds the claim on now."""
        ...

    async def purge_lapsed_claims(self) -> int: ...

    async def settle(
        self,
        intent: Intent,
        settlement: Settlement,
        *,
        owner: str,
        audit: Sequence[AuditEntry] = (),
        statuses: Mapping[InvoiceRef, ReimburseStatus] | None = None,
    ) -> None: ...

    async def settle_import(
        self,
        intent: Intent,
        *,
        owner: str,
        biz_code: str,
        imported_by: str,
        records: Sequence[ImportRecord],
        fetched_at_us: int,
        audit: Sequence[AuditEntry] = (),
    ) -> ImportResult: ...

    async def settle_session(
        self,
        intent: Intent,
        session: ImportSession,
        *,
        owner: str,
        audit: Sequence[AuditEntry] = (),
    ) -> ImportSession: ...


class AuditLog(Protocol):
    """Audit entries written on their own (attempts that change nothing else), and the
    trail read back."""

    async def record(self, entry: AuditEntry) -> None: ...

    async def page(
        self, filters: AuditFilters, cursor: AuditCursor | None, limit: int
    ) -> AuditPage: ...


class OpenInvoices(Protocol):
    """What reconciliation reads of the ledger: the invoices that can still change at
    WeChat (INIT, LOCK), newest first, in pages."""

    async def open_invoices(
        self, account: str, cursor: Cursor | None, limit: int, *, biz_code: str = ""
    ) -> OpenPage: ...

    async def accounts_with_open_invoices(self) -> list[str]: ...


class CallBudget(Protocol):
    """Upstream calls reconciliation spent per account and day, shared by every replica."""

    async def take(self, account: str, day: str, calls: int, limit: int | None) -> bool:
        """Counts `calls` more for the day if that stays within `limit` (None: no limit);
        False, counting nothing, if it would not."""
        ...

    async def spent(self, account: str, day: str) -> int: ...


class ImportSessionFinder(Protocol):
    async def find(self, account: str, biz_code: str) -> ImportSession | None: ...


class ImportTicketMinter(Protocol):
    """Signs the browser credential of an import session (auth/import_tickets.py)."""

    def mint(self, scope: ImportScope) -> str:
        """The ticket, or "" when the gateway has no secret to sign one with."""
        ...


class ImportWakeup(Protocol):
    """A watcher's doorbell: wait() returns once an import under its bizCode was announced
    since the previous wait() returned (announcements in between are folded into one)."""

    async def wait(self) -> None: ...


class ImportSignals(Protocol):
    """Announces imports under a bizCode to the watchers of it, in every replica (in
    process, PostgreSQL LISTEN/NOTIFY or Redis pub/sub). A wake-up, not the data: watchers
    read the ledger, so an announcement lost or doubled changes nothing they report."""

    async def announce(self, account: str, biz_code: str) -> None: ...

    def listen(self, account: str, biz_code: str) -> AbstractAsyncContextManager[ImportWakeup]: ...


class ReplayObserver(Protocol):
    """Told when a request is answered with the first outcome of its request_id (metrics)."""

    def replayed(self, rpc: str) -> None: ...


class DocumentSource(Protocol):
    """Downloading a document WeChat lends by URL (DocumentFetchFailed when none came)."""

    async def download(self, url: str) -> bytes: ...


class ArchiveStore(Protocol):
    """Where archived documents are kept, content-addressed by SHA-256."""

    async def put(self, data: bytes) -> str:
        """Stores `data`; returns its SHA-256 (hex)."""
        ...

    def chunks(self, digest: str, chunk_size: int) -> AsyncIterator[bytes]: ...


class DocumentLedger(Protocol):
    """The archive records of the invoices' documents (domain/documents.py)."""

    async def find(
        self, account: str, ref: InvoiceRef, kind: DocumentKind
    ) -> DocumentRecord | None: ...

    async def enter_missing(self, limit: int) -> int: ...

    async def take_due(self, limit: int, lease_us: int) -> list[DocumentRecord]: ...

    async def archived(self, record: DocumentRecord, digest: str, size: int) -> None: ...

    async def attempt_failed(
        self, record: DocumentRecord, reason: str, *, retry_at_us: int | None
    ) -> None: ...

    async def totals(self) -> dict[str, tuple[int, int]]:
        """Per state: how many records, and how many archived bytes."""
        ...


class ArchiveObserver(Protocol):
    """Told after each archiver round (the metrics)."""

    def archive_round(
        self, totals: Mapping[str, tuple[int, int]], archived: int, retrying: int, failed: int
    ) -> None: ...
