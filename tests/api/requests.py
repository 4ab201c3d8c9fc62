"""A valid request for every InvoiceService RPC (a new RPC needs one here: test_error_model
checks)."""

from typing import Any

from fapiao.v1 import import_watch_pb2, invoice_pb2
from fapiao.v1 import invoice_service_pb2 as pb

from tests.api.harness import OFFICIAL

REF = invoice_pb2.InvoiceRef(card_id="card-1", encrypt_code="code-1")
ACCOUNT = OFFICIAL.alias
LOCK = invoice_pb2.REIMBURSE_STATUS_LOCK


def valid_requests() -> dict[str, Any]:
    """Fresh messages, one per RPC, that pass validation for the admin caller."""
    return {
        "GetInvoice": pb.GetInvoiceRequest(account=ACCOUNT, invoice=REF),
        "GetInvoices": pb.GetInvoicesRequest(account=ACCOUNT, invoices=[REF]),
        "UpdateStatus": pb.UpdateStatusRequest(
            account=ACCOUNT, request_id="req-1", invoice=REF, status=LOCK
        ),
        "UpdateStatusBatch": pb.UpdateStatusBatchRequest(
            account=ACCOUNT, request_id="req-1", openid="openid-1", status=LOCK, invoices=[REF]
        ),
        "SignJsapi": pb.SignJsapiRequest(
            account=ACCOUNT,
            purposes=[pb.SIGN_PURPOSE_WX_CONFIG],
            url="https://expenses.example.com/import",
        ),
        "IssueImportQr": pb.IssueImportQrRequest(
            account=ACCOUNT, request_id="req-1", biz_code="report-1"
        ),
        "ImportInvoices": pb.ImportInvoicesRequest(
            account=ACCOUNT, request_id="req-1", biz_code="report-1", invoices=[REF], lock=True
        ),
        "SearchInvoices": pb.SearchInvoicesRequest(account=ACCOUNT),
        "ReconcileInvoices": pb.ReconcileInvoicesRequest(account=ACCOUNT, biz_code="report-1"),
        "ListAuditEvents": pb.ListAuditEventsRequest(account=ACCOUNT),
        "GetInvoiceDocument": pb.GetInvoiceDocumentRequest(
            account=ACCOUNT, invoice=REF, kind=pb.INVOICE_DOCUMENT_KIND_INVOICE
        ),
        "WatchImport": import_watch_pb2.WatchImportRequest(account=ACCOUNT, biz_code="report-1"),
    }


def valid(rpc: str) -> Any:
    return valid_requests()[rpc]
