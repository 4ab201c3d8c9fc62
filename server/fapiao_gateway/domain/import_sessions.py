"""Import sessions: a bizCode handed to a phone through a QR code, valid for a while."""

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class ImportSession:
    """An open import: ImportInvoices accepts `biz_code` for `account` until `expire_time`."""

    account: str
    biz_code: str
    issued_by: str
    url: str
    expire_time: datetime


def origin_of(url: str) -> str:
    """scheme://host[:port] of an http(s) URL, lower-cased; "" when it has none."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return ""
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in ("http", "https") or not host:
        return ""
    default = {"http": 80, "https": 443}[scheme]
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" if port in (None, default) else f"{scheme}://{host}:{port}"
