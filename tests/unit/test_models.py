"""Parsing WeChat's invoice JSON, quirks included."""

import json
from decimal import Decimal

import pytest
from fapiao_gateway.domain.invoice import CardStatus
from fapiao_gateway.domain.status import ReimburseStatus
from fapiao_gateway.wechat.models import InvoiceInfo, TicketReply, TokenReply
from pydantic import ValidationError


def info(**user_info: object) -> dict:
    return {
        "card_id": "pCard",
        "openid": "oUser",
        "user_info": {"reimburse_status": "INVOICE_REIMBURSE_LOCK", "fee": 100, **user_info},
    }


@pytest.mark.parametrize("empty", [None, "", "absent"])
def test_optional_text_absent_null_or_empty_is_empty(empty: object) -> None:
    raw = info() if empty == "absent" else info(remarks=empty, buyer_number=empty)
    invoice = InvoiceInfo.model_validate(raw).to_domain("code")
    assert invoice.remarks == "" and invoice.buyer_tax_number == ""


def test_amounts_are_integer_fen_and_fractions_are_refused() -> None:
    assert InvoiceInfo.model_validate(info(fee="1100")).to_domain("c").total_fen == 1100
    assert InvoiceInfo.model_validate(info(fee=1100.0)).to_domain("c").total_fen == 1100
    with pytest.raises(ValidationError):
        InvoiceInfo.model_validate(info(fee=11.5))


def test_lines_keep_negative_and_zero_prices_and_null_quantities() -> None:
    raw = info(
        info=[
            {"name": "a", "price": -5099, "num": None, "unit": None},
            {"name": "b", "price": 0, "num": 2, "fee": 0},
        ]
    )
    lines = InvoiceInfo.model_validate(raw).to_domain("c").lines
    assert [(ln.unit_price_fen, ln.quantity, ln.unit, ln.amount_fen) for ln in lines] == [
        (Decimal(-5099), None, "", None),
        (Decimal(0), Decimal(2), "", 0),
    ]


def test_quantities_and_unit_prices_are_exact_from_numbers_or_strings() -> None:
    # As upstream.py parses a reply: fractional JSON numbers become Decimals, never floats.
    body = (
        '{"card_id": "pCard", "user_info": {"reimburse_status": "INVOICE_REIMBURSE_INIT",'
        ' "info": [{"name": "92号汽油", "num": 35.27, "unit": "升", "price": 734.5, "fee": 25906},'
        ' {"name": "电费", "num": "1.5", "price": "0.1", "fee": 0},'
        ' {"name": "燃气", "num": 0.30000000000000004, "price": 1e2}]}}'
    )
    raw = json.loads(body, parse_float=Decimal)
    lines = InvoiceInfo.model_validate(raw).to_domain("c").lines
    assert [(str(ln.quantity), str(ln.unit_price_fen)) for ln in lines] == [
        ("35.27", "734.5"),
        ("1.5", "0.1"),
        ("0.30000000000000004", "1E+2"),
    ]
    assert lines[0].amount_fen == 25906


@pytest.mark.parametrize("bad", [1.5, "1,5", "abc", True, "NaN", Decimal("Infinity"), [1]])
def test_a_quantity_that_is_not_an_exact_number_is_refused(bad: object) -> None:
    with pytest.raises(ValidationError):
        InvoiceInfo.model_validate(info(info=[{"name": "x", "price": 1, "num": bad}]))


def test_a_fractional_line_amount_is_refused() -> None:
    with pytest.raises(ValidationError):
        InvoiceInfo.model_validate(info(info=[{"name": "x", "price": 1, "fee": Decimal("1.5")}]))


@pytest.mark.parametrize(
    ("sent", "read"),
    [("EXPIRE", CardStatus.EXPIRE), ("NORMAL", CardStatus.NORMAL), ("", None), (None, None)],
)
def test_the_card_status_is_read(sent: object, read: CardStatus | None) -> None:
    raw = {**info(), "user_card_status": sent}
    assert InvoiceInfo.model_validate(raw).to_domain("c").card_status is read


def test_an_unknown_card_status_is_logged_not_fatal(caplog: pytest.LogCaptureFixture) -> None:
    raw = {**info(), "user_card_status": "SOMETHING_NEW"}
    assert InvoiceInfo.model_validate(raw).to_domain("c").card_status is None
    assert "SOMETHING_NEW" in caplog.text


def test_null_line_list_is_empty() -> None:
    assert InvoiceInfo.model_validate(info(info=None)).to_domain("c").lines == ()


def test_status_with_a_leading_space_key_is_accepted() -> None:
    raw = info()
    raw["user_info"] = {" reimburse_status": "INVOICE_REIMBURSE_INIT"}
    assert InvoiceInfo.model_validate(raw).to_domain("c").reimburse_status is ReimburseStatus.INIT


def test_missing_or_unknown_status_is_refused() -> None:
    raw = info()
    del raw["user_info"]["reimburse_status"]
    with pytest.raises(ValidationError):
        InvoiceInfo.model_validate(raw)
    with pytest.raises(ValidationError):
        InvoiceInfo.model_validate(info(reimburse_status="INVOICE_REIMBURSE_SOMETHING"))


def test_times_are_utc_and_billing_date_is_china_local() -> None:
    # 2018-11-08 23:30 UTC is already 2018-11-09 in China.
    invoice = InvoiceInfo.model_validate(
        {**info(billing_time=1541719800), "begin_time": 0}
    ).to_domain("c")
    assert (
        invoice.billing_time is not None
        and invoice.billing_time.isoformat() == "2018-11-08T23:30:00+00:00"
    )
    assert invoice.billing_date == "2018-11-09"
    assert invoice.valid_from is None


def test_pdf_urls_are_trimmed() -> None:
    assert (
        InvoiceInfo.model_validate(info(pdf_url=" http://pdfurl")).to_domain("c").pdf_url
        == "http://pdfurl"
    )


def test_encrypt_code_comes_from_the_request() -> None:
    invoice = InvoiceInfo.model_validate(info()).to_domain("abc=")
    assert (invoice.ref.card_id, invoice.ref.encrypt_code) == ("pCard", "abc=")


def test_empty_tokens_and_tickets_are_refused() -> None:
    with pytest.raises(ValidationError):
        TokenReply.model_validate({"access_token": "", "expires_in": 7200})
    with pytest.raises(ValidationError):
        TicketReply.model_validate({"errcode": 0, "ticket": "", "expires_in": 7200})
