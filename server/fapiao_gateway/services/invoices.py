"""Reading invoices from WeChat for a named account."""

from fapiao_gateway.domain.context import RequestContext
from fapiao_gateway.domain.errors import GatewayError
from fapiao_gateway.domain.invoice import Invoice, InvoiceRef
from fapiao_gateway.wechat.accounts import AccountRegistry
from fapiao_gateway.wechat.client import WeChatInvoices


class InvoiceReader:
    """GetInvoice: resolve the account, ask WeChat, say which account and invoice failed."""

    def __init__(self, accounts: AccountRegistry, wechat: WeChatInvoices) -> None:
        self._accounts = accounts
        self._wechat = wechat

    async def get_invoice(self, account_name: str, ref: InvoiceRef, ctx: RequestContext) -> Invoice:
        account = self._accounts.resolve(account_name)
        try:
            return await self._wechat.get_invoice(account, ref, ctx.deadline)
        except GatewayError as error:
            raise error.with_metadata(
                account=account.appid, card_id=ref.card_id, encrypt_code=ref.encrypt_code
            ) from None
