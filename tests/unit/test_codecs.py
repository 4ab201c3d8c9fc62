"""The ledger's invoice documents: v2 keeps decimals exactly; v1 documents still read."""

import json
from decimal import Decimal

import pytest
from fapiao_gateway.domain.invoice import CardStatus, Invoice, InvoiceLine, InvoiceRef
from fapiao_gateway.domain.status import ReimburseStatus
from fapiao_gateway.ledger.codecs import dumps, invoice_document, invoice_from_document

FUEL = Invoice(
    ref=InvoiceRef("pCard", "code="),
    openid="oUser",
    reimburse_status=ReimburseStatus.INIT,
    total_fen=25926,
    lines=(
        InvoiceLine("汽油", Decimal("650.5"), Decimal("35.27"), "升", 22943),
        InvoiceLine("折扣", Decimal("-100"), None, "", None),
    ),
    card_status=CardStatus.NORMAL,
)


def test_a_v2_document_round_trips_exactly_through_json() -> None:
    stored = dumps(invoice_document(FUEL))
    assert '"quantity":"35.27"' in stored and '"unit_price_fen":"650.5"' in stored
    assert invoice_from_document(json.loads(stored)) == FUEL


def test_a_v1_document_reads_with_its_integers_as_exact_decimals() -> None:
    doc = invoice_document(FUEL)
    doc["v"] = 1
    del doc["card_status"]
    doc["lines"] = [
        {"name": "牙膏", "unit_price_fen": 677, "quantity": 2, "unit": "支", "amount_fen": 1354},
        {"name": "奶粉", "unit_price_fen": -5099, "quantity": None, "unit": "", "amount_fen": None},
    ]
    invoice = invoice_from_document(json.loads(json.dumps(doc)))
    assert [(ln.quantity, ln.unit_price_fen) for ln in invoice.lines] == [
        (Decimal(2), Decimal(677)),
        (None, Decimal(-5099)),
    ]
    assert invoice.card_status is None


def test_a_document_from_a_newer_gateway_is_refused() -> None:
    doc = {**invoice_document(FUEL), "v": 3}
    with pytest.raises(ValueError, match="newer"):
        invoice_from_document(doc)


def test_wechat_json_keeps_its_fractional_numbers_as_exact_text() -> None:
    assert dumps({"num": Decimal("0.30000000000000004")}) == '{"num":"0.30000000000000004"}'
