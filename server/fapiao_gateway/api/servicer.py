"""fapiao.v1.InvoiceService: authorize, validate, call a use case, encode. Nothing else.

Methods take the decoded request and the RequestContext (caller, deadline) that api.handlers
built; they never see gRPC itself. Permission is checked before the request is looked at.
"""

import re
from datetime import timedelta

from fapiao.v1 import invoice_service_pb2 as pb

from fapiao_gateway.api import convert
from fapiao_gateway.api.validation import Violations
from fapiao_gateway.domain.callers import OPERATION_FOR_STATUS, Operation
from fapiao_gateway.domain.context import RequestContext
from fapiao_gateway.domain.imports import SearchFilters
from fapiao_gateway.services.access import AccessPolicy
from fapiao_gateway.services.import_qr import ImportQrIssuer
from fapiao_gateway.services.imports import InvoiceImporter, new_biz_code
from fapiao_gateway.services.invoices import InvoiceReader
from fapiao_gateway.services.search import InvoiceSearch, page_size
from fapiao_gateway.services.signing import JsapiSigner
from fapiao_gateway.services.status import StatusUpdater

#: Most invoices one ImportInvoices call takes (a user picks a handful at a time).
MAX_IMPORT_INVOICES = 100
#: Most invoices one GetInvoices call reads (split into upstream batches).
MAX_READ_INVOICES = 500
#: IssueImportQr's image sizes and validity, as the contract documents them.
DEFAULT_QR_PX, MIN_QR_PX, MAX_QR_PX = 256, 64, 2048
MIN_QR_TTL, MAX_QR_TTL = timedelta(seconds=60), timedelta(hours=24)
NONCE_PATTERN = re.compile(r"^[A-Za-z0-9]{1,32}$")


def _status_operations(status: int) -> tuple[Operation, ...]:
    """What moving an invoice to `status` needs; an invalid target needs only the account
    (validation refuses it next)."""
    target = convert.status_from_proto(status)
    operation = OPERATION_FOR_STATUS.get(target) if target is not None else None
    return (operation,) if operation is not None else ()


