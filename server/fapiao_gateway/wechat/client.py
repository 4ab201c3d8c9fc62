"""WeChat's invoice reimbursement APIs as typed async methods returning domain objects."""

from fapiao_gateway.domain.context import Deadline
from fapiao_gateway.domain.invoice import Invoice, InvoiceRef
from fapiao_gateway.wechat.accounts import Account
from fapiao_gateway.wechat.models import InvoiceInfo
from fapiao_gateway.wechat.platforms import Api
from fapiao_gateway.wechat.tokens import AccessTokens
from fapiao_gateway.wechat.upstream import parse_reply


def _ref_json(ref: InvoiceRef) -> dict[str, str]:
    return {"card_id": ref.card_id, "encrypt_code": ref.encrypt_code}


class WeChatInvoices:
    """The reimbursement APIs (getinvoiceinfo today; the batch read and status updates join
    with the status-update work)."""

    def __init__(self, tokens: AccessTokens) -> None:
        self._tokens = tokens

    async def get_invoice(self, account: Account, ref: InvoiceRef, deadline: Deadline) -> Invoice:
        """One invoice, or NOT_FOUND / UNAVAILABLE / ... as the errcode table says."""
        payload = await self._tokens.call(
            account, Api.GET_INVOICE_INFO, deadline=deadline, body=_ref_json(ref), ref=ref
        )
        info = parse_reply(InvoiceInfo, payload, account, Api.GET_INVOICE_INFO, ref)
        return info.to_domain(ref.encrypt_code)
