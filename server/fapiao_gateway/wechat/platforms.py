"""Which URL each WeChat API lives at, per platform, and which API plays which part.

Each `Api` member is one upstream endpoint, named as WeChat names it (the name errors show as
`wechat_api`). An account's platform decides the host, the paths, the batch read, how a
ticket is fetched (and the errcode table: errcode_tables.py):
- Official Account / Mini Program (api.weixin.qq.com): seed 001.
- Weixin Work (qyapi.weixin.qq.com): the same four invoice calls under
  /cgi-bin/card/invoice/reimburse/, the batch read named getinvoiceinfobatch; tokens from
  /cgi-bin/gettoken; the corp's jsapi ticket from /cgi-bin/get_jsapi_ticket, the agent's and
  the invoice (wx_card) tickets from /cgi-bin/ticket/get?type=agent_config|wx_card. Sources:
  WeCom's pages (document/path/90284-90287 and 99454, JS-SDK 96909, chooseInvoice 98457),
  wechatpy (work/client/api/invoice.py, jsapi.py) and silenceper (work/invoice), which agree.
- Third-party platform merchants (api.weixin.qq.com): the Official Account's invoice and
  ticket paths called with the authorizer_access_token (seed 000, "Third party invocation",
  permission set 26), plus the component's own token calls under /cgi-bin/component/.
"""

from dataclasses import dataclass, field
from enum import Enum

from fapiao_gateway.domain.accounts import Platform
from fapiao_gateway.domain.signatures import TicketKind


class Api(Enum):
    """The upstream calls the gateway makes, by WeChat's name for them."""

    TOKEN = "token"
    STABLE_TOKEN = "stable_token"
    GET_TICKET = "getticket"
    GET_INVOICE_INFO = "getinvoiceinfo"
    GET_INVOICE_BATCH = "getinvoicebatch"
    UPDATE_INVOICE_STATUS = "updateinvoicestatus"
    UPDATE_STATUS_BATCH = "updatestatusbatch"
    # Weixin Work
    WORK_TOKEN = "gettoken"
    WORK_JSAPI_TICKET = "get_jsapi_ticket"
    WORK_TICKET = "ticket/get"
    GET_INVOICE_INFO_BATCH = "getinvoiceinfobatch"
    # Third-party platform
    COMPONENT_TOKEN = "api_component_token"
    AUTHORIZER_TOKEN = "api_authorizer_token"


#: Calls that change state at WeChat: never retried once they may have been applied.
MUTATING_APIS = frozenset({Api.UPDATE_INVOICE_STATUS, Api.UPDATE_STATUS_BATCH})

#: Token calls, whose successful replies carry no errcode on some platforms.
TOKEN_APIS = frozenset(
    {Api.TOKEN, Api.STABLE_TOKEN, Api.WORK_TOKEN, Api.COMPONENT_TOKEN, Api.AUTHORIZER_TOKEN}
)


@dataclass(frozen=True, slots=True)
class TicketCall:
    """How one kind of JS-SDK ticket is fetched: the API and its query (besides the token)."""

    api: Api
    query: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PlatformSpec:
    """Where a platform keeps each API, and which API serves which purpose."""

    default_base_url: str
    paths: dict[Api, str]
    batch_read: Api
    tickets: dict[TicketKind, TicketCall]


_REIMBURSE = "/card/invoice/reimburse"
_OFFICIAL_PATHS = {
    Api.TOKEN: "/cgi-bin/token",
    Api.STABLE_TOKEN: "/cgi-bin/stable_token",
    Api.GET_TICKET: "/cgi-bin/ticket/getticket",
    Api.GET_INVOICE_INFO: f"{_REIMBURSE}/getinvoiceinfo",
    Api.GET_INVOICE_BATCH: f"{_REIMBURSE}/getinvoicebatch",
    Api.UPDATE_INVOICE_STATUS: f"{_REIMBURSE}/updateinvoicestatus",
    Api.UPDATE_STATUS_BATCH: f"{_REIMBURSE}/updatestatusbatch",
}
_OFFICIAL_TICKETS = {
    TicketKind.JSAPI: TicketCall(Api.GET_TICKET, {"type": "jsapi"}),
    TicketKind.WX_CARD: TicketCall(Api.GET_TICKET, {"type": "wx_card"}),
}
_OFFICIAL = PlatformSpec(
    default_base_url="https://api.weixin.qq.com",
    paths=_OFFICIAL_PATHS,
    batch_read=Api.GET_INVOICE_BATCH,
    tickets=_OFFICIAL_TICKETS,
)

PLATFORMS: dict[Platform, PlatformSpec] = {
    Platform.OFFICIAL_ACCOUNT: _OFFICIAL,
    Platform.MINI_PROGRAM: _OFFICIAL,
    Platform.WORK: PlatformSpec(
        default_base_url="https://qyapi.weixin.qq.com",
        paths={
            Api.WORK_TOKEN: "/cgi-bin/gettoken",
            Api.WORK_JSAPI_TICKET: "/cgi-bin/get_jsapi_ticket",
            Api.WORK_TICKET: "/cgi-bin/ticket/get",
            Api.GET_INVOICE_INFO: f"/cgi-bin{_REIMBURSE}/getinvoiceinfo",
            Api.GET_INVOICE_INFO_BATCH: f"/cgi-bin{_REIMBURSE}/getinvoiceinfobatch",
            Api.UPDATE_INVOICE_STATUS: f"/cgi-bin{_REIMBURSE}/updateinvoicestatus",
            Api.UPDATE_STATUS_BATCH: f"/cgi-bin{_REIMBURSE}/updatestatusbatch",
        },
        batch_read=Api.GET_INVOICE_INFO_BATCH,
        tickets={
            TicketKind.JSAPI: TicketCall(Api.WORK_JSAPI_TICKET),
            TicketKind.AGENT_CONFIG: TicketCall(Api.WORK_TICKET, {"type": "agent_config"}),
            TicketKind.WX_CARD: TicketCall(Api.WORK_TICKET, {"type": "wx_card"}),
        },
    ),
    Platform.COMPONENT: PlatformSpec(
        default_base_url="https://api.weixin.qq.com",
        paths={
            **_OFFICIAL_PATHS,
            Api.COMPONENT_TOKEN: "/cgi-bin/component/api_component_token",
            Api.AUTHORIZER_TOKEN: "/cgi-bin/component/api_authorizer_token",
        },
        batch_read=Api.GET_INVOICE_BATCH,
        tickets=_OFFICIAL_TICKETS,
    ),
}
