"""SignJsapi: what the invoice picker pages (and apps) need, signed with the account's tickets.

Which ticket signs what (domain/signatures.py has the algorithms and their sources):
wx.config with the jsapi ticket (Weixin Work: the corp's; appId the corp ID), chooseInvoice
with the wx_card ticket (over the appId: the corp ID on Weixin Work), wx.agentConfig (Weixin
Work only) with the app's agent_config ticket, by wx.config's algorithm.
"""

import secrets
import string
import time
from dataclasses import dataclass

from fapiao_gateway.domain import signatures
from fapiao_gateway.domain.accounts import WeChatAccount
from fapiao_gateway.domain.context import RequestContext
from fapiao_gateway.domain.signatures import TicketKind
from fapiao_gateway.services.ports import TicketSource

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


@dataclass(frozen=True, slots=True)
class AgentConfig:
    corp_id: str
    agent_id: int
    timestamp: int
    nonce_str: str
    signature: str
    url: str


@dataclass(frozen=True, slots=True)
class Signatures:
    """What one SignJsapi call signed: each part when it was asked for."""

    wx_config: WxConfig | None = None
    choose_invoice: ChooseInvoice | None = None
    agent_config: AgentConfig | None = None


class JsapiSigner:
    """Signs with tickets from the shared ticket cache (one fetch per account and kind)."""

    def __init__(self, tickets: TicketSource) -> None:
        self._tickets = tickets

    async def sign(
        self,
        ctx: RequestContext,
        account: WeChatAccount,
        *,
        wx_config_url: str | None,
        choose_invoice: bool,
        agent_config_url: str | None = None,
        timestamp: int = 0,
        nonce_str: str = "",
    ) -> Signatures:
        """wx.config parameters (when a URL is given), chooseInvoice's (when asked), and
        wx.agentConfig's (Weixin Work, when a URL is given), all with one timestamp and nonce."""
        stamp = timestamp or int(time.time())
        nonce = nonce_str or new_nonce()
        app_id = account.jsapi_app_id

        async def page_signature(kind: TicketKind, page: str) -> tuple[str, str]:
            ticket = await self._tickets.ticket(account.appid, kind, ctx.deadline)
            url = signatures.page_url(page)
            signed = signatures.wx_config_signature(
                jsapi_ticket=ticket, nonce_str=nonce, timestamp=stamp, url=url
            )
            return signed, url

        config = choose = agent = None
        if wx_config_url is not None:
            signed, url = await page_signature(TicketKind.JSAPI, wx_config_url)
            config = WxConfig(app_id, stamp, nonce, signed, url)
        if choose_invoice:
            ticket = await self._tickets.ticket(account.appid, TicketKind.WX_CARD, ctx.deadline)
            choose = ChooseInvoice(
                app_id,
                stamp,
                nonce,
                signatures.SIGN_TYPE,
                signatures.choose_invoice_sign(
                    wx_card_ticket=ticket, appid=app_id, timestamp=stamp, nonce_str=nonce
                ),
            )
        if agent_config_url is not None:
            signed, url = await page_signature(TicketKind.AGENT_CONFIG, agent_config_url)
            agent = AgentConfig(account.corp_id, account.agent_id, stamp, nonce, signed, url)
        return Signatures(config, choose, agent)
