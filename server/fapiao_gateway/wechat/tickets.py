"""JS-SDK tickets (jsapi for wx.config, wx_card for chooseInvoice's cardSign, and on Weixin
Work agent_config for wx.agentConfig) per account: services.ports.TicketSource.

Where each kind comes from is the platform's (platforms.PlatformSpec.tickets). Cached like
tokens (same cache, same single flight and shared-store lock); an empty ticket is a miss,
never a hit. A kind the platform has no ticket for is INVALID_ARGUMENT on `purposes` (the
servicer refuses such a purpose before it gets here).
"""

import time
from collections.abc import Callable

from fapiao_gateway.domain.context import Deadline
from fapiao_gateway.domain.errors import FieldViolation, invalid_fields
from fapiao_gateway.domain.signatures import TicketKind
from fapiao_gateway.wechat.accounts import Account, AccountRegistry
from fapiao_gateway.wechat.boundary import wechat_call
from fapiao_gateway.wechat.credentials import Credential, CredentialCache
from fapiao_gateway.wechat.models import TicketReply
from fapiao_gateway.wechat.platforms import PLATFORMS, TicketCall
from fapiao_gateway.wechat.tokens import AccessTokens
from fapiao_gateway.wechat.upstream import deadline_exceeded, parse_reply


class Tickets:
    """Gets an account's tickets through the cache."""

    def __init__(
        self,
        accounts: AccountRegistry,
        tokens: AccessTokens,
        cache: CredentialCache,
        *,
        fetch_timeout: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._accounts = accounts
        self._tokens = tokens
        self._cache = cache
        self._fetch_timeout = fetch_timeout
        self._clock = clock

    async def ticket(self, appid: str, kind: TicketKind, deadline: Deadline) -> str:
        """The ticket of `kind`: cached, or fetched once for every concurrent caller."""
        account = self._accounts.credentials(appid)
        call = PLATFORMS[account.platform].tickets.get(kind)
        if call is None:
            raise invalid_fields(
                [
                    FieldViolation(
                        "purposes",
                        f"A {account.platform.value} account has no {kind.value} ticket.",
                    )
                ]
            )
        with wechat_call(appid, call.api):
            try:
                return await self._cache.get(
                    f"ticket:{kind.value}:{account.appid}",
                    lambda: self._fetch(account, call),
                    timeout=deadline.remaining(),
                )
            except TimeoutError:
                raise deadline_exceeded(account, call.api) from None

    async def _fetch(self, account: Account, call: TicketCall) -> Credential:
        deadline = Deadline.after(self._fetch_timeout)
        payload = await self._tokens.call(account, call.api, deadline=deadline, query=call.query)
        reply = parse_reply(TicketReply, payload, account, call.api)
        return Credential(reply.ticket, self._clock() + reply.expires_in)
