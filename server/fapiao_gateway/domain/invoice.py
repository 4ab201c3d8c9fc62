"""The invoice as the gateway's use cases see it: WeChat's data, typed, in fen and UTC.

Totals (fee, tax) are integer fen. A line's quantity and unit price are exact decimals: fuel,
electricity and gas are sold in fractional quantities (35.27 升) at unit prices with
fractions of a fen, and a float would change them.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum
from typing import Any

from fapiao_gateway.domain.status import ReimburseStatus

#: China Standard Time: WeChat's billing_time is a unix instant whose business date is UTC+8.
CHINA_TZ = timezone(timedelta(hours=8), "CST")


@dataclass(frozen=True, slots=True)
class InvoiceRef:
    """An invoice's identity in WeChat: neither half means anything alone."""

    card_id: str
    encrypt_code: str


class CardStatus(StrEnum):
    """The state of the invoice's card in the user's card package (卡包): WeChat's
    user_card_status, spelled as WeChat spells it (the values of WeChat's card API, as
    public SDKs such as WxJava document them). Independent of the reimbursement status."""

    NORMAL = "NORMAL"
    EXPIRE = "EXPIRE"  # the card's validity period has ended
    GIFTING = "GIFTING"  # being given to another user
    GIFT_SUCC = "GIFT_SUCC"  # given to another user: no longer this user's
    GIFT_TIMEOUT = "GIFT_TIMEOUT"  # a gift not accepted in time: back with the user
    DELETE = "DELETE"  # deleted from the card package by the user
    UNAVAILABLE = "UNAVAILABLE"  # made unusable (e.g. withdrawn by the issuer)


#: Card states in which an invoice is not the user's to reimburse (ImportInvoices refuses).
UNUSABLE_CARD_STATUSES = frozenset(
    {
        CardStatus.EXPIRE,
        CardStatus.GIFTING,
        CardStatus.GIFT_SUCC,
        CardStatus.DELETE,
        CardStatus.UNAVAILABLE,
    }
)


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One line item. Prices may be zero or negative (discount lines); the unit price is in
    fen and may have fractions of a fen; the quantity may be fractional."""

    name: str
    unit_price_fen: Decimal
    quantity: Decimal | None = None
    unit: str = ""
    amount_fen: int | None = None


@dataclass(frozen=True, slots=True)
class Invoice:
    """An e-invoice as WeChat reports it. Missing optional text is ""; money is integer fen."""

    ref: InvoiceRef
    openid: str
    reimburse_status: ReimburseStatus
    invoice_type: str = ""
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    payee: str = ""
    card_detail: str = ""
    title: str = ""
    total_fen: int = 0
    amount_without_tax_fen: int = 0
    tax_fen: int = 0
    billing_time: datetime | None = None
    invoice_number: str = ""
    invoice_code: str = ""
    check_code: str = ""
    lines: tuple[InvoiceLine, ...] = field(default_factory=tuple)
    invoice_detail: str = ""
    pdf_url: str = ""
    trip_pdf_url: str = ""
    order_id: str = ""
    buyer_tax_number: str = ""
    buyer_address_and_phone: str = ""
    buyer_bank_account: str = ""
    seller_tax_number: str = ""
    seller_address_and_phone: str = ""
    seller_bank_account: str = ""
    remarks: str = ""
    cashier: str = ""
    maker: str = ""
    #: The card's state in the user's card package; None when WeChat did not say.
    card_status: CardStatus | None = None

    @property
    def billing_date(self) -> str:
        """The issue date printed on the invoice: billing_time's calendar day in UTC+8."""
        if self.billing_time is None:
            return ""
        return self.billing_time.astimezone(CHINA_TZ).date().isoformat()


def from_unix(seconds: int) -> datetime | None:
    """WeChat's 10-digit unix seconds as an aware UTC datetime; 0 (absent) as None."""
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


@dataclass(frozen=True, slots=True)
class LookupFailure:
    """Why one invoice of a batch read has no data (GetInvoices reports it in its slot)."""

    reason: str
    message: str
    wechat_errcode: int = 0


@dataclass(frozen=True, slots=True)
class FetchedInvoice:
    """An invoice as just read from WeChat, with the JSON it came as (the ledger keeps that
    verbatim for audits; nothing reads it back)."""

    invoice: Invoice
    raw: Mapping[str, Any] = field(default_factory=dict)
    #: When the read was sent (unix microseconds, domain.context.wall_clock_us): a ledger row
    #: changed since then may be newer than what the read saw.
    read_at_us: int | None = None
