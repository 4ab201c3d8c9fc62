"""Third-party platform (第三方平台) credentials: how a 服务商 gets each merchant's token.

Three credentials, each in the shared credential store (Redis: every replica sees them):
1. component_verify_ticket: WeChat pushes it every 10 minutes to the platform's event URL
   (component_push.py stores it here), or an operator sets it (`fapiao-gateway component
   set-ticket`, or `verify_ticket` in the configuration, used while none is stored). It is
   taken to last 12 hours after WeChat made it (its CreateTime; WeChat's open-platform docs),
   and a pushed ticket older than the stored one is ignored.
2. component_access_token: POST /cgi-bin/component/api_component_token {component_appid,
   component_appsecret, component_verify_ticket} -> {component_access_token, expires_in}.
   Cached like an access token (single flight, shared-store lock, compare-and-expire).
3. authorizer_access_token per merchant: POST /cgi-bin/component/api_authorizer_token
   ?component_access_token= {component_appid, authorizer_appid, authorizer_refresh_token}
   -> {authorizer_access_token, expires_in, authorizer_refresh_token}. This is the merchant
   account's access token (tokens.AccessTokens caches it under the merchant's appid).
Shapes as in wechatpy (component.py and its fixtures) and WxJava's open module, which agree.

The refresh token. The first comes from the configuration; the reply to each refresh may hand
out a new one, and WeChat's docs say to keep it (a lost one needs the merchant to authorize
again). The newest is stored under the merchant's appid and a digest of the configured one,
without expiry, so every replica (and a restart, with Redis) uses it; configuring a new
refresh token (after the merchant authorized again) starts afresh because its digest differs.
With token_store = "memory" the newest lives in the process only: after a restart the
configured one is used, and if WeChat rotated it meanwhile the merchant's calls fail with
WECHAT_REFRESH_TOKEN_INVALID until the configuration gets a current one (logged at WARNING
when a rotation happens without a shared store).
"""

import hashlib
import logging
import time
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field

from fapiao_gateway.domain.context import Deadline
from fapiao_gateway.domain.errors import FailedPrecondition, PreconditionViolation
from fapiao_gateway.wechat.accounts import Account, ComponentApp
from fapiao_gateway.wechat.credentials import (
    Credential,
    CredentialCache,
    CredentialStore,
    StoreUnavailable,
)
from fapiao_gateway.wechat.errcode_tables import token_errcodes
from fapiao_gateway.wechat.platforms import Api
from fapiao_gateway.wechat.tokens import with_fresh_token
from fapiao_gateway.wechat.upstream import Upstream, deadline_exceeded, parse_reply

log = logging.getLogger("fapiao_gateway.component")

#: How long a component_verify_ticket is taken to be valid after it arrived.
VERIFY_TICKET_SECONDS = 12 * 3600
#: The expiry given to values that do not expire (refresh tokens): 9999-12-31.
NEVER = 253402300799.0


