"""The JSON the ledger stores domain values as: invoices, plans, outcomes.

The ledger keeps the domain's own form of an invoice (not WeChat's JSON, which it stores for
audits but never reads back), so it needs no WeChat parser. Every document carries a
version "v"; a reader accepts every version it ever wrote:

- v1: a line's "quantity" and "unit_price_fen" are JSON integers (null quantity: none).
- v2: they are decimal strings ("35.27", "345.5"), exact; "card_status" is WeChat's
  user_card_status ("" when it did not say). A v1 document reads as a v2 one without card
  status: its integers are exact decimals too.

WeChat's JSON stored beside it keeps its fractional numbers as decimal strings (json cannot
write a Decimal as a number without going through float).
"""

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fapiao_gateway.domain.import_sessions import ImportSession
from fapiao_gateway.domain.imports import ImportedInvoice, ImportResult
from fapiao_gateway.domain.intents import IntendedWrite, Plan
from fapiao_gateway.domain.invoice import CardStatus, Invoice, InvoiceLine, InvoiceRef
from fapiao_gateway.domain.status import ReimburseStatus
from fapiao_gateway.domain.status_changes import StatusChange

_INVOICE_VERSION = 2


def to_us(value: datetime) -> int:
    """A datetime as integer microseconds since the epoch (exact, ordered, indexable)."""
    return int(value.timestamp() * 1_000_000)


def from_us(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1_000_000, UTC)


def _time(value: datetime | None) -> int | None:
    return None if value is None else to_us(value)


def _untime(value: int | None) -> datetime | None:
    return None if value is None else from_us(value)


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _undecimal(value: str | int | None) -> Decimal | None:
    """v2's decimal string or v1's integer, exactly."""
    return None if value is None else Decimal(value)


def card_status_text(status: CardStatus | None) -> str:
    return status.value if status is not None else ""


def card_status_from_text(text: str | None) -> CardStatus | None:
    return CardStatus(text) if text else None


def invoice_document(invoice: Invoice) -> dict[str, Any]:
    """An invoice as a JSON-ready dict (the `document` column)."""
    return {
        "v": _INVOICE_VERSION,
        "card_id": invoice.ref.card_id,
        "encrypt_code": invoice.ref.encrypt_code,
        "openid": invoice.openid,
        "reimburse_status": invoice.reimburse_status.value,
        "invoice_type": invoice.invoice_type,
        "valid_from_us": _time(invoice.valid_from),
        "valid_until_us": _time(invoice.valid_until),
        "payee": invoice.payee,
        "card_detail": invoice.card_detail,
        "title": invoice.title,
        "total_fen": invoice.total_fen,
        "amount_without_tax_fen": invoice.amount_without_tax_fen,
        "tax_fen": invoice.tax_fen,
        "billing_time_us": _time(invoice.billing_time),
        "invoice_number": invoice.invoice_number,
        "invoice_code": invoice.invoice_code,
        "check_code": invoice.check_code,
        "lines": [
            {
                "name": line.name,
                "unit_price_fen": _decimal(line.unit_price_fen),
                "quantity": _decimal(line.quantity),
                "unit": line.unit,
                "amount_fen": line.amount_fen,
            }
            for line in invoice.lines
        ],
        "invoice_detail": invoice.invoice_detail,
        "pdf_url": invoice.pdf_url,
        "trip_pdf_url": invoice.trip_pdf_url,
        "order_id": invoice.order_id,
        "buyer_tax_number": invoice.buyer_tax_number,
        "buyer_address_and_phone": invoice.buyer_address_and_phone,
        "buyer_bank_account": invoice.buyer_bank_account,
        "seller_tax_number": invoice.seller_tax_number,
        "seller_address_and_phone": invoice.seller_address_and_phone,
        "seller_bank_account": invoice.seller_bank_account,
        "remarks": invoice.remarks,
        "cashier": invoice.cashier,
        "maker": invoice.maker,
        "card_status": card_status_text(invoice.card_status),
    }


