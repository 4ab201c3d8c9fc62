"""Checks on request fields, collecting every violation so the caller fixes them in one go."""

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from fapiao.v1 import invoice_pb2, invoice_service_pb2
from google.protobuf import duration_pb2, timestamp_pb2
from google.protobuf.message import Message

from fapiao_gateway.api.convert import status_from_proto
from fapiao_gateway.domain.accounts import Platform
from fapiao_gateway.domain.errors import FieldViolation, invalid_fields
from fapiao_gateway.domain.imports import BIZ_CODE_PATTERN
from fapiao_gateway.domain.invoice import InvoiceRef
from fapiao_gateway.domain.status import SETTABLE_STATUSES, ReimburseStatus

# Matched with fullmatch: "$" would let a trailing newline through.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,64}")
NONCE_PATTERN = re.compile(r"[A-Za-z0-9]{1,32}")

#: Longest values accepted (WeChat's are far shorter; these stop abuse, not real data).
MAX_ACCOUNT_CHARS = 64
MAX_CARD_ID_CHARS = 128
MAX_ENCRYPT_CODE_CHARS = 512
MAX_URL_CHARS = 2048
#: Most violations listed for one repeated field: the rest are summed up in one more.
MAX_VIOLATIONS_PER_FIELD = 20


class Violations:
    """Collects field violations; `raise_if_any` raises one INVALID_ARGUMENT with all of them."""

    def __init__(self) -> None:
        self.found: list[FieldViolation] = []

    def add(self, field: str, description: str) -> None:
        self.found.append(FieldViolation(field, description))

    def text(self, field: str, value: str, *, max_chars: int) -> str:
        """A required string field: present, not blank, not too long."""
        if len(value) > max_chars:
            self.add(field, f"At most {max_chars} characters; got {len(value)}.")
        elif not value.strip():
            self.add(field, "Required; must not be empty.")
        return value

    def optional_text(self, field: str, value: str, *, max_chars: int) -> str:
        """An optional string field: empty, or not too long."""
        if len(value) > max_chars:
            self.add(field, f"At most {max_chars} characters; got {len(value)}.")
        return value

    def texts(
        self, field: str, values: Sequence[str], *, max_items: int, max_chars: int = 64
    ) -> None:
        """A repeated string filter: at most `max_items` values of at most `max_chars`."""
        if len(values) > max_items:
            self.add(field, f"At most {max_items} values; got {len(values)}.")
            return
        long = [i for i, v in enumerate(values) if len(v) > max_chars]
        for index in long[:MAX_VIOLATIONS_PER_FIELD]:
            self.add(f"{field}[{index}]", f"At most {max_chars} characters.")
        self._summarise(field, len(long))

    def _summarise(self, field: str, found: int) -> None:
        if found > MAX_VIOLATIONS_PER_FIELD:
            self.add(field, f"{found - MAX_VIOLATIONS_PER_FIELD} more values are invalid too.")

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
        before = len(self.found)
        for index, message in enumerate(messages):
            ref = self.ref(f"{field}[{index}]", message, present=True)
            if ref in seen and ref.card_id and ref.encrypt_code:
                self.add(f"{field}[{index}]", f"Duplicate of {field}[{seen[ref]}].")
            seen.setdefault(ref, index)
            refs.append(ref)
        found = len(self.found) - before
        if found > MAX_VIOLATIONS_PER_FIELD:
            del self.found[before + MAX_VIOLATIONS_PER_FIELD :]
            self._summarise(field, found)
        return refs

    def biz_code(self, field: str, value: str) -> str:
        """An optional bizCode: empty, or 1-64 characters of [A-Za-z0-9_-]."""
        if value and not BIZ_CODE_PATTERN.fullmatch(value):
            self.add(field, "1-64 characters of A-Z, a-z, 0-9, '_' and '-'.")
        return value

    def request_id(self, value: str) -> str:
        """An optional AIP-155 request id: a UUID is best; 1-64 of [A-Za-z0-9._:-]."""
        if value and not REQUEST_ID_PATTERN.fullmatch(value):
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

    def purposes(self, values: Sequence[int], *, platform: Platform) -> set[int]:
        """SignJsapi's purposes: at least one, each known, asked for once, and one the
        account's kind has a ticket for (wx.agentConfig is Weixin Work's alone)."""
        names = {
            invoice_service_pb2.SIGN_PURPOSE_WX_CONFIG: "SIGN_PURPOSE_WX_CONFIG",
            invoice_service_pb2.SIGN_PURPOSE_CHOOSE_INVOICE: "SIGN_PURPOSE_CHOOSE_INVOICE",
            invoice_service_pb2.SIGN_PURPOSE_AGENT_CONFIG: "SIGN_PURPOSE_AGENT_CONFIG",
        }
        if not values:
            self.add("purposes", f"Ask for one or more of {', '.join(names.values())}.")
        if len(values) > len(names):
            self.add("purposes", f"At most {len(names)} purposes, each once; got {len(values)}.")
            return set()
        seen: set[int] = set()
        for index, value in enumerate(values):
            if value not in names:
                self.add(f"purposes[{index}]", f"Must be one of {', '.join(names.values())}.")
            elif value in seen:
                self.add(f"purposes[{index}]", "Asked for twice.")
            elif (
                value == invoice_service_pb2.SIGN_PURPOSE_AGENT_CONFIG
                and platform is not Platform.WORK
            ):
                self.add(
                    f"purposes[{index}]",
                    "SIGN_PURPOSE_AGENT_CONFIG (wx.agentConfig) is for Weixin Work accounts; "
                    f"this account is {platform.value}.",
                )
            seen.add(value)
        return seen

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
