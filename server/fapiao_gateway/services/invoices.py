"""Reading invoices from WeChat for an account the caller may use; the ledger follows reads
in the background (services/read_follower.py), so a read costs no ledger round trip."""

from collections.abc import Sequence

from fapiao_gateway.domain.context import RequestContext
from fapiao_gateway.domain.invoice import Invoice, InvoiceRef, LookupFailure
from fapiao_gateway.domain.status_changes import Witness, observations
from fapiao_gateway.services.ports import InvoiceSource
from fapiao_gateway.services.read_follower import ReadFollower
from fapiao_gateway.services.reading import check_budget

#: Reported for an invoice WeChat left out of an errcode-0 batch reply.
NOT_RETURNED = LookupFailure(
    "INVOICE_NOT_RETURNED",
    "WeChat answered the batch without this invoice "
    "(unknown to WeChat, or not shared with this account).",
)


class InvoiceReader:
    """GetInvoice and GetInvoices."""

    def __init__(
        self, source: InvoiceSource, follower: ReadFollower, *, upstream_budget: int = 50
    ) -> None:
        self._source = source
        self._follower = follower
        self._upstream_budget = upstream_budget

    async def get_invoice(self, ctx: RequestContext, appid: str, ref: InvoiceRef) -> Invoice:
        fetched = await self._source.fetch(appid, ref, ctx.deadline)
        self._follower.observe(
            appid, observations({ref: fetched}), Witness(ctx.caller.name, "GetInvoice")
        )
        return fetched.invoice

    async def get_invoices(
        self, ctx: RequestContext, appid: str, refs: Sequence[InvoiceRef]
    ) -> list[Invoice | LookupFailure]:
        """One result per ref, in order: the invoice, or why it is missing. A batch that
        failed is reported on each of its refs; only when every batch failed does the call."""
        check_budget(self._source, refs, self._upstream_budget)
        fetched, failed = await self._source.fetch_batches(appid, refs, ctx.deadline)
        if failed and not fetched and len(failed) == len(refs):
            raise next(iter(failed.values()))
        self._follower.observe(
            appid, observations(fetched), Witness(ctx.caller.name, "GetInvoices")
        )
        results: list[Invoice | LookupFailure] = []
        for ref in refs:
            if ref in fetched:
                results.append(fetched[ref].invoice)
            elif ref in failed:
                error = failed[ref]
                results.append(
                    LookupFailure(error.reason, error.message, error.wechat_errcode or 0)
                )
            else:
                results.append(NOT_RETURNED)
        return results
