"""Reading invoices from WeChat for an account the caller may use."""

from fapiao_gateway.domain.context import RequestContext
from fapiao_gateway.domain.errors import GatewayError
from fapiao_gateway.domain.invoice import Invoice, InvoiceRef
from fapiao_gateway.wechat.accounts import Account
from fapiao_gateway.wechat.client import WeChatInvoices


class InvoiceReader:
    """GetInvoice: ask WeChat, and say which account and invoice a failure was about."""

    def __init__(self, wechat: WeChatInvoices) -> None:
        self._wechat = wechat

    async def get_invoice(self, ctx: RequestContext, account: Account, ref: InvoiceRef) -> Invoice:
        try:
            return await self._wechat.get_invoice(account, ref, ctx.deadline)
        except GatewayError as error:
            raise error.with_metadata(
                account=account.appid, card_id=ref.card_id, encrypt_code=ref.encrypt_code
            ) from None
