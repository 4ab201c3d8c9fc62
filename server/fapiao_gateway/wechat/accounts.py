"""The WeChat accounts the gateway acts for, and how a request's `account` finds one."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from pydantic import SecretStr

from fapiao_gateway.wechat.platforms import PLATFORMS, Platform


class TokenEndpoint(StrEnum):
    """How the account's access token is obtained.

    STABLE (default): /cgi-bin/stable_token in normal mode; repeated fetches return the same
    token, so replicas cannot knock each other's token out. CLASSIC: /cgi-bin/token; every
    fetch invalidates the previous token (after ~5 minutes), for accounts that must use it.
    """

    STABLE = "stable"
    CLASSIC = "classic"


@dataclass(frozen=True, slots=True)
class Account:
    """One WeChat account. The secret is a SecretStr: it never shows in reprs or logs."""

    appid: str
    secret: SecretStr = field(repr=False)
    alias: str = ""
    platform: Platform = Platform.OFFICIAL_ACCOUNT
    token_endpoint: TokenEndpoint = TokenEndpoint.STABLE
    base_url: str = ""

    @property
    def upstream_base_url(self) -> str:
        """Where this account's calls go: its own base_url, else its platform's WeChat host."""
        return (self.base_url or PLATFORMS[self.platform].default_base_url).rstrip("/")


class AccountRegistry:
    """Resolves a request's `account` (appid or alias) to a configured Account."""

    def __init__(self, accounts: Iterable[Account]) -> None:
        self._by_name: dict[str, Account] = {}
        for account in accounts:
            for name in filter(None, (account.appid, account.alias)):
                if name in self._by_name:
                    raise ValueError(f"account name {name!r} is configured twice")
                self._by_name[name] = account

    def find(self, name: str) -> Account | None:
        """The account called `name` (appid or alias), if one is configured."""
        return self._by_name.get(name)

    def __iter__(self) -> "Iterable[Account]":
        return iter({id(a): a for a in self._by_name.values()}.values())
