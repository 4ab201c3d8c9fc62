"""fapiao.v1.InvoiceService: authorize, validate, call a use case, encode. Nothing else.

Methods take the decoded request and the RequestContext (caller, deadline) that api.handlers
built; they never see gRPC itself. Permission is checked before the request is looked at.
"""

from collections.abc import AsyncIterator, Callable
from datetime import timedelta

from fapiao.v1 import import_watch_pb2 as watch_pb
from fapiao.v1 import invoice_service_pb2 as pb

from fapiao_gateway.api import convert
from fapiao_gateway.api.signatures import signatures_to_proto
from fapiao_gateway.api.validation import NONCE_PATTERN, Violations
from fapiao_gateway.domain.callers import OPERATION_FOR_STATUS, Operation
from fapiao_gateway.domain.commands import ChangeStatus, ImportPicks, OpenImportSession
from fapiao_gateway.domain.context import RequestContext
from fapiao_gateway.domain.documents import DocumentNotAvailable, DocumentRequest
from fapiao_gateway.domain.errors import FieldViolation, invalid_fields
from fapiao_gateway.domain.imports import SearchFilters
from fapiao_gateway.domain.status_changes import AuditFilters
from fapiao_gateway.domain.tax_identity import tax_identity
from fapiao_gateway.services.access import AccessPolicy
from fapiao_gateway.services.archiving import DocumentReader
from fapiao_gateway.services.audit_trail import AuditReader
from fapiao_gateway.services.import_qr import ImportQrIssuer
from fapiao_gateway.services.import_watch import ImportWatcher, SessionEnded
from fapiao_gateway.services.imports import InvoiceImporter
from fapiao_gateway.services.invoices import InvoiceReader
from fapiao_gateway.services.page_tokens import page_size
from fapiao_gateway.services.reconciliation import Reconciler
from fapiao_gateway.services.search import InvoiceSearch
from fapiao_gateway.services.signing import JsapiSigner
from fapiao_gateway.services.status import StatusUpdater

