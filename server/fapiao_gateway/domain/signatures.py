"""The signatures a WeChat page or app needs, as pure functions (no tickets fetched here).

wx.config (JS-SDK): sort jsapi_ticket, noncestr, timestamp and url by key, join as key=value
with '&' (no URL escaping), SHA1 hex. The url is the page URL without its #fragment.

chooseInvoice's cardSign (the card family): take the values, sort them as strings,
concatenate with no separator, SHA1 hex. Which values: see CHOOSE_INVOICE_SIGN_FIELDS.

Weixin Work: wx.config is signed the same way with the corp's jsapi ticket, and its appId is
the corp ID; wx.agentConfig is signed the same way again with the app's agent_config ticket
(WeCom's "JS-SDK 签名算法" page, document/path/96909, whose example is the vector above);
ww.chooseInvoice's cardSign is the card-family signature over the wx_card ticket from
/cgi-bin/ticket/get, the corp ID, timestamp, nonceStr and cardType "INVOICE" (WeCom's
"调起电子发票" page, document/path/98457, as quoted in public WeCom samples: "将 api_ticket、
appid、timestamp、nonceStr、cardType的value值进行字符串的字典序排序").
"""

import hashlib
from collections.abc import Iterable
from enum import StrEnum


class TicketKind(StrEnum):
    """The JS-SDK tickets a signature is made with (getticket's `type`)."""

    JSAPI = "jsapi"  # wx.config (Weixin Work: the corp's jsapi ticket)
    WX_CARD = "wx_card"  # chooseInvoice's cardSign
    AGENT_CONFIG = "agent_config"  # Weixin Work's wx.agentConfig (the app's ticket)


#: The values chooseInvoice's cardSign covers, in one place. Source: inferred from the public
#: SDKs and WeChat's native chooseCard request (the card-family signature with cardType
#: "INVOICE"), not from WeChat's own invoice text; if WeChat's rule turns out different,
#: this tuple and its test are what change.
CHOOSE_INVOICE_SIGN_FIELDS = (
    "api_ticket (wx_card)",
    "appid",
    "timestamp",
    "nonce_str",
    "card_type",
)
CHOOSE_INVOICE_CARD_TYPE = "INVOICE"
SIGN_TYPE = "SHA1"


def page_url(url: str) -> str:
    """The URL wx.config signs: the page URL without its #fragment."""
    return url.split("#", 1)[0]


def wx_config_signature(*, jsapi_ticket: str, nonce_str: str, timestamp: int, url: str) -> str:
    """wx.config's signature."""
    fields = {
        "jsapi_ticket": jsapi_ticket,
        "noncestr": nonce_str,
        "timestamp": str(timestamp),
        "url": page_url(url),
    }
    joined = "&".join(f"{key}={fields[key]}" for key in sorted(fields))
    return hashlib.sha1(joined.encode()).hexdigest()  # noqa: S324 (WeChat's algorithm)


def card_sign(values: Iterable[str]) -> str:
    """The card-family signature over `values`."""
    return hashlib.sha1("".join(sorted(values)).encode()).hexdigest()  # noqa: S324 (WeChat's algorithm)


def choose_invoice_sign(*, wx_card_ticket: str, appid: str, timestamp: int, nonce_str: str) -> str:
    """chooseInvoice's cardSign over CHOOSE_INVOICE_SIGN_FIELDS."""
    return card_sign([wx_card_ticket, appid, str(timestamp), nonce_str, CHOOSE_INVOICE_CARD_TYPE])
