"""Access tokens per account, and the one place a call is retried after a refused token."""

import time
from collections.abc import Callable, Mapping
from typing import Any

from fapiao_gateway.domain.context import Deadline
from fapiao_gateway.domain.invoice import InvoiceRef
from fapiao_gateway.wechat.accounts import Account, TokenEndpoint
from fapiao_gateway.wechat.credentials import Credential, CredentialCache
from fapiao_gateway.wechat.errcodes import TokenRejected
from fapiao_gateway.wechat.models import TokenReply
from fapiao_gateway.wechat.platforms import Api
from fapiao_gateway.wechat.upstream import Upstream, deadline_exceeded, parse_reply


class AccessTokens:
    """Gets each account's access token through the cache, and calls APIs that need one."""

    def __init__(
        self,
        upstream: Upstream,
        cache: CredentialCache,
        *,
        fetch_timeout: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._upstream = upstream
        self._cache = cache
        self._fetch_timeout = fetch_timeout
        self._clock = clock

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
            raise deadline_exceeded(account, self._token_api(account)) from None

    async def call(
        self,
        account: Account,
        api: Api,
        *,
        deadline: Deadline,
        query: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        ref: InvoiceRef | None = None,
    ) -> dict[str, Any]:
        """Calls an API that takes ?access_token=.

        On 40001/40014/42001 the refused token is expired only if it is still the cached one
        (compare-and-expire), a token is got again and the call is sent once more: never a
        loop. Safe for writes too: WeChat checks the token before it acts.
        """
        for attempt in (1, 2):
            token = await self.get(account, deadline)
            try:
                return await self._upstream.call(
                    account,
                    api,
                    deadline=deadline,
                    query={**(query or {}), "access_token": token},
                    body=body,
                    ref=ref,
                )
            except TokenRejected:
                if attempt == 2:
                    # A token refused right after it was fetched means the account itself
                    # is broken: keep it, so a storm of refusals costs one fetch per call.
                    raise
                await self._cache.expire(self.cache_key(account), token)
        raise AssertionError("unreachable")

    @staticmethod
    def _token_api(account: Account) -> Api:
        return Api.STABLE_TOKEN if account.token_endpoint is TokenEndpoint.STABLE else Api.TOKEN

    async def _fetch(self, account: Account) -> Credential:
        deadline = Deadline.after(self._fetch_timeout)
        secret = account.secret.get_secret_value()
        api = self._token_api(account)
        if api is Api.STABLE_TOKEN:
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
