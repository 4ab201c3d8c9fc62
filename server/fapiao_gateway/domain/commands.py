"""What a caller asked a mutating use case to do, as small frozen values.

They are hashable and canonical, so one function fingerprints any of them for AIP-155 (the
same request_id with another body is refused), and the audit trail copies them as they are.
"""

import hashlib
import json
from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Any

from fapiao_gateway.domain.invoice import InvoiceRef
from fapiao_gateway.domain.status import ReimburseStatus


@dataclass(frozen=True, slots=True)
class ChangeStatus:
    """UpdateStatus (one invoice, no openid) or UpdateStatusBatch (one openid's invoices)."""

    appid: str
    request_id: str
    refs: tuple[InvoiceRef, ...]
    target: ReimburseStatus
    openid: str = ""

    @property
    def rpc(self) -> str:
        return "UpdateStatusBatch" if self.openid else "UpdateStatus"


@dataclass(frozen=True, slots=True)
class ImportPicks:
    """ImportInvoices: the invoices a user picked, into a bizCode ("" = generate one)."""

    appid: str
    request_id: str
    biz_code: str
    refs: tuple[InvoiceRef, ...]
    lock: bool

    rpc = "ImportInvoices"


@dataclass(frozen=True, slots=True)
class OpenImportSession:
    """IssueImportQr: a QR code for a bizCode ("" = generate one), valid for a while."""

    appid: str
    request_id: str
    biz_code: str
    size_px: int
    valid_for: timedelta

    rpc = "IssueImportQr"


Command = ChangeStatus | ImportPicks | OpenImportSession


def _plain(value: Any) -> Any:
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, InvoiceRef):
        return [value.card_id, value.encrypt_code]
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _canonical(command: Command) -> str:
    if isinstance(command, ChangeStatus):
        # The form status changes were fingerprinted in before intents existed, so request
        # ids recorded then still replay.
        refs = [[r.card_id, r.encrypt_code] for r in command.refs]
        return json.dumps([command.rpc, command.appid, command.target.value, command.openid, refs])
    body = {f.name: _plain(getattr(command, f.name)) for f in fields(command)}
    body.pop("request_id")
    return json.dumps([command.rpc, body], sort_keys=True, ensure_ascii=False)


def fingerprint(command: Command) -> str:
    """SHA-256 of the command without its request_id: equal for a replay of the same request."""
    return hashlib.sha256(_canonical(command).encode()).hexdigest()