#: Most invoices one ImportInvoices call takes (a user picks a handful at a time).
MAX_IMPORT_INVOICES = 100
#: Most invoices one GetInvoices call reads (split into upstream batches).
MAX_READ_INVOICES = 500
#: IssueImportQr's image sizes and validity, as the contract documents them.
DEFAULT_QR_PX, MIN_QR_PX, MAX_QR_PX = 256, 64, 2048
MIN_QR_TTL, MAX_QR_TTL = timedelta(seconds=60), timedelta(hours=24)
#: Most taxpayer ids one SearchInvoices filter takes.
MAX_TAX_NUMBERS = 100


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
        reconciler: Reconciler,
        audit: AuditReader,
        *,
        watcher: ImportWatcher,
        max_batch_update: int,
        import_qr_ttl: timedelta,
        documents: DocumentReader | None = None,
        documents_entered: Callable[[], None] = lambda: None,
        document_chunk_bytes: int = 64 * 1024,
    ) -> None:
        self._documents = documents
        self._documents_entered = documents_entered
        self._document_chunk_bytes = document_chunk_bytes
        self._watcher = watcher
        self._reconciler = reconciler
        self._audit = audit
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
        invoice = await self._reader.get_invoice(ctx, account.appid, ref)
        return pb.GetInvoiceResponse(invoice=convert.invoice_to_proto(invoice))

    async def GetInvoices(
        self, request: pb.GetInvoicesRequest, ctx: RequestContext
    ) -> pb.GetInvoicesResponse:
        account = self._access.authorize(ctx, request.account, Operation.READ)
        check = Violations()
        refs = check.refs("invoices", request.invoices, max_items=MAX_READ_INVOICES)
        check.raise_if_any()
        results = await self._reader.get_invoices(ctx, account.appid, refs)
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
        (change,) = await self._updater.change(
            ctx, ChangeStatus(account.appid, request_id, (ref,), target)
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
        changes = await self._updater.change(
            ctx, ChangeStatus(account.appid, request_id, tuple(refs), target, openid)
        )
        return pb.UpdateStatusBatchResponse(changes=[convert.change_to_proto(c) for c in changes])

    async def SignJsapi(
        self, request: pb.SignJsapiRequest, ctx: RequestContext
    ) -> pb.SignJsapiResponse:
        account = self._access.authorize(ctx, request.account, Operation.SIGN)
        check = Violations()
        purposes = check.purposes(request.purposes, platform=account.platform)
        pages = {pb.SIGN_PURPOSE_WX_CONFIG, pb.SIGN_PURPOSE_AGENT_CONFIG} & purposes
        url = check.page_url("url", request.url) if pages else ""
        if not 0 <= request.timestamp < 2**32:
            check.add("timestamp", "Unix seconds, or 0 for now.")
        if request.nonce_str and not NONCE_PATTERN.fullmatch(request.nonce_str):
            check.add("nonce_str", "1-32 characters of A-Z, a-z and 0-9, or empty for a fresh one.")
        check.raise_if_any()
        signed = await self._signer.sign(
            ctx,
            account,
            wx_config_url=url if pb.SIGN_PURPOSE_WX_CONFIG in purposes else None,
            choose_invoice=pb.SIGN_PURPOSE_CHOOSE_INVOICE in purposes,
            agent_config_url=url if pb.SIGN_PURPOSE_AGENT_CONFIG in purposes else None,
            timestamp=request.timestamp,
            nonce_str=request.nonce_str,
        )
        return signatures_to_proto(signed)

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
        issued = await self._qr.issue(
            ctx, OpenImportSession(account.appid, request_id, biz_code, size_px, valid_for)
        )
        return pb.IssueImportQrResponse(
            png=issued.png,
            biz_code=issued.session.biz_code,
            url=issued.url,
            expire_time=convert.timestamp(issued.session.expire_time),
            import_ticket=issued.ticket,
        )

    async def ImportInvoices(
        self, request: pb.ImportInvoicesRequest, ctx: RequestContext
    ) -> pb.ImportInvoicesResponse:
        lock = (Operation.LOCK,) if request.lock else ()
        account = self._access.authorize(ctx, request.account, Operation.IMPORT, *lock)
        check = Violations()
        request_id = check.request_id(request.request_id)
        refs = check.refs("invoices", request.invoices, max_items=MAX_IMPORT_INVOICES)
        biz_code = check.biz_code("biz_code", request.biz_code)
        check.raise_if_any()
        result = await self._importer.import_invoices(
            ctx, ImportPicks(account.appid, request_id, biz_code, tuple(refs), request.lock)
        )
        self._documents_entered()  # the archiver downloads them, in the background
        return pb.ImportInvoicesResponse(
            biz_code=result.biz_code,
            invoices=[convert.imported_to_proto(i) for i in result.invoices],
        )

    async def SearchInvoices(
        self, request: pb.SearchInvoicesRequest, ctx: RequestContext
    ) -> pb.SearchInvoicesResponse:
        scope = self._search_scope(request, ctx)
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
        check.optional_text("biz_code", request.biz_code, max_chars=64)
        check.optional_text("invoice_code", request.invoice_code, max_chars=32)
        check.optional_text("invoice_number", request.invoice_number, max_chars=32)
        check.texts("buyer_tax_numbers", request.buyer_tax_numbers, max_items=MAX_TAX_NUMBERS)
        check.texts("seller_tax_numbers", request.seller_tax_numbers, max_items=MAX_TAX_NUMBERS)
        check.optional_text("page_token", request.page_token, max_chars=512)
        identity = ""
        if request.all_accounts:
            identity = self._identity_to_find(request, check)
        check.raise_if_any()
        filters = SearchFilters(
            account=scope[0] if len(scope) == 1 and not request.all_accounts else "",
            accounts=scope if request.all_accounts else (),
            tax_identity=identity,
            biz_code=request.biz_code,
            invoice_code="" if identity else request.invoice_code,
            invoice_number="" if identity else request.invoice_number,
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
            total_size_estimated=page.total_estimated,
        )

    def _search_scope(
        self, request: pb.SearchInvoicesRequest, ctx: RequestContext
    ) -> tuple[str, ...]:
        """The appids a search covers: the named account, or (all_accounts) every account
        the caller may read."""
        if not request.all_accounts:
            return (self._access.authorize(ctx, request.account, Operation.READ).appid,)
        readable = self._access.readable(ctx, Operation.READ)
        if request.account:
            raise invalid_fields(
                [FieldViolation("account", "Must be empty when all_accounts is set.")]
            )
        return tuple(sorted(a.appid for a in readable))

    @staticmethod
    def _identity_to_find(request: pb.SearchInvoicesRequest, check: Violations) -> str:
        """The tax identity a search across accounts looks for ("" after a violation)."""
        if not request.invoice_number:
            check.add("invoice_number", "Required when all_accounts is set.")
            return ""
        identity = tax_identity(request.invoice_code, request.invoice_number)
        if identity is None:
            check.add(
                "invoice_code",
                "Required when all_accounts is set, unless invoice_number is a fully "
                "digital invoice's 20 digits.",
            )
            return ""
        return identity

    async def ReconcileInvoices(
        self, request: pb.ReconcileInvoicesRequest, ctx: RequestContext
    ) -> pb.ReconcileInvoicesResponse:
        account = self._access.authorize(ctx, request.account, Operation.RECONCILE)
        check = Violations()
        biz_code = check.text("biz_code", request.biz_code, max_chars=64)
        check.biz_code("biz_code", biz_code)
        check.raise_if_any()
        done = await self._reconciler.reconcile_report(
            account.appid, biz_code, caller=ctx.caller.name, deadline=ctx.deadline
        )
        return pb.ReconcileInvoicesResponse(
            checked_count=done.checked,
            drifts=[convert.drift_to_proto(d) for d in done.drifts],
        )

    async def GetInvoiceDocument(
        self, request: pb.GetInvoiceDocumentRequest, ctx: RequestContext
    ) -> AsyncIterator[pb.GetInvoiceDocumentResponse]:
        account = self._access.authorize(ctx, request.account, Operation.READ)
        check = Violations()
        ref = check.ref("invoice", request.invoice, present=request.HasField("invoice"))
        kind = convert.document_kind_from_proto(request.kind)
        if kind is None:
            check.add("kind", f"Unknown document kind {request.kind}.")
        check.raise_if_any()
        assert kind is not None
        wanted = DocumentRequest(account.appid, ref, kind)
        if self._documents is None:
            raise DocumentNotAvailable(None, wanted).with_metadata(archive="disabled")
        opened = await self._documents.open(wanted, self._document_chunk_bytes)
        first = True
        async for chunk in opened.chunks:
            info = convert.document_to_proto(opened.record) if first else None
            yield pb.GetInvoiceDocumentResponse(document=info, data=chunk)
            first = False
        if first:  # an empty document: still one message with its facts
            yield pb.GetInvoiceDocumentResponse(document=convert.document_to_proto(opened.record))

    async def ListAuditEvents(
        self, request: pb.ListAuditEventsRequest, ctx: RequestContext
    ) -> pb.ListAuditEventsResponse:
        account = self._access.authorize(ctx, request.account, Operation.AUDIT)
        check = Violations()
        if request.page_size < 0:
            check.add("page_size", "Must not be negative.")
        check.biz_code("biz_code", request.biz_code)
        ref = None
        if request.HasField("invoice"):
            ref = check.ref("invoice", request.invoice, present=True)
        start, end = check.time(request, "start_time"), check.time(request, "end_time")
        check.optional_text("page_token", request.page_token, max_chars=512)
        check.raise_if_any()
        filters = AuditFilters(
            account=account.appid,
            biz_code=request.biz_code,
            ref=ref,
            start=start,
            end=end,
        )
        page, token = await self._audit.list(
            filters, request.page_token, page_size(request.page_size)
        )
        return pb.ListAuditEventsResponse(
            events=[convert.audit_to_proto(e) for e in page.entries], next_page_token=token
        )

    async def WatchImport(
        self, request: watch_pb.WatchImportRequest, ctx: RequestContext
    ) -> AsyncIterator[watch_pb.WatchImportResponse]:
        account = self._access.authorize(ctx, request.account, Operation.READ)
        check = Violations()
        biz_code = check.text("biz_code", request.biz_code, max_chars=64)
        check.biz_code("biz_code", biz_code)
        check.raise_if_any()
        async for event in self._watcher.watch(account.appid, biz_code):
            if isinstance(event, SessionEnded):
                yield watch_pb.WatchImportResponse(
                    end=watch_pb.ImportSessionEnd(
                        reason=watch_pb.IMPORT_SESSION_END_REASON_EXPIRED,
                        end_time=convert.timestamp(event.end_time),
                        invoice_count=event.count,
                    )
                )
            else:
                yield watch_pb.WatchImportResponse(invoice=convert.imported_to_proto(event))
