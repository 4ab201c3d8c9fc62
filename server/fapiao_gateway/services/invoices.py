"""Reading invoices from WeChat for an account the caller may use; the ledger follows reads."""

from collections.abc import Sequence

from fapiao_gateway.domain.context import RequestContext
from fapiao_gateway.domain.errors import GatewayError
from fapiao_gateway.domain.invoice import Invoice, InvoiceRef, LookupFailure
from fapiao_gateway.ledger.store import Ledger
from fapiao_gateway.wechat.accounts import Account
from fapiao_gateway.wechat.client import WeChatInvoices

#: Reported for an invoice WeChat left out of an errcode-0 batch reply.
NOT_RETURNED = LookupFailure(
    "INVOICE_NOT_RETURNED",
    "WeChat answered the batch without this invoice "
    "(unknown to WeChat, or not shared with this account).",
)


class InvoiceReader:
    """GetInvoice and GetInvoices."""

    def __init__(self, wechat: WeChatInvoices, ledger: Ledger) -> None:
        self._wechat = wechat
        self._ledger = ledger

    async def get_invoice(self, ctx: RequestContext, account: Account, ref: InvoiceRef) -> Invoice:
        try:
            invoice = await self._wechat.get_invoice(account, ref, ctx.deadline)
        except GatewayError as error:
            raise error.with_metadata(
                account=account.appid, card_id=ref.card_id, encrypt_code=ref.encrypt_code
            ) from None
        await self._ledger.follow(account.appid, {ref: invoice.reimburse_status})
        return invoice

    async def get_invoices(
        self, ctx: RequestContext, account: Account, refs: Sequence[InvoiceRef]
    ) -> list[Invoice | LookupFailure]:
        """One result per ref, in order: the invoice, or why it is missing. A batch that
        failed is reported on each of its refs; only when every batch failed does the call."""
        fetched, failed = await self._wechat.fetch_batches(account, refs, ctx.deadline)
        if failed and not fetched and len(failed) == len(refs):
            raise next(iter(failed.values())).with_metadata(account=account.appid)
        await self._ledger.follow(
            account.appid, {ref: f.invoice.reimburse_status for ref, f in fetched.items()}
        )
        results: list[Invoice | LookupFailure] = []
        for ref in refs:
            if ref in fetched:
                results.append(fetched[ref].invoice)
            elif ref in failed:
                error = failed[ref]
                errcode = error.metadata.get("wechat_errcode", "0")
                results.append(LookupFailure(error.reason, error.message, int(errcode)))
            else:
                results.append(NOT_RETURNED)
        return results
