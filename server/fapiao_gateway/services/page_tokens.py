"""Opaque page tokens for keyset-paged lists (SearchInvoices, ListAuditEvents), and AIP-158
page sizes.

A token carries the (time, id) of the last row shown and a fingerprint of the filters.
Keyset paging is why it stays correct while rows are inserted: new rows sort before the
cursor and never shift later pages. Reusing a token with other filters is refused.
"""

import base64
import hashlib
import json
from dataclasses import asdict
from typing import Any

from fapiao_gateway.domain.errors import FieldViolation, invalid_fields

#: page_size 0 means this; larger values are cut to MAX_PAGE_SIZE (AIP-158).
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


def _fingerprint(filters: Any) -> str:
    canonical = json.dumps(asdict(filters), sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode_page_token(filters: Any, time_us: int, row_id: int) -> str:
    """The token of the page after the row at (time_us, row_id), for these filters (a
    dataclass)."""
    raw = json.dumps({"f": _fingerprint(filters), "u": time_us, "i": row_id})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


#: Cursor values are database integers (BIGINT): anything outside is not ours.
_MAX_CURSOR = 2**63 - 1


def decode_page_token(token: str, filters: Any) -> tuple[int, int] | None:
    """The (time_us, row_id) in `token` (None for ""); INVALID_ARGUMENT if it is not ours or
    the filters changed since it was issued. Whatever a caller crafts (huge, negative, float
    or deeply nested values), the answer is one of those two."""
    if not token:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        fingerprint, time_us, row_id = data["f"], data["u"], data["i"]
        if not (
            isinstance(fingerprint, str)
            and all(type(v) is int and 0 <= v <= _MAX_CURSOR for v in (time_us, row_id))
        ):
            raise ValueError("not a cursor")
    except (ValueError, KeyError, TypeError, RecursionError):
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
    return time_us, row_id


def page_size(requested: int) -> int:
    """AIP-158: 0 is the default, above the maximum is the maximum. A negative size is
    INVALID_ARGUMENT, refused with the request's other fields before this is called."""
    return min(max(requested, 0) or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
