"""Pydantic models of WeChat's JSON, tolerant of the quirks seen in the wild.

- Optional fields arrive absent, null or "": all three parse, as "" (or None for numbers).
- Totals (fee, fee_without_tax, tax, a line's fee) are integers in fen; a fractional one is
  refused, never rounded.
- A line's quantity (num) and unit price (price, in fen) are exact decimals, from a JSON
  number or a string ("35.27"): replies are parsed with json.loads(parse_float=Decimal)
  (wechat/upstream.py), so no float ever holds them; a float here is refused as a bug.
- reimburse_status sits inside user_info (one sample even spells the key with a leading
  space, which is accepted too); user_card_status sits at the top level.
"""

import logging
import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, field_validator

from fapiao_gateway.domain.invoice import CardStatus, Invoice, InvoiceLine, InvoiceRef, from_unix
from fapiao_gateway.domain.status import ReimburseStatus

log = logging.getLogger("fapiao_gateway.wechat")

#: A decimal number as text: what WeChat may send a quantity or price as.
_DECIMAL_TEXT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _none_to_empty(value: Any) -> Any:
    return "" if value is None else value


def _blank_to_none(value: Any) -> Any:
    return None if value in ("", None) else value


def _integral(value: Any) -> Any:
    """Accepts 1100, "1100" and 1100.0; refuses 11.5 (money is never fractional fen)."""
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return value


def exact_decimal(value: Any) -> Any:
    """A quantity or price as an exact Decimal: from an integer, a Decimal (a JSON number
    parsed exactly) or decimal text; None for absent, null or "". Refuses floats (they have
    already lost digits), NaN, infinities and anything else."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str) and _DECIMAL_TEXT.fullmatch(value.strip()):
        value = Decimal(value.strip())
    if isinstance(value, Decimal) and value.is_finite():
        return value
    if isinstance(value, float):
        raise ValueError("a float cannot hold a quantity or price exactly; parse with Decimal")
    raise ValueError("not a decimal number")


def _card_status(value: Any) -> CardStatus | None:
    """user_card_status; a value this version does not know is logged and left unknown
    (None) rather than failing the whole invoice."""
    if value in ("", None):
        return None
    try:
        return CardStatus(value)
    except ValueError:
        log.warning("WeChat sent a user_card_status the gateway does not know: %r", value)
        return None


Text = Annotated[str, BeforeValidator(_none_to_empty)]
Fen = Annotated[StrictInt, BeforeValidator(_integral)]
OptFen = Annotated[StrictInt | None, BeforeValidator(_blank_to_none), BeforeValidator(_integral)]
Seconds = Annotated[StrictInt, BeforeValidator(lambda v: 0 if v in ("", None) else _integral(v))]
Exact = Annotated[Decimal, BeforeValidator(exact_decimal)]
OptExact = Annotated[Decimal | None, BeforeValidator(exact_decimal)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Envelope(_Model):
    """Every WeChat reply: errcode 0 is success. Token replies carry no errcode at all."""

    errcode: StrictInt | None = None
    errmsg: Text = ""


class TokenReply(_Model):
    """cgi-bin/token and cgi-bin/stable_token."""

    access_token: str = Field(min_length=1)
    expires_in: StrictInt = Field(gt=0)


class TicketReply(_Model):
    """cgi-bin/ticket/getticket. An empty ticket is refused: it must never be cached."""

    ticket: str = Field(min_length=1)
    expires_in: StrictInt = Field(gt=0)


class InfoLine(_Model):
    """user_info.info[]: one line item."""

    name: Text = ""
    num: OptExact = None
    unit: Text = ""
    price: Exact = Decimal(0)
    fee: OptFen = None


class UserInfo(_Model):
    """user_info: the invoice proper."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    fee: Fen = 0
    title: Text = ""
    billing_time: Seconds = 0
    billing_no: Text = ""
    billing_code: Text = ""
    info: list[InfoLine] = Field(default_factory=list)
    fee_without_tax: Fen = 0
    tax: Fen = 0
    detail: Text = ""
    pdf_url: Text = ""
    trip_pdf_url: Text = ""
    reimburse_status: ReimburseStatus
    check_code: Text = ""
    order_id: Text = ""
    buyer_number: Text = ""
    buyer_address_and_phone: Text = ""
    buyer_bank_account: Text = ""
    seller_number: Text = ""
    seller_address_and_phone: Text = ""
    seller_bank_account: Text = ""
    remarks: Text = ""
    cashier: Text = ""
    maker: Text = ""

    @field_validator("info", mode="before")
    @classmethod
    def _null_list(cls, value: Any) -> Any:
        return [] if value in (None, "") else value

    @classmethod
    def model_validate_wechat(cls, raw: Any) -> "UserInfo":
        """Validates user_info, accepting the " reimburse_status" key seen in a WeChat sample."""
        if isinstance(raw, dict) and "reimburse_status" not in raw and " reimburse_status" in raw:
            raw = {**raw, "reimburse_status": raw[" reimburse_status"]}
        return cls.model_validate(raw)


class InvoiceInfo(_Model):
    """getinvoiceinfo's reply (and each item of getinvoicebatch's item_list)."""

    card_id: str = Field(min_length=1)
    begin_time: Seconds = 0
    end_time: Seconds = 0
    openid: Text = ""
    type: Text = ""
    payee: Text = ""
    detail: Text = ""
    user_card_status: Annotated[CardStatus | None, BeforeValidator(_card_status)] = None
    user_info: UserInfo

    @field_validator("user_info", mode="before")
    @classmethod
    def _user_info(cls, value: Any) -> Any:
        return UserInfo.model_validate_wechat(value) if isinstance(value, dict) else value

    def to_domain(self, encrypt_code: str) -> Invoice:
        """The domain invoice. WeChat does not echo encrypt_code, so the caller supplies it."""
        user = self.user_info
        return Invoice(
            ref=InvoiceRef(self.card_id, encrypt_code),
            openid=self.openid,
            reimburse_status=user.reimburse_status,
            invoice_type=self.type,
            valid_from=from_unix(self.begin_time),
            valid_until=from_unix(self.end_time),
            payee=self.payee,
            card_detail=self.detail,
            title=user.title,
            total_fen=user.fee,
            amount_without_tax_fen=user.fee_without_tax,
            tax_fen=user.tax,
            billing_time=from_unix(user.billing_time),
            invoice_number=user.billing_no,
            invoice_code=user.billing_code,
            check_code=user.check_code,
            lines=tuple(
                InvoiceLine(
                    name=line.name,
                    unit_price_fen=line.price,
                    quantity=line.num,
                    unit=line.unit,
                    amount_fen=line.fee,
                )
                for line in user.info
            ),
            invoice_detail=user.detail,
            pdf_url=user.pdf_url.strip(),
            trip_pdf_url=user.trip_pdf_url.strip(),
            order_id=user.order_id,
            buyer_tax_number=user.buyer_number,
            buyer_address_and_phone=user.buyer_address_and_phone,
            buyer_bank_account=user.buyer_bank_account,
            seller_tax_number=user.seller_number,
            seller_address_and_phone=user.seller_address_and_phone,
            seller_bank_account=user.seller_bank_account,
            remarks=user.remarks,
            cashier=user.cashier,
            maker=user.maker,
            card_status=self.user_card_status,
        )
