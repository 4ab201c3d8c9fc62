"""fapiao.v1.InvoiceService: authorize, validate, call a use case, encode. Nothing else.

Methods take the decoded request and the RequestContext (caller, deadline) that api.handlers
built; they never see gRPC itself. Permission is checked before the request is looked at.
"""

from typing import NoReturn

from fapiao.v1 import invoice_service_pb2 as pb

from fapiao_gateway.api import convert
from fapiao_gateway.api.validation import Violations
from fapiao_gateway.domain.callers import OPERATION_FOR_STATUS, Operation
from fapiao_gateway.domain.context import RequestContext
from fapiao_gateway.domain.errors import Unimplemented
from fapiao_gateway.services.access import AccessPolicy
from fapiao_gateway.services.invoices import InvoiceReader


def _not_yet(rpc: str, needs: str) -> NoReturn:
    raise Unimplemented(
        f"{rpc} is not available in this build: it needs {needs}, which is not built yet.",
        reason="RPC_NOT_IMPLEMENTED",
        metadata={"rpc": rpc},
    )


def _status_operations(status: int) -> tuple[Operation, ...]:
    """What moving an invoice to `status` needs; an invalid target needs only the account
    (validation refuses it next)."""
    target = convert.status_from_proto(status)
    operation = OPERATION_FOR_STATUS.get(target) if target is not None else None
    return (operation,) if operation is not None else ()


class InvoiceServicer:
    """The gRPC face of the gateway's use cases."""

    def __init__(self, access: AccessPolicy, reader: InvoiceReader) -> None:
        self._access = access
        self._reader = reader

    async def GetInvoice(
        self, request: pb.GetInvoiceRequest, ctx: RequestContext
    ) -> pb.GetInvoiceResponse:
        account = self._access.authorize(ctx, request.account, Operation.READ)
        check = Violations()
        ref = check.ref("invoice", request.invoice, present=request.HasField("invoice"))
        check.raise_if_any()
        invoice = await self._reader.get_invoice(ctx, account, ref)
        return pb.GetInvoiceResponse(invoice=convert.invoice_to_proto(invoice))

    async def GetInvoices(
        self, request: pb.GetInvoicesRequest, ctx: RequestContext
    ) -> pb.GetInvoicesResponse:
        self._access.authorize(ctx, request.account, Operation.READ)
        _not_yet("GetInvoices", "batch reads with per-invoice reporting")

    async def UpdateStatus(
        self, request: pb.UpdateStatusRequest, ctx: RequestContext
    ) -> pb.UpdateStatusResponse:
        self._access.authorize(ctx, request.account, *_status_operations(request.status))
        _not_yet("UpdateStatus", "idempotent status updates with an audit trail")

    async def UpdateStatusBatch(
        self, request: pb.UpdateStatusBatchRequest, ctx: RequestContext
    ) -> pb.UpdateStatusBatchResponse:
        self._access.authorize(ctx, request.account, *_status_operations(request.status))
        _not_yet("UpdateStatusBatch", "idempotent status updates with an audit trail")

    async def SignJsapi(
        self, request: pb.SignJsapiRequest, ctx: RequestContext
    ) -> pb.SignJsapiResponse:
        self._access.authorize(ctx, request.account, Operation.SIGN)
        _not_yet("SignJsapi", "the JS-API signing service")

    async def IssueImportQr(
        self, request: pb.IssueImportQrRequest, ctx: RequestContext
    ) -> pb.IssueImportQrResponse:
        self._access.authorize(ctx, request.account, Operation.ISSUE_QR)
        _not_yet("IssueImportQr", "import QR codes and import sessions in the ledger")

    async def ImportInvoices(
        self, request: pb.ImportInvoicesRequest, ctx: RequestContext
    ) -> pb.ImportInvoicesResponse:
        lock = (Operation.LOCK,) if request.lock else ()
        self._access.authorize(ctx, request.account, Operation.IMPORT, *lock)
        _not_yet("ImportInvoices", "the ledger of imported invoices")

    async def SearchInvoices(
        self, request: pb.SearchInvoicesRequest, ctx: RequestContext
    ) -> pb.SearchInvoicesResponse:
        self._access.authorize(ctx, request.account, Operation.READ)
        _not_yet("SearchInvoices", "the ledger of imported invoices")
