"""The invoice's own documents, archived: the PDF WeChat only lends (its pdf_url stops working
after a while) and a trip itinerary's attachment (trip_pdf_url), kept as the accounting
record (会计档案) by their SHA-256.

Each document of an imported invoice has one archive record: PENDING until a download passed
the PDF checks and is stored, then ARCHIVED (digest, size, fetch time), or FAILED after the
last attempt (with the reason of the last one). A download that is not a PDF is never stored.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from fapiao_gateway.domain.errors import NotFound, invoice_resource
from fapiao_gateway.domain.invoice import InvoiceRef

PDF_CONTENT_TYPE = "application/pdf"
#: How far from the end a PDF's %%EOF marker may be (trailing whitespace, a final newline,
#: some writers' padding).
_EOF_WINDOW = 1024


class DocumentKind(StrEnum):
    """Which of the invoice's documents."""

    INVOICE = "INVOICE"  # the invoice PDF (pdf_url)
    TRIP = "TRIP"  # the itinerary attachment of a transport invoice (trip_pdf_url)


class ArchiveState(StrEnum):
    PENDING = "PENDING"
    ARCHIVED = "ARCHIVED"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    """What the ledger knows of one document's archiving."""

    account: str
    ref: InvoiceRef
    kind: DocumentKind
    url: str
    state: ArchiveState
    digest: str = ""
    size: int = 0
    fetched_at: datetime | None = None
    attempts: int = 0
    reason: str = ""


@dataclass(frozen=True, slots=True)
class DocumentRequest:
    """An archived document to read: which invoice of which account, and which document."""

    account: str
    ref: InvoiceRef
    kind: DocumentKind


class DocumentFetchFailed(Exception):
    """A download that brought no document; `reason` is UPPER_SNAKE, for the ledger and
    operators; `final` means retrying cannot help (e.g. the URL is not one)."""

    def __init__(self, reason: str, *, final: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.final = final


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pdf_problem(data: bytes) -> str:
    """Why `data` is not a PDF worth archiving ("" when it passes): the %PDF- header, an
    %%EOF marker at the end, and a cross-reference (startxref) before it, which a truncated
    or corrupted download lacks."""
    if not data:
        return "EMPTY_DOCUMENT"
    if not data.startswith(b"%PDF-"):
        return "NOT_A_PDF"
    tail = data[-_EOF_WINDOW:]
    if b"%%EOF" not in tail:
        return "PDF_TRUNCATED"
    if b"startxref" not in data[-(_EOF_WINDOW * 4) :]:
        return "PDF_NO_XREF"
    return ""


class DocumentNotAvailable(NotFound):
    """The document is not (yet) in the archive: the reason says why."""

    def __init__(self, record: DocumentRecord | None, request: DocumentRequest) -> None:
        if record is None:
            reason, why = "DOCUMENT_NOT_ARCHIVED", "the invoice has no such document to archive"
        elif record.state is ArchiveState.PENDING:
            reason, why = (
                "DOCUMENT_PENDING",
                f"its download is pending ({record.attempts} attempt(s) so far); retry later",
            )
        else:
            reason, why = (
                "DOCUMENT_FETCH_FAILED",
                f"every download failed (last: {record.reason or 'unknown'})",
            )
        super().__init__(
            f"The {request.kind.value} document of this invoice is not archived: {why}.",
            reason=reason,
            account=request.account,
            ref=request.ref,
            metadata={"document": request.kind.value}
            | ({"fetch_error": record.reason} if record is not None and record.reason else {}),
            resource=invoice_resource(request.ref, description=f"{request.kind.value} document"),
        )
