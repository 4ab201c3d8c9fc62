"""Access tokens per account, and the one place a call is retried after a refused token.

How a token is fetched depends on the account's platform:
- official_account / mini_program: /cgi-bin/stable_token (or /cgi-bin/token) with appid and
  secret.
- work: GET qyapi's /cgi-bin/gettoken?corpid=&corpsecret= (wechatpy, silenceper and WxJava
  agree); WeCom returns the same token until it expires, so replicas share it like a stable
  token.
- component: the merchant's authorizer_access_token, from the third-party platform
  (component.py: component_access_token, then api_authorizer_token).
Whatever the platform, the token lives in the same cache under the account's key, with the
same single flight, shared-store lock and compare-and-expire.
"""

import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any, Protocol, TypeVar

from fapiao_gateway.domain.accounts import Platform
from fapiao_gateway.domain.context import Deadline
from fapiao_gateway.wechat.accounts import Account, TokenEndpoint
from fapiao_gateway.wechat.credentials import Credential, CredentialCache
from fapiao_gateway.wechat.errcode_tables import token_errcodes
from fapiao_gateway.wechat.errcodes import WeChatRefused
from fapiao_gateway.wechat.models import TokenReply
from fapiao_gateway.wechat.platforms import Api
from fapiao_gateway.wechat.upstream import Upstream, deadline_exceeded, parse_reply

T = TypeVar("T")


class AuthorizerTokens(Protocol):
    """Where third-party platform merchants' tokens come from (component.py)."""

    async def authorizer_token(self, account: Account) -> Credential: ...


async def with_fresh_token(
    get: Callable[[], Awaitable[str]],
    expire: Callable[[str], Awaitable[None]],
    send: Callable[[str], Awaitable[T]],
    refusals: Collection[int],
) -> T:
    """Sends with a token; when WeChat refuses it (an errcode of `refusals`), expires that
    token only if it is still the cached one (compare-and-expire), gets one again and sends
    once more: never a loop. Safe for writes too: WeChat checks the token before it acts."""
    for attempt in (1, 2):
        token = await get()
        try:
            return await send(token)
        except WeChatRefused as refused:
            if refused.errcode not in refusals or attempt == 2:
                # A token refused right after it was fetched means the account itself is
                # broken: keep it, so a storm of refusals costs one fetch per call.
                raise
            await expire(token)
    raise AssertionError("unreachable")


class AccessTokens:
    """Gets each account's access token through the cache, and calls APIs that need one."""

    def __init__(
        self,
        upstream: Upstream,
        cache: CredentialCache,
        *,
        fetch_timeout: float,
        clock: Callable[[], float] = time.time,
        authorizers: AuthorizerTokens | None = None,
    ) -> None:
        self._upstream = upstream
        self._cache = cache
        self._fetch_timeout = fetch_timeout
        self._clock = clock
        self._authorizers = authorizers

    @staticmethod
    def cache_key(account: Account) -> str:
        return f"access_token:{account.appid}"

    async def get(self, account: Account, deadline: Deadline) -> str:
        """The account's token: cached, or fetched once for every concurrent caller."""
        try:
            return await self._cache.get(
                self.cache_key(account),
                lambda: self._fetch(account),
                timeout=deadline.remaining(),
            )
        except TimeoutError:
            raise deadline_exceeded(account, self.token_api(account)) from None

    async def call(
        self,
        account: Account,
        api: Api,
        *,
        deadline: Deadline,
        query: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Calls an API that takes ?access_token=, refreshing a refused token once."""

        async def send(token: str) -> dict[str, Any]:
            return await self._upstream.call(
                account,
                api,
                deadline=deadline,
                query={**(query or {}), "access_token": token},
                body=body,
            )

        return await with_fresh_token(
            lambda: self.get(account, deadline),
            lambda token: self._cache.expire(self.cache_key(account), token),
            send,
            token_errcodes(account.platform),
        )

    @staticmethod
    def token_api(account: Account) -> Api:
        """The API that hands out the account's token."""
        match account.platform:
            case Platform.WORK:
                return Api.WORK_TOKEN
            case Platform.COMPONENT:
                return Api.AUTHORIZER_TOKEN
            case _ if account.token_endpoint is TokenEndpoint.CLASSIC:
                return Api.TOKEN
            case _:
                return Api.STABLE_TOKEN

    async def _fetch(self, account: Account) -> Credential:
        if account.platform is Platform.COMPONENT:
            if self._authorizers is None:
                raise RuntimeError("third-party platform merchants need AuthorizerTokens")
            return await self._authorizers.authorizer_token(account)
        deadline = Deadline.after(self._fetch_timeout)
        secret = account.secret.get_secret_value()
        api = self.token_api(account)
        if api is Api.WORK_TOKEN:
            query = {"corpid": account.corp_id, "corpsecret": secret}
            payload = await self._upstream.call(account, api, deadline=deadline, query=query)
        elif api is Api.STABLE_TOKEN:
            body = {
                "grant_type": "client_credential",
                "appid": account.appid,
                "secret": secret,
                "force_refresh": False,
            }
            payload = await self._upstream.call(account, api, deadline=deadline, body=body)
        else:
            query = {"grant_type": "client_credential", "appid": account.appid, "secret": secret}
            payload = await self._upstream.call(account, api, deadline=deadline, query=query)
        reply = parse_reply(TokenReply, payload, account, api)
        return Credential(reply.access_token, self._clock() + reply.expires_in)
