"""Domain objects to protobuf messages and back. The only place both kinds meet."""

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from fapiao.v1 import invoice_pb2, invoice_service_pb2
from google.protobuf import timestamp_pb2

from fapiao_gateway.domain.documents import PDF_CONTENT_TYPE, DocumentKind, DocumentRecord
from fapiao_gateway.domain.imports import ImportedInvoice
from fapiao_gateway.domain.invoice import (
    CardStatus,
    Invoice,
    InvoiceLine,
    InvoiceRef,
    LookupFailure,
)
from fapiao_gateway.domain.status import ReimburseStatus
from fapiao_gateway.domain.status_changes import AuditAction, AuditEntry, Drift, StatusChange

_STATUS_TO_PROTO = {
    ReimburseStatus.INIT: invoice_pb2.REIMBURSE_STATUS_INIT,
    ReimburseStatus.LOCK: invoice_pb2.REIMBURSE_STATUS_LOCK,
    ReimburseStatus.CLOSURE: invoice_pb2.REIMBURSE_STATUS_CLOSURE,
    ReimburseStatus.CANCEL: invoice_pb2.REIMBURSE_STATUS_CANCEL,
}
_STATUS_FROM_PROTO = {v: k for k, v in _STATUS_TO_PROTO.items()}


def status_to_proto(status: ReimburseStatus) -> "invoice_pb2.ReimburseStatus.ValueType":
    return _STATUS_TO_PROTO[status]


