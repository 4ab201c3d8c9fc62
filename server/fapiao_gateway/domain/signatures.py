"""The signatures a WeChat page or app needs, as pure functions (no tickets fetched here).

wx.config (JS-SDK): sort jsapi_ticket, noncestr, timestamp and url by key, join as key=value
with '&' (no URL escaping), SHA1 hex. The url is the page URL without its #fragment.

chooseInvoice's cardSign (the card family): take the values, sort them as strings,
concatenate with no separator, SHA1 hex. Which values: see CHOOSE_INVOICE_SIGN_FIELDS.
"""

import hashlib
from collections.abc import Iterable

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
