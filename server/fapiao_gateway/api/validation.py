"""Checks on request fields, collecting every violation so the caller fixes them in one go."""

from fapiao.v1 import invoice_pb2

from fapiao_gateway.domain.errors import FieldViolation, invalid_fields
from fapiao_gateway.domain.invoice import InvoiceRef

#: Longest values accepted (WeChat's are far shorter; these stop abuse, not real data).
MAX_ACCOUNT_CHARS = 64
MAX_CARD_ID_CHARS = 128
MAX_ENCRYPT_CODE_CHARS = 512


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

    def raise_if_any(self) -> None:
        if self.found:
            raise invalid_fields(self.found)
