"""SearchInvoices: filters in, one page out, with an opaque page token.

The token carries the (update_time, id) of the last row shown and a fingerprint of the
filters. Keyset paging is why it stays correct while rows are inserted: new rows sort before
the cursor and never shift later pages. Reusing a token with other filters is refused.
"""

import base64
import hashlib
import json
from dataclasses import asdict

from fapiao_gateway.domain.errors import FieldViolation, invalid_fields
from fapiao_gateway.domain.imports import Cursor, SearchFilters, SearchPage
from fapiao_gateway.ledger.store import Ledger

#: page_size 0 means this; larger values are cut to MAX_PAGE_SIZE (AIP-158).
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


def _fingerprint(filters: SearchFilters) -> str:
    canonical = json.dumps(asdict(filters), sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode_page_token(filters: SearchFilters, cursor: Cursor) -> str:
    raw = json.dumps({"f": _fingerprint(filters), "u": cursor.update_time_us, "i": cursor.row_id})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_page_token(token: str, filters: SearchFilters) -> Cursor | None:
    """The cursor in `token` (None for ""); INVALID_ARGUMENT if it is not ours or the filters
    changed since it was issued."""
    if not token:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        fingerprint, update_time_us, row_id = data["f"], int(data["u"]), int(data["i"])
    except (ValueError, KeyError, TypeError):
        raise invalid_fields(
            [FieldViolation("page_token", "Not a page token this service issued.")]
        ) from None
    if fingerprint != _fingerprint(filters):
        raise invalid_fields(
            [
                FieldViolation(
                    "page_token",
                    "The filters changed since this page token was issued; start again without it.",
                )
            ]
        )
    return Cursor(update_time_us, row_id)


def page_size(requested: int) -> int:
    """AIP-158: 0 is the default, above the maximum is the maximum. A negative size is
    INVALID_ARGUMENT, refused with the request's other fields before this is called."""
    return min(max(requested, 0) or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


class InvoiceSearch:
    """The SearchInvoices use case."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    async def search(
        self, filters: SearchFilters, page_token: str, size: int
    ) -> tuple[SearchPage, str]:
        """A page and the token for the next one ("" on the last page)."""
        cursor = decode_page_token(page_token, filters)
        page = await self._ledger.search(filters, cursor, size)
        token = encode_page_token(filters, page.next_cursor) if page.next_cursor else ""
        return page, token