def status_from_proto(value: int) -> ReimburseStatus | None:
    """The domain status, or None for UNSPECIFIED and unknown numbers."""
    for proto_value, status in _STATUS_FROM_PROTO.items():
        if proto_value == value:
            return status
    return None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def timestamp(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    """An aware datetime as a Timestamp, in exact integers (Timestamp.FromDatetime goes
    through a time tuple and costs several times more: every invoice has three)."""
    if value is None:
        return None
    if value.tzinfo is None:  # naive means UTC, as FromDatetime reads it
        value = value.replace(tzinfo=UTC)
    since = value - _EPOCH
    return timestamp_pb2.Timestamp(
        seconds=since.days * 86_400 + since.seconds, nanos=since.microseconds * 1000
    )


def ref_to_proto(ref: InvoiceRef) -> invoice_pb2.InvoiceRef:
    return invoice_pb2.InvoiceRef(card_id=ref.card_id, encrypt_code=ref.encrypt_code)


def ref_from_proto(message: invoice_pb2.InvoiceRef) -> InvoiceRef:
    return InvoiceRef(card_id=message.card_id, encrypt_code=message.encrypt_code)


_CARD_STATUS_TO_PROTO = {
    CardStatus.NORMAL: invoice_pb2.CARD_STATUS_NORMAL,
    CardStatus.EXPIRE: invoice_pb2.CARD_STATUS_EXPIRED,
    CardStatus.GIFTING: invoice_pb2.CARD_STATUS_GIFTING,
    CardStatus.GIFT_SUCC: invoice_pb2.CARD_STATUS_GIFTED,
    CardStatus.GIFT_TIMEOUT: invoice_pb2.CARD_STATUS_GIFT_TIMEOUT,
    CardStatus.DELETE: invoice_pb2.CARD_STATUS_DELETED,
    CardStatus.UNAVAILABLE: invoice_pb2.CARD_STATUS_UNAVAILABLE,
}


def card_status_to_proto(status: CardStatus | None) -> "invoice_pb2.CardStatus.ValueType":
    if status is None:
        return invoice_pb2.CARD_STATUS_UNSPECIFIED
    return _CARD_STATUS_TO_PROTO[status]


def decimal_text(value: Decimal) -> str:
    """google.type.Decimal's format: plain digits, never an exponent ("1E+1" is "10")."""
    return format(value, "f")


def _whole(value: Decimal) -> int | None:
    return int(value) if value == value.to_integral_value() else None


def _line(line: InvoiceLine) -> invoice_pb2.InvoiceLine:
    return invoice_pb2.InvoiceLine(
        name=line.name,
        quantity=_whole(line.quantity) if line.quantity is not None else None,
        unit=line.unit,
        unit_price_fen=int(line.unit_price_fen.to_integral_value(ROUND_HALF_UP)),
        amount_fen=line.amount_fen,
        quantity_decimal=decimal_text(line.quantity) if line.quantity is not None else "",
        unit_price_fen_decimal=decimal_text(line.unit_price_fen),
    )


def invoice_to_proto(invoice: Invoice) -> invoice_pb2.Invoice:
    return invoice_pb2.Invoice(
        ref=ref_to_proto(invoice.ref),
        openid=invoice.openid,
        reimburse_status=status_to_proto(invoice.reimburse_status),
        invoice_type=invoice.invoice_type,
        valid_from=timestamp(invoice.valid_from),
        valid_until=timestamp(invoice.valid_until),
        payee=invoice.payee,
        card_detail=invoice.card_detail,
        title=invoice.title,
        total_fen=invoice.total_fen,
        amount_without_tax_fen=invoice.amount_without_tax_fen,
        tax_fen=invoice.tax_fen,
        billing_time=timestamp(invoice.billing_time),
        billing_date=invoice.billing_date,
        invoice_number=invoice.invoice_number,
        invoice_code=invoice.invoice_code,
        check_code=invoice.check_code,
        lines=[_line(line) for line in invoice.lines],
        invoice_detail=invoice.invoice_detail,
        pdf_url=invoice.pdf_url,
        trip_pdf_url=invoice.trip_pdf_url,
        order_id=invoice.order_id,
        buyer_tax_number=invoice.buyer_tax_number,
        buyer_address_and_phone=invoice.buyer_address_and_phone,
        buyer_bank_account=invoice.buyer_bank_account,
        seller_tax_number=invoice.seller_tax_number,
        seller_address_and_phone=invoice.seller_address_and_phone,
        seller_bank_account=invoice.seller_bank_account,
        remarks=invoice.remarks,
        cashier=invoice.cashier,
        maker=invoice.maker,
        card_status=card_status_to_proto(invoice.card_status),
    )


def imported_to_proto(imported: ImportedInvoice) -> invoice_pb2.ImportedInvoice:
    return invoice_pb2.ImportedInvoice(
        invoice=invoice_to_proto(imported.invoice),
        biz_code=imported.biz_code,
        imported_by=imported.imported_by,
        import_time=timestamp(imported.import_time),
        update_time=timestamp(imported.update_time),
        account=imported.account,
    )


def change_to_proto(change: StatusChange) -> invoice_service_pb2.StatusChange:
    return invoice_service_pb2.StatusChange(
        ref=ref_to_proto(change.ref),
        previous_status=_status_or_unspecified(change.previous),
        status=status_to_proto(change.status),
        change_time=timestamp(change.change_time),
    )


def lookup_to_proto(
    ref: InvoiceRef, result: Invoice | LookupFailure
) -> invoice_service_pb2.InvoiceLookup:
    if isinstance(result, Invoice):
        return invoice_service_pb2.InvoiceLookup(
            ref=ref_to_proto(ref), invoice=invoice_to_proto(result)
        )
    failure = invoice_service_pb2.LookupFailure(
        reason=result.reason, message=result.message, wechat_errcode=result.wechat_errcode
    )
    return invoice_service_pb2.InvoiceLookup(ref=ref_to_proto(ref), failure=failure)


def _status_or_unspecified(
    status: ReimburseStatus | None,
) -> "invoice_pb2.ReimburseStatus.ValueType":
    return status_to_proto(status) if status else invoice_pb2.REIMBURSE_STATUS_UNSPECIFIED


def drift_to_proto(drift: Drift) -> invoice_service_pb2.InvoiceDrift:
    return invoice_service_pb2.InvoiceDrift(
        ref=ref_to_proto(drift.ref),
        biz_code=drift.biz_code,
        previous_status=status_to_proto(drift.before),
        status=status_to_proto(drift.after),
        previous_card_status=card_status_to_proto(drift.card_before),
        card_status=card_status_to_proto(drift.card_after),
    )


_ACTION_TO_PROTO = {
    AuditAction.STATUS_CHANGE: invoice_service_pb2.AUDIT_ACTION_STATUS_CHANGE,
    AuditAction.IMPORT_LOCK: invoice_service_pb2.AUDIT_ACTION_IMPORT_LOCK,
    AuditAction.COMPENSATION: invoice_service_pb2.AUDIT_ACTION_COMPENSATION,
    AuditAction.IMPORT_SESSION: invoice_service_pb2.AUDIT_ACTION_IMPORT_SESSION,
    AuditAction.READ: invoice_service_pb2.AUDIT_ACTION_READ,
    AuditAction.RECONCILIATION: invoice_service_pb2.AUDIT_ACTION_RECONCILIATION,
}


def audit_to_proto(entry: AuditEntry) -> invoice_service_pb2.AuditEvent:
    return invoice_service_pb2.AuditEvent(
        action=_ACTION_TO_PROTO[entry.action],
        account=entry.account,
        caller=entry.caller,
        request_id=entry.request_id,
        rpc=entry.rpc,
        biz_code=entry.biz_code,
        invoices=[
            invoice_service_pb2.AuditedInvoice(
                ref=ref_to_proto(ref), previous_status=_status_or_unspecified(before)
            )
            for ref, before in entry.invoices
        ],
        status=_status_or_unspecified(entry.to_status),
        outcome=entry.outcome,
        wechat_errcode=entry.wechat_errcode or 0,
        create_time=timestamp(entry.created),
        details=dict(entry.detail),
    )


_DOCUMENT_KINDS: dict[int, DocumentKind] = {
    invoice_service_pb2.INVOICE_DOCUMENT_KIND_UNSPECIFIED: DocumentKind.INVOICE,
    invoice_service_pb2.INVOICE_DOCUMENT_KIND_INVOICE: DocumentKind.INVOICE,
    invoice_service_pb2.INVOICE_DOCUMENT_KIND_TRIP: DocumentKind.TRIP,
}
_DOCUMENT_KINDS_OUT = {
    DocumentKind.INVOICE: invoice_service_pb2.INVOICE_DOCUMENT_KIND_INVOICE,
    DocumentKind.TRIP: invoice_service_pb2.INVOICE_DOCUMENT_KIND_TRIP,
}


def document_kind_from_proto(kind: int) -> DocumentKind | None:
    """The document asked for (UNSPECIFIED: the invoice's PDF); None for an unknown value."""
    return _DOCUMENT_KINDS.get(kind)


def document_to_proto(record: DocumentRecord) -> invoice_service_pb2.InvoiceDocumentInfo:
    info = invoice_service_pb2.InvoiceDocumentInfo(
        kind=_DOCUMENT_KINDS_OUT[record.kind],
        content_type=PDF_CONTENT_TYPE,
        size_bytes=record.size,
        sha256=record.digest,
    )
    fetched = timestamp(record.fetched_at) if record.fetched_at is not None else None
    if fetched is not None:
        info.fetch_time.CopyFrom(fetched)
    return info