class _ComponentTokenReply(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    component_access_token: str = Field(min_length=1)
    expires_in: int = Field(gt=0)


class _AuthorizerTokenReply(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    authorizer_access_token: str = Field(min_length=1)
    expires_in: int = Field(gt=0)
    authorizer_refresh_token: str = ""


def verify_ticket_key(component_appid: str) -> str:
    return f"component_verify_ticket:{component_appid}"


def component_token_key(component_appid: str) -> str:
    return f"component_access_token:{component_appid}"


def refresh_token_key(account: Account) -> str:
    """Where the merchant's newest refresh token is kept: its appid and a digest of the
    configured one (one-way and truncated: the key reveals nothing of the token)."""
    configured = account.refresh_token.get_secret_value().encode()
    return f"authorizer_refresh_token:{account.appid}:{hashlib.sha256(configured).hexdigest()[:16]}"


async def store_verify_ticket(
    store: CredentialStore, component_appid: str, ticket: str, now: float
) -> None:
    """Keeps a component_verify_ticket (pushed, or set by an operator) where every replica's
    component token fetch looks, for VERIFY_TICKET_SECONDS."""
    await store.save(
        verify_ticket_key(component_appid), Credential(ticket, now + VERIFY_TICKET_SECONDS)
    )


class ComponentCredentials:
    """Verify tickets, component tokens and merchants' authorizer tokens
    (tokens.AuthorizerTokens)."""

    def __init__(
        self,
        upstream: Upstream,
        cache: CredentialCache,
        store: CredentialStore,
        *,
        fetch_timeout: float,
        shared_store: bool,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._upstream = upstream
        self._cache = cache
        self._store = store
        self._fetch_timeout = fetch_timeout
        self._shared = shared_store
        self._clock = clock
        #: Refresh tokens seen by this process: used while the store does not answer.
        self._refresh_tokens: dict[str, str] = {}

    async def save_verify_ticket(
        self, component_appid: str, ticket: str, created_at: float | None = None
    ) -> None:
        """Stores a component_verify_ticket WeChat pushed at `created_at` (its CreateTime),
        unless the store holds a newer one: a push replayed later, or delivered late after a
        newer one, cannot bring back an older ticket."""
        now = self._clock()
        created = now if created_at is None else min(created_at, now)
        if created + VERIFY_TICKET_SECONDS <= now:
            log.warning("a component_verify_ticket for %s is too old: ignored", component_appid)
            return
        try:
            stored = await self._store.load(verify_ticket_key(component_appid))
        except StoreUnavailable:
            stored = None
        if stored is not None and stored.expires_at > created + VERIFY_TICKET_SECONDS:
            log.info("an older component_verify_ticket for %s: ignored", component_appid)
            return
        await store_verify_ticket(self._store, component_appid, ticket, created)

    async def authorizer_token(self, account: Account) -> Credential:
        """Fetches the merchant's authorizer_access_token (its access token), keeping the
        refresh token WeChat hands back."""
        component = _component_of(account)
        deadline = Deadline.after(self._fetch_timeout)
        refresh_token = await self._refresh_token(account)
        body = {
            "component_appid": component.appid,
            "authorizer_appid": account.appid,
            "authorizer_refresh_token": refresh_token,
        }

        async def send(component_token: str) -> dict[str, object]:
            return await self._upstream.call(
                account,
                Api.AUTHORIZER_TOKEN,
                deadline=deadline,
                query={"component_access_token": component_token},
                body=body,
            )

        payload = await with_fresh_token(
            lambda: self._component_token(account, deadline),
            lambda token: self._cache.expire(component_token_key(component.appid), token),
            send,
            token_errcodes(account.platform),
        )
        reply = parse_reply(_AuthorizerTokenReply, payload, account, Api.AUTHORIZER_TOKEN)
        rotated = reply.authorizer_refresh_token
        if rotated and rotated != refresh_token:
            await self._keep_refresh_token(account, rotated)
        return Credential(reply.authorizer_access_token, self._clock() + reply.expires_in)

    async def _component_token(self, account: Account, deadline: Deadline) -> str:
        component = _component_of(account)
        try:
            return await self._cache.get(
                component_token_key(component.appid),
                lambda: self._fetch_component_token(account, component),
                timeout=deadline.remaining(),
            )
        except TimeoutError:
            raise deadline_exceeded(account, Api.COMPONENT_TOKEN) from None

    async def _fetch_component_token(self, account: Account, component: ComponentApp) -> Credential:
        deadline = Deadline.after(self._fetch_timeout)
        body = {
            "component_appid": component.appid,
            "component_appsecret": component.secret.get_secret_value(),
            "component_verify_ticket": await self._verify_ticket(component),
        }
        payload = await self._upstream.call(
            account, Api.COMPONENT_TOKEN, deadline=deadline, body=body
        )
        reply = parse_reply(_ComponentTokenReply, payload, account, Api.COMPONENT_TOKEN)
        return Credential(reply.component_access_token, self._clock() + reply.expires_in)

    async def _verify_ticket(self, component: ComponentApp) -> str:
        stored = None
        try:
            stored = await self._store.load(verify_ticket_key(component.appid))
        except StoreUnavailable as outage:
            log.warning("credential store unavailable (%s): using the configured ticket", outage)
        if stored is not None and stored.usable(self._clock(), 0):
            return stored.value
        configured = component.verify_ticket.get_secret_value()
        if configured:
            return configured
        raise FailedPrecondition(
            f"No component_verify_ticket for third-party platform {component.appid} yet: WeChat "
            "pushes one every 10 minutes to the platform's event URL (http_listen), or an "
            "operator sets one (`fapiao-gateway component set-ticket`).",
            reason="COMPONENT_VERIFY_TICKET_MISSING",
            precondition_violations=[
                PreconditionViolation(
                    "COMPONENT_VERIFY_TICKET",
                    f"wechat-component:{component.appid}",
                    "no component_verify_ticket has arrived",
                )
            ],
        )

    async def _refresh_token(self, account: Account) -> str:
        key = refresh_token_key(account)
        try:
            stored = await self._store.load(key)
        except StoreUnavailable:
            stored = None
        if stored is not None and stored.value:
            return stored.value
        return self._refresh_tokens.get(key) or account.refresh_token.get_secret_value()

    async def _keep_refresh_token(self, account: Account, value: str) -> None:
        key = refresh_token_key(account)
        self._refresh_tokens[key] = value
        try:
            await self._store.save(key, Credential(value, NEVER))
        except StoreUnavailable as outage:
            log.error(
                "WeChat rotated the authorizer refresh token of %s and the credential store "
                "is unavailable (%s): only this process knows the new one",
                account.appid,
                outage,
            )
            return
        if not self._shared:
            log.warning(
                "WeChat rotated the authorizer refresh token of %s: with token_store = "
                '"memory" a restart forgets it; use token_store = "redis" to keep it',
                account.appid,
            )


def _component_of(account: Account) -> ComponentApp:
    if account.component is None:
        raise RuntimeError(f"account {account.appid} is not a third-party platform merchant")
    return account.component
