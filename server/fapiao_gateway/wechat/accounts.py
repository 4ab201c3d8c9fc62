"""The WeChat accounts the gateway acts for, with what calling WeChat for them takes.

`Account` carries the secret and stays inside the adapter; use cases see the same account
as a domain WeChatAccount (names only), found through `AccountRegistry.find`.

Per platform (domain.accounts.Platform):
- official_account / mini_program: appid and AppSecret.
- work: a Weixin Work app: corp ID, agent ID and the app's secret; its key (`appid`) is
  "<corp_id>/<agent_id>" (domain.accounts.work_app_key) and requests may name it by that key,
  its alias or its corp ID (the corp ID only while one app of the corp is configured).
- component: a merchant a third-party platform acts for: the merchant's appid (the
  authorizer_appid), its `ComponentApp`, and the authorizer_refresh_token it was configured
  with (component.py keeps the newest one WeChat hands out).
"""

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from pydantic import SecretStr

from fapiao_gateway.domain.accounts import Platform, WeChatAccount
from fapiao_gateway.domain.errors import (
    FailedPrecondition,
    PreconditionViolation,
    account_subject,
)
from fapiao_gateway.wechat.platforms import PLATFORMS


class TokenEndpoint(StrEnum):
    """How the account's access token is obtained.

    STABLE (default): /cgi-bin/stable_token in normal mode; repeated fetches return the same
    token, so replicas cannot knock each other's token out. CLASSIC: /cgi-bin/token; every
    fetch invalidates the previous token (after ~5 minutes), for accounts that must use it.
    Official Accounts and Mini Programs only: the other platforms have one way each.
    """

    STABLE = "stable"
    CLASSIC = "classic"


@dataclass(frozen=True, slots=True)
class ComponentApp:
    """A third-party platform (服务商's 第三方平台): what getting its merchants' tokens takes.

    `token` and `encoding_aes_key` verify and decrypt the messages WeChat pushes (the
    component_verify_ticket every 10 minutes); `verify_ticket` is one an operator configured,
    used while no pushed one is stored. Every secret is a SecretStr.
    """

    appid: str
    secret: SecretStr = field(repr=False)
    token: SecretStr = field(repr=False)
    encoding_aes_key: SecretStr = field(repr=False)
    verify_ticket: SecretStr = field(default=SecretStr(""), repr=False)
    base_url: str = ""


@dataclass(frozen=True, slots=True)
class Account:
    """One WeChat account. Secrets are SecretStr: they never show in reprs or logs."""

    appid: str
    secret: SecretStr = field(repr=False)
    alias: str = ""
    platform: Platform = Platform.OFFICIAL_ACCOUNT
    token_endpoint: TokenEndpoint = TokenEndpoint.STABLE
    base_url: str = ""
    #: Weixin Work: the corp and the app.
    corp_id: str = ""
    agent_id: int = 0
    #: Third-party platform merchants: the platform, and the configured refresh token.
    component: ComponentApp | None = None
    refresh_token: SecretStr = field(default=SecretStr(""), repr=False)

    @property
    def upstream_base_url(self) -> str:
        """Where this account's calls go: its own base_url (a merchant: its platform's), else
        its platform's WeChat host."""
        own = self.base_url or (self.component.base_url if self.component else "")
        return (own or PLATFORMS[self.platform].default_base_url).rstrip("/")

    @property
    def public(self) -> WeChatAccount:
        """The account as use cases see it."""
        return WeChatAccount(self.appid, self.alias, self.platform, self.corp_id, self.agent_id)


class AccountRegistry:
    """The configured accounts, by appid and alias (services.ports.AccountDirectory), and
    Weixin Work apps by corp ID too while the corp has only one configured."""

    def __init__(self, accounts: Iterable[Account]) -> None:
        listed = list(accounts)
        self._by_name: dict[str, Account] = {}
        self._by_appid: dict[str, Account] = {}
        corps = Counter(a.corp_id for a in listed if a.corp_id)
        for account in listed:
            corp_name = account.corp_id if corps[account.corp_id] == 1 else ""
            for name in filter(None, dict.fromkeys((account.appid, account.alias, corp_name))):
                if name in self._by_name:
                    raise ValueError(f"account name {name!r} is configured twice")
                self._by_name[name] = account
            self._by_appid[account.appid] = account

    def find(self, name: str) -> WeChatAccount | None:
        """The account called `name` (appid, alias or corp ID), if one is configured."""
        account = self._by_name.get(name)
        return None if account is None else account.public

    def listed(self) -> tuple[WeChatAccount, ...]:
        """Every configured account, in configuration order."""
        return tuple(account.public for account in self._by_appid.values())

    def credentials(self, appid: str) -> Account:
        """The account with appid `appid`, secret and all (for the adapter's own use)."""
        account = self._by_appid.get(appid)
        if account is None:
            raise FailedPrecondition(
                f"No WeChat account {appid!r} is configured (any more).",
                reason="WECHAT_ACCOUNT_NOT_CONFIGURED",
                account=appid,
                precondition_violations=[
                    PreconditionViolation(
                        "GATEWAY_CONFIG", account_subject(appid), "configure the account"
                    )
                ],
            )
        return account

    def __iter__(self) -> Iterator[Account]:
        return iter(self._by_appid.values())
