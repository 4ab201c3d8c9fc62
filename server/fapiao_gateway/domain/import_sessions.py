"""Import sessions: a bizCode handed to a phone through a QR code, valid for a while."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ImportSession:
    """An open import: ImportInvoices accepts `biz_code` for `account` until `expire_time`."""

    account: str
    biz_code: str
    issued_by: str
    url: str
    expire_time: datetime
