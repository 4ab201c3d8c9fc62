"""The WeChat accounts the gateway acts for, as use cases see them: names, never secrets.

The secret-bearing side (secrets, token endpoints, hosts) belongs to the WeChat adapter; a use
case holds a WeChatAccount and passes its appid to the ports.
"""

from dataclasses import dataclass
from enum import StrEnum


class Platform(StrEnum):
    """The kinds of WeChat account the gateway can act for.

    OFFICIAL_ACCOUNT and MINI_PROGRAM share api.weixin.qq.com, its paths and its errcodes.
    WORK is a Weixin Work (WeCom, 企业微信) corp app on qyapi.weixin.qq.com. COMPONENT is a
    merchant's Official Account that a third-party platform (服务商) acts for with an
    authorizer_access_token, on api.weixin.qq.com.
    """

    OFFICIAL_ACCOUNT = "official_account"
    MINI_PROGRAM = "mini_program"
    WORK = "work"
    COMPONENT = "component"


def work_app_key(corp_id: str, agent_id: int) -> str:
    """The key a Weixin Work app is stored under (the `appid` of everything else).

    A corp can run several apps, each with its own secret and tokens, so the corp ID alone is
    not unique: the key is "<corp_id>/<agent_id>", e.g. "ww1234567890abcdef/1000002".
    """
    return f"{corp_id}/{agent_id}"


@dataclass(frozen=True, slots=True)
class WeChatAccount:
    """One configured account: its appid (the key everything is stored under) and alias.

    For a Weixin Work app the appid is `work_app_key(corp_id, agent_id)`, and the JS-SDK's
    appId is the corp ID.
    """

    appid: str
    alias: str = ""
    platform: Platform = Platform.OFFICIAL_ACCOUNT
    corp_id: str = ""
    agent_id: int = 0

    @property
    def names(self) -> tuple[str, ...]:
        """Every name a request may use for it."""
        return tuple(n for n in (self.appid, self.alias, self.corp_id) if n)

    @property
    def jsapi_app_id(self) -> str:
        """The appId a page passes to wx.config (the corp ID for Weixin Work)."""
        return self.corp_id if self.platform is Platform.WORK else self.appid
