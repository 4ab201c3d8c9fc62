"""SignJsapi: what the invoice picker pages (and apps) need, signed with the account's tickets."""

import secrets
import string
import time
from dataclasses import dataclass

from fapiao_gateway.domain import signatures
from fapiao_gateway.domain.context import RequestContext
from fapiao_gateway.wechat.accounts import Account
from fapiao_gateway.wechat.tickets import TicketKind, Tickets

_NONCE_ALPHABET = string.ascii_letters + string.digits
NONCE_LENGTH = 16


def new_nonce() -> str:
    """A nonce from the operating system's cryptographic source."""
    return "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(NONCE_LENGTH))


@dataclass(frozen=True, slots=True)
class WxConfig:
    app_id: str
    timestamp: int
    nonce_str: str
    signature: str
    url: str


@dataclass(frozen=True, slots=True)
class ChooseInvoice:
    app_id: str
    timestamp: int
    nonce_str: str
    sign_type: str
    card_sign: str


class JsapiSigner:
    """Signs with tickets from the shared ticket cache (one fetch per account and kind)."""

    def __init__(self, tickets: Tickets) -> None:
        self._tickets = tickets

    async def sign(
        self,
        ctx: RequestContext,
        account: Account,
        *,
        wx_config_url: str | None,
        choose_invoice: bool,
        timestamp: int = 0,
        nonce_str: str = "",
    ) -> tuple[WxConfig | None, ChooseInvoice | None]:
        """wx.config parameters (when a URL is given) and/or chooseInvoice's (when asked)."""
        stamp = timestamp or int(time.time())
        nonce = nonce_str or new_nonce()
        config = None
        if wx_config_url is not None:
            ticket = await self._tickets.get(account, TicketKind.JSAPI, ctx.deadline)
            url = signatures.page_url(wx_config_url)
            config = WxConfig(
                account.appid,
                stamp,
                nonce,
                signatures.wx_config_signature(
                    jsapi_ticket=ticket, nonce_str=nonce, timestamp=stamp, url=url
                ),
                url,
            )
        choose = None
        if choose_invoice:
            ticket = await self._tickets.get(account, TicketKind.WX_CARD, ctx.deadline)
            choose = ChooseInvoice(
                account.appid,
                stamp,
                nonce,
                signatures.SIGN_TYPE,
                signatures.choose_invoice_sign(
                    wx_card_ticket=ticket, appid=account.appid, timestamp=stamp, nonce_str=nonce
                ),
            )
        return config, choose
