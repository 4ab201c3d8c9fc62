"""fapiao.v1.InvoiceService: decode and validate, call a use case, encode. Nothing else."""

from typing import Any, NoReturn

import grpc
from fapiao.v1 import invoice_service_pb2 as pb
from fapiao.v1 import invoice_service_pb2_grpc as pb_grpc

from fapiao_gateway.api import convert
from fapiao_gateway.api.errors import rpc_errors
from fapiao_gateway.api.validation import Violations
from fapiao_gateway.domain.context import Deadline, RequestContext
from fapiao_gateway.domain.errors import Unimplemented
from fapiao_gateway.services.invoices import InvoiceReader

Context = grpc.aio.ServicerContext[Any, Any]


def request_context(context: Context) -> RequestContext:
    """The use case's view of the call: its deadline (None when the caller set none)."""
    return RequestContext(deadline=Deadline.after(context.time_remaining()))


def _not_yet(rpc: str, needs: str) -> NoReturn:
    raise Unimplemented(
        f"{rpc} is not available in this build: it needs {needs}, which is not built yet.",
        reason="RPC_NOT_IMPLEMENTED",
        metadata={"rpc": rpc},
    )


class InvoiceServicer(pb_grpc.InvoiceServiceServicer):
    """The gRPC face of the gateway's use cases."""

    def __init__(self, reader: InvoiceReader) -> None:
        self._reader = reader

    @rpc_errors
    async def GetInvoice(
        self, request: pb.GetInvoiceRequest, context: Context
    ) -> pb.GetInvoiceResponse:
        check = Violations()
        account = check.account(request.account)
        ref = check.ref("invoice", request.invoice, present=request.HasField("invoice"))
        check.raise_if_any()
        invoice = await self._reader.get_invoice(account, ref, request_context(context))
        return pb.GetInvoiceResponse(invoice=convert.invoice_to_proto(invoice))

    @rpc_errors
    async def GetInvoices(
        self, request: pb.GetInvoicesRequest, context: Context
    ) -> pb.GetInvoicesResponse:
        _not_yet("GetInvoices", "batch reads with per-invoice reporting")

    @rpc_errors
    async def UpdateStatus(
        self, request: pb.UpdateStatusRequest, context: Context
    ) -> pb.UpdateStatusResponse:
        _not_yet("UpdateStatus", "idempotent status updates with an audit trail")

    @rpc_errors
    async def UpdateStatusBatch(
        self, request: pb.UpdateStatusBatchRequest, context: Context
    ) -> pb.UpdateStatusBatchResponse:
        _not_yet("UpdateStatusBatch", "idempotent status updates with an audit trail")

    @rpc_errors
    async def SignJsapi(
        self, request: pb.SignJsapiRequest, context: Context
    ) -> pb.SignJsapiResponse:
        _not_yet("SignJsapi", "the JS-API signing service")

    @rpc_errors
    async def IssueImportQr(
        self, request: pb.IssueImportQrRequest, context: Context
    ) -> pb.IssueImportQrResponse:
        _not_yet("IssueImportQr", "import QR codes and import sessions in the ledger")

    @rpc_errors
    async def ImportInvoices(
        self, request: pb.ImportInvoicesRequest, context: Context
    ) -> pb.ImportInvoicesResponse:
        _not_yet("ImportInvoices", "the ledger of imported invoices")

    @rpc_errors
    async def SearchInvoices(
        self, request: pb.SearchInvoicesRequest, context: Context
    ) -> pb.SearchInvoicesResponse:
        _not_yet("SearchInvoices", "the ledger of imported invoices")