def invoice_from_document(doc: Mapping[str, Any]) -> Invoice:
    """The invoice an `invoice_document` of any version describes."""
    if doc.get("v", 1) not in (1, 2):
        raise ValueError(f"invoice document version {doc.get('v')!r} is newer than this gateway")
    return Invoice(
        ref=InvoiceRef(doc["card_id"], doc["encrypt_code"]),
        openid=doc["openid"],
        reimburse_status=ReimburseStatus(doc["reimburse_status"]),
        invoice_type=doc["invoice_type"],
        valid_from=_untime(doc["valid_from_us"]),
        valid_until=_untime(doc["valid_until_us"]),
        payee=doc["payee"],
        card_detail=doc["card_detail"],
        title=doc["title"],
        total_fen=doc["total_fen"],
        amount_without_tax_fen=doc["amount_without_tax_fen"],
        tax_fen=doc["tax_fen"],
        billing_time=_untime(doc["billing_time_us"]),
        invoice_number=doc["invoice_number"],
        invoice_code=doc["invoice_code"],
        check_code=doc["check_code"],
        lines=tuple(
            InvoiceLine(
                name=line["name"],
                unit_price_fen=Decimal(line["unit_price_fen"]),
                quantity=_undecimal(line["quantity"]),
                unit=line["unit"],
                amount_fen=line["amount_fen"],
            )
            for line in doc["lines"]
        ),
        invoice_detail=doc["invoice_detail"],
        pdf_url=doc["pdf_url"],
        trip_pdf_url=doc["trip_pdf_url"],
        order_id=doc["order_id"],
        buyer_tax_number=doc["buyer_tax_number"],
        buyer_address_and_phone=doc["buyer_address_and_phone"],
        buyer_bank_account=doc["buyer_bank_account"],
        seller_tax_number=doc["seller_tax_number"],
        seller_address_and_phone=doc["seller_address_and_phone"],
        seller_bank_account=doc["seller_bank_account"],
        remarks=doc["remarks"],
        cashier=doc["cashier"],
        maker=doc["maker"],
        card_status=card_status_from_text(doc.get("card_status")),
    )


def _exact(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError(f"{type(value).__name__} is not JSON")


def dumps(value: Any) -> str:
    """Compact JSON; a Decimal (a fractional number from WeChat) as its exact decimal text."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_exact)


def _ref(ref: InvoiceRef) -> dict[str, str]:
    return {"card_id": ref.card_id, "encrypt_code": ref.encrypt_code}


def _unref(data: Mapping[str, str]) -> InvoiceRef:
    return InvoiceRef(data["card_id"], data["encrypt_code"])


def plan_json(plan: Plan) -> str:
    return dumps(
        {
            "target": plan.target.value,
            "openid": plan.openid,
            "biz_code": plan.biz_code,
            "writes": [
                {**_ref(w.ref), "before": w.before.value if w.before else ""} for w in plan.writes
            ],
        }
    )


def plan_from_json(text: str) -> Plan | None:
    if not text:
        return None
    data = json.loads(text)
    return Plan(
        target=ReimburseStatus(data["target"]),
        openid=data["openid"],
        biz_code=data["biz_code"],
        writes=tuple(
            IntendedWrite(_unref(w), ReimburseStatus(w["before"]) if w["before"] else None)
            for w in data["writes"]
        ),
    )


def changes_json(changes: Sequence[StatusChange]) -> str:
    return dumps(
        [
            {
                **_ref(c.ref),
                "previous": c.previous.value if c.previous else "",
                "status": c.status.value,
                "change_time_us": to_us(c.change_time),
            }
            for c in changes
        ]
    )


def changes_from_json(text: str) -> tuple[StatusChange, ...]:
    return tuple(
        StatusChange(
            _unref(c),
            ReimburseStatus(c["previous"]) if c["previous"] else None,
            ReimburseStatus(c["status"]),
            from_us(c["change_time_us"]),
        )
        for c in json.loads(text)
    )


def _imported(item: ImportedInvoice) -> dict[str, Any]:
    return {
        "invoice": invoice_document(item.invoice),
        "account": item.account,
        "biz_code": item.biz_code,
        "imported_by": item.imported_by,
        "import_time_us": to_us(item.import_time),
        "update_time_us": to_us(item.update_time),
    }


def _unimported(data: Mapping[str, Any]) -> ImportedInvoice:
    return ImportedInvoice(
        invoice=invoice_from_document(data["invoice"]),
        account=data["account"],
        biz_code=data["biz_code"],
        imported_by=data["imported_by"],
        import_time=from_us(data["import_time_us"]),
        update_time=from_us(data["update_time_us"]),
    )


def import_result_json(result: ImportResult) -> str:
    return dumps({"biz_code": result.biz_code, "invoices": [_imported(i) for i in result.invoices]})


def import_result_from_json(text: str) -> ImportResult:
    data = json.loads(text)
    return ImportResult(data["biz_code"], tuple(_unimported(i) for i in data["invoices"]))


def session_json(session: ImportSession) -> str:
    return dumps(
        {
            "account": session.account,
            "biz_code": session.biz_code,
            "issued_by": session.issued_by,
            "url": session.url,
            "expire_time_us": to_us(session.expire_time),
        }
    )


def session_from_json(text: str) -> ImportSession:
    data = json.loads(text)
    return ImportSession(
        account=data["account"],
        biz_code=data["biz_code"],
        issued_by=data["issued_by"],
        url=data["url"],
        expire_time=from_us(data["expire_time_us"]),
    )