class InvoiceServicer:
    """The gRPC face of the gateway's use cases."""

    def __init__(
        self,
        access: AccessPolicy,
        reader: InvoiceReader,
        importer: InvoiceImporter,
        search: InvoiceSearch,
        updater: StatusUpdater,
        signer: JsapiSigner,
        qr: ImportQrIssuer,
        *,
        max_batch_update: int,
        import_qr_ttl: timedelta,
    ) -> None:
        self._signer = signer
        self._qr = qr
        self._import_qr_ttl = import_qr_ttl
        self._updater = updater
        self._max_batch_update = max_batch_update
        self._access = access
        self._reader = reader
        self._importer = importer
        self._search = search

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
        account = self._access.authorize(ctx, request.account, Operation.READ)
        check = Violations()
        refs = check.refs("invoices", request.invoices, max_items=MAX_READ_INVOICES)
        check.raise_if_any()
        results = await self._reader.get_invoices(ctx, account, refs)
        return pb.GetInvoicesResponse(
            results=[convert.lookup_to_proto(ref, r) for ref, r in zip(refs, results, strict=True)]
        )

    async def UpdateStatus(
        self, request: pb.UpdateStatusRequest, ctx: RequestContext
    ) -> pb.UpdateStatusResponse:
        account = self._access.authorize(ctx, request.account, *_status_operations(request.status))
        check = Violations()
        request_id = check.request_id(request.request_id)
        ref = check.ref("invoice", request.invoice, present=request.HasField("invoice"))
        target = check.target_status(request.status)
        check.raise_if_any()
        (change,) = await self._updater.update(
            ctx, account, rpc="UpdateStatus", request_id=request_id, refs=[ref], target=target
        )
        return pb.UpdateStatusResponse(change=convert.change_to_proto(change))

    async def UpdateStatusBatch(
        self, request: pb.UpdateStatusBatchRequest, ctx: RequestContext
    ) -> pb.UpdateStatusBatchResponse:
        account = self._access.authorize(ctx, request.account, *_status_operations(request.status))
        check = Violations()
        request_id = check.request_id(request.request_id)
        openid = check.text("openid", request.openid, max_chars=128)
        target = check.target_status(request.status)
        # WeChat's batch is atomic; splitting it would not be, so it is capped, not split.
        refs = check.refs("invoices", request.invoices, max_items=self._max_batch_update)
        check.raise_if_any()
        changes = await self._updater.update(
            ctx,
            account,
            rpc="UpdateStatusBatch",
            request_id=request_id,
            refs=refs,
            target=target,
            openid=openid,
        )
        return pb.UpdateStatusBatchResponse(changes=[convert.change_to_proto(c) for c in changes])

    async def SignJsapi(
        self, request: pb.SignJsapiRequest, ctx: RequestContext
    ) -> pb.SignJsapiResponse:
        account = self._access.authorize(ctx, request.account, Operation.SIGN)
        check = Violations()
        purposes = check.purposes(request.purposes)
        wants_config = pb.SIGN_PURPOSE_WX_CONFIG in purposes
        url = check.page_url("url", request.url) if wants_config else ""
        if not 0 <= request.timestamp < 2**32:
            check.add("timestamp", "Unix seconds, or 0 for now.")
        if request.nonce_str and not NONCE_PATTERN.match(request.nonce_str):
            check.add("nonce_str", "1-32 characters of A-Z, a-z and 0-9, or empty for a fresh one.")
        check.raise_if_any()
        config, choose = await self._signer.sign(
            ctx,
            account,
            wx_config_url=url if wants_config else None,
            choose_invoice=pb.SIGN_PURPOSE_CHOOSE_INVOICE in purposes,
            timestamp=request.timestamp,
            nonce_str=request.nonce_str,
        )
        reply = pb.SignJsapiResponse()
        if config is not None:
            reply.wx_config.CopyFrom(
                pb.WxConfigSignature(
                    app_id=config.app_id,
                    timestamp=config.timestamp,
                    nonce_str=config.nonce_str,
                    signature=config.signature,
                    url=config.url,
                )
            )
        if choose is not None:
            reply.choose_invoice.CopyFrom(
                pb.ChooseInvoiceSignature(
                    timestamp=choose.timestamp,
                    nonce_str=choose.nonce_str,
                    sign_type=choose.sign_type,
                    card_sign=choose.card_sign,
                    app_id=choose.app_id,
                )
            )
        return reply

    async def IssueImportQr(
        self, request: pb.IssueImportQrRequest, ctx: RequestContext
    ) -> pb.IssueImportQrResponse:
        account = self._access.authorize(ctx, request.account, Operation.ISSUE_QR)
        check = Violations()
        request_id = check.request_id(request.request_id)
        biz_code = check.biz_code("biz_code", request.biz_code)
        size_px = request.size_px or DEFAULT_QR_PX
        if not MIN_QR_PX <= size_px <= MAX_QR_PX:
            check.add("size_px", f"{MIN_QR_PX}-{MAX_QR_PX} pixels, or 0 for {DEFAULT_QR_PX}.")
        valid_for = self._import_qr_ttl
        if request.HasField("valid_for"):
            asked = check.duration(request, "valid_for")
            if asked is not None and not MIN_QR_TTL <= asked <= MAX_QR_TTL:
                check.add("valid_for", "Between 60 seconds and 24 hours.")
            valid_for = asked or valid_for
        check.raise_if_any()
        png, session = await self._qr.issue(
            ctx,
            account,
            biz_code=biz_code,
            size_px=size_px,
            valid_for=valid_for,
            request_id=request_id,
        )
        return pb.IssueImportQrResponse(
            png=png,
            biz_code=session.biz_code,
            url=session.url,
            expire_time=convert.timestamp(session.expire_time),
        )

    async def ImportInvoices(
        self, request: pb.ImportInvoicesRequest, ctx: RequestContext
    ) -> pb.ImportInvoicesResponse:
        lock = (Operation.LOCK,) if request.lock else ()
        account = self._access.authorize(ctx, request.account, Operation.IMPORT, *lock)
        check = Violations()
        refs = check.refs("invoices", request.invoices, max_items=MAX_IMPORT_INVOICES)
        biz_code = check.biz_code("biz_code", request.biz_code) or new_biz_code()
        check.raise_if_any()
        imported = await self._importer.import_invoices(
            ctx, account, biz_code, refs, lock=request.lock
        )
        return pb.ImportInvoicesResponse(
            biz_code=biz_code, invoices=[convert.imported_to_proto(i) for i in imported]
        )

    async def SearchInvoices(
        self, request: pb.SearchInvoicesRequest, ctx: RequestContext
    ) -> pb.SearchInvoicesResponse:
        account = self._access.authorize(ctx, request.account, Operation.READ)
        check = Violations()
        if request.page_size < 0:
            check.add("page_size", "Must not be negative.")
        status = None
        if request.status:
            status = convert.status_from_proto(request.status)
            if status is None:
                check.add("status", f"Unknown status {request.status}.")
        update_time_start, update_time_end = (
            check.time(request, "update_time_start"),
            check.time(request, "update_time_end"),
        )
        billing_time_start = check.time(request, "billing_time_start")
        billing_time_end = check.time(request, "billing_time_end")
        check.raise_if_any()
        filters = SearchFilters(
            account=account.appid,
            biz_code=request.biz_code,
            invoice_code=request.invoice_code,
            invoice_number=request.invoice_number,
            update_time_start=update_time_start,
            update_time_end=update_time_end,
            billing_time_start=billing_time_start,
            billing_time_end=billing_time_end,
            buyer_tax_numbers=tuple(request.buyer_tax_numbers),
            seller_tax_numbers=tuple(request.seller_tax_numbers),
            status=status,
        )
        page, token = await self._search.search(
            filters, request.page_token, page_size(request.page_size)
        )
        return pb.SearchInvoicesResponse(
            invoices=[convert.imported_to_proto(i) for i in page.invoices],
            next_page_token=token,
            total_size=page.total_size or 0,
        )
