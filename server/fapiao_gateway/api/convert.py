"""Domain objects to protobuf messages and back. The only place both kinds meet."""

from datetime import datetime

from fapiao.v1 import invoice_pb2, invoice_service_pb2
from google.protobuf import timestamp_pb2

from fapiao_gateway.domain.imports import ImportedInvoice
from fapiao_gateway.domain.invoice import Invoice, InvoiceLine, InvoiceRef, LookupFailure
from fapiao_gateway.domain.status import ReimburseStatus
from fapiao_gateway.domain.status_changes import StatusChange

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


def timestamp(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    out = timestamp_pb2.Timestamp()
    out.FromDatetime(value)
    return out


def ref_to_proto(ref: InvoiceRef) -> invoice_pb2.InvoiceRef:
    return invoice_pb2.InvoiceRef(card_id=ref.card_id, encrypt_code=ref.encrypt_code)


def ref_from_proto(message: invoice_pb2.InvoiceRef) -> InvoiceRef:
    return InvoiceRef(card_id=message.card_id, encrypt_code=message.encrypt_code)


def _line(line: InvoiceLine) -> invoice_pb2.InvoiceLine:
    return invoice_pb2.InvoiceLine(
        name=line.name,
        quantity=line.quantity,
        unit=line.unit,
        unit_price_fen=line.unit_price_fen,
        amount_fen=line.amount_fen,
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
        previous_status=(
            status_to_proto(change.previous)
            if change.previous
            else invoice_pb2.REIMBURSE_STATUS_UNSPECIFIED
        ),
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
