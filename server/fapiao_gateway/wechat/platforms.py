"""Which URL each WeChat API lives at, per platform.

An account's platform decides the paths (and, later, the errcode quirks). Only the Official
Account / Mini Program platform (api.weixin.qq.com) is wired today; Weixin Work
(qyapi.weixin.qq.com, /cgi-bin/card/invoice/reimburse/..., getinvoiceinfobatch, gettoken with
corpid/corpsecret, 40078 meaning "invalid auth_code") is one more PlatformSpec plus its token
fetcher in tokens.py. A third-party platform's authorizer token is another token fetcher.
"""

from dataclasses import dataclass
from enum import Enum, StrEnum


class Platform(StrEnum):
    """The kinds of WeChat account the gateway can act for."""

    OFFICIAL_ACCOUNT = "official_account"


class Api(Enum):
    """The upstream calls the gateway makes."""

    TOKEN = "token"
    STABLE_TOKEN = "stable_token"
    GET_TICKET = "getticket"
    GET_INVOICE_INFO = "getinvoiceinfo"
    GET_INVOICE_BATCH = "getinvoicebatch"
    UPDATE_INVOICE_STATUS = "updateinvoicestatus"
    UPDATE_STATUS_BATCH = "updatestatusbatch"


#: Calls that change state at WeChat: never retried once they may have been applied.
MUTATING_APIS = frozenset({Api.UPDATE_INVOICE_STATUS, Api.UPDATE_STATUS_BATCH})


@dataclass(frozen=True, slots=True)
class PlatformSpec:
    """Where a platform keeps each API."""

    default_base_url: str
    paths: dict[Api, str]


PLATFORMS: dict[Platform, PlatformSpec] = {
    Platform.OFFICIAL_ACCOUNT: PlatformSpec(
        default_base_url="https://api.weixin.qq.com",
        paths={
            Api.TOKEN: "/cgi-bin/token",
            Api.STABLE_TOKEN: "/cgi-bin/stable_token",
            Api.GET_TICKET: "/cgi-bin/ticket/getticket",
            Api.GET_INVOICE_INFO: "/card/invoice/reimburse/getinvoiceinfo",
            Api.GET_INVOICE_BATCH: "/card/invoice/reimburse/getinvoicebatch",
            Api.UPDATE_INVOICE_STATUS: "/card/invoice/reimburse/updateinvoicestatus",
            Api.UPDATE_STATUS_BATCH: "/card/invoice/reimburse/updatestatusbatch",
        },
    ),
}
