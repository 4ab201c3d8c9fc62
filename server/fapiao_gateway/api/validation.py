"""Checks on request fields, collecting every violation so the caller fixes them in one go."""

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from fapiao.v1 import invoice_pb2, invoice_service_pb2
from google.protobuf import duration_pb2, timestamp_pb2
from google.protobuf.message import Message

from fapiao_gateway.api.convert import status_from_proto
from fapiao_gateway.domain.errors import FieldViolation, invalid_fields
from fapiao_gateway.domain.imports import BIZ_CODE_PATTERN
from fapiao_gateway.domain.invoice import InvoiceRef
from fapiao_gateway.domain.status import SETTABLE_STATUSES, ReimburseStatus

REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

#: Longest values accepted (WeChat's are far shorter; these stop abuse, not real data).
MAX_ACCOUNT_CHARS = 64
MAX_CARD_ID_CHARS = 128
MAX_ENCRYPT_CODE_CHARS = 512
MAX_URL_CHARS = 2048


class Violations:
    """Collects field violations; `raise_if_any` raises one INVALID_ARGUMENT with all of them."""

    def __init__(self) -> None:
        self.found: list[FieldViolation] = []

    def add(self, field: str, description: str) -> None:
        self.found.append(FieldViolation(field, description))

    def text(self, field: str, value: str, *, max_chars: int) -> str:
        """A required string field: present, not blank, not too long."""
        if not value.strip():
            self.add(field, "Required; must not be empty.")
        elif len(value) > max_chars:
            self.add(field, f"At most {max_chars} characters; got {len(value)}.")
        return value

    def account(self, value: str) -> str:
        return self.text("account", value, max_chars=MAX_ACCOUNT_CHARS)

    def ref(self, field: str, message: invoice_pb2.InvoiceRef, *, present: bool) -> InvoiceRef:
        """An InvoiceRef field: both card_id and encrypt_code required."""
        if not present:
            self.add(field, "Required: the invoice's card_id and encrypt_code.")
            return InvoiceRef("", "")
        card_id = self.text(f"{field}.card_id", message.card_id, max_chars=MAX_CARD_ID_CHARS)
        code = self.text(
            f"{field}.encrypt_code", message.encrypt_code, max_chars=MAX_ENCRYPT_CODE_CHARS
        )
        return InvoiceRef(card_id, code)

    def refs(
        self, field: str, messages: Sequence[invoice_pb2.InvoiceRef], *, max_items: int
    ) -> list[InvoiceRef]:
        """A list of refs: at least one, at most `max_items`, each complete, no duplicates.
        Violations name the index, e.g. "invoices[3].card_id"."""
        if not messages:
            self.add(field, "At least one invoice is required.")
            return []
        if len(messages) > max_items:
            self.add(field, f"At most {max_items} invoices per call; got {len(messages)}.")
            return []
        refs: list[InvoiceRef] = []
        seen: dict[InvoiceRef, int] = {}
        for index, message in enumerate(messages):
            ref = self.ref(f"{field}[{index}]", message, present=True)
            if ref in seen and ref.card_id and ref.encrypt_code:
                self.add(f"{field}[{index}]", f"Duplicate of {field}[{seen[ref]}].")
            seen.setdefault(ref, index)
            refs.append(ref)
        return refs

    def biz_code(self, field: str, value: str) -> str:
        """An optional bizCode: empty, or 1-64 characters of [A-Za-z0-9_-]."""
        if value and not BIZ_CODE_PATTERN.match(value):
            self.add(field, "1-64 characters of A-Z, a-z, 0-9, '_' and '-'.")
        return value

    def request_id(self, value: str) -> str:
        """An optional AIP-155 request id: a UUID is best; 1-64 of [A-Za-z0-9._:-]."""
        if value and not REQUEST_ID_PATTERN.match(value):
            self.add(
                "request_id",
                "At most 64 characters of A-Z, a-z, 0-9, '.', '_', ':' and '-' (a UUID).",
            )
        return value

    def target_status(self, value: int) -> ReimburseStatus:
        """A status a reimburser may set: INIT, LOCK or CLOSURE."""
        status = status_from_proto(value)
        if status is None or status not in SETTABLE_STATUSES:
            self.add(
                "status",
                "Must be REIMBURSE_STATUS_INIT, _LOCK or _CLOSURE "
                "(CANCEL is set only by the issuer).",
            )
            return ReimburseStatus.INIT
        return status

    def purposes(self, values: Sequence[int]) -> set[int]:
        """SignJsapi's purposes: at least one, each known and asked for once."""
        known = {
            invoice_service_pb2.SIGN_PURPOSE_WX_CONFIG,
            invoice_service_pb2.SIGN_PURPOSE_CHOOSE_INVOICE,
        }
        if not values:
            self.add(
                "purposes", "Ask for SIGN_PURPOSE_WX_CONFIG and/or SIGN_PURPOSE_CHOOSE_INVOICE."
            )
        for index, value in enumerate(values):
            if value not in known:
                self.add(
                    f"purposes[{index}]",
                    "Must be SIGN_PURPOSE_WX_CONFIG or SIGN_PURPOSE_CHOOSE_INVOICE.",
                )
            elif value in list(values)[:index]:
                self.add(f"purposes[{index}]", "Asked for twice.")
        return set(values)

    def page_url(self, field: str, value: str) -> str:
        """The http(s) URL of the page calling wx.config."""
        try:
            parts = urlsplit(value) if len(value) <= MAX_URL_CHARS else None
        except ValueError:  # e.g. an unclosed "[" in the host
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            self.add(field, f"The page's full http(s) URL, at most {MAX_URL_CHARS} characters.")
        return value

    def time(self, message: Message, field: str) -> datetime | None:
        """An optional Timestamp field as an aware UTC datetime; None when unset."""
        if not message.HasField(field):
            return None
        value: timestamp_pb2.Timestamp = getattr(message, field)
        try:
            return value.ToDatetime(tzinfo=UTC)
        except (ValueError, OverflowError):
            self.add(field, "Not a valid time: years 0001 to 9999, nanos 0 to 999,999,999.")
            return None

    def duration(self, message: Message, field: str) -> timedelta | None:
        """An optional Duration field as a timedelta; None when unset or unreadable."""
        if not message.HasField(field):
            return None
        value: duration_pb2.Duration = getattr(message, field)
        try:
            return value.ToTimedelta()
        except (ValueError, OverflowError):
            self.add(field, "Not a valid duration.")
            return None

    def raise_if_any(self) -> None:
        if self.found:
            raise invalid_fields(self.found)
