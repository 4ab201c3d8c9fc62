"""JS-SDK tickets (jsapi for wx.config, wx_card for chooseInvoice's cardSign) per account.

Cached like tokens (same cache, same single flight and shared-store lock); an empty ticket is
a miss, never a hit.
"""

import time
from collections.abc import Callable
from enum import StrEnum

from fapiao_gateway.domain.context import Deadline
from fapiao_gateway.wechat.accounts import Account
from fapiao_gateway.wechat.credentials import Credential, CredentialCache
from fapiao_gateway.wechat.models import TicketReply
from fapiao_gateway.wechat.platforms import Api
from fapiao_gateway.wechat.tokens import AccessTokens
from fapiao_gateway.wechat.upstream import deadline_exceeded, parse_reply


class TicketKind(StrEnum):
    """getticket's `type`."""

    JSAPI = "jsapi"
    WX_CARD = "wx_card"


class Tickets:
    """Gets an account's tickets through the cache."""

    def __init__(
        self,
        tokens: AccessTokens,
        cache: CredentialCache,
        *,
        fetch_timeout: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._tokens = tokens
        self._cache = cache
        self._fetch_timeout = fetch_timeout
        self._clock = clock

    async def get(self, account: Account, kind: TicketKind, deadline: Deadline) -> str:
        """The ticket of `kind`: cached, or fetched once for every concurrent caller."""
        try:
            return await self._cache.get(
                f"ticket:{kind.value}:{account.appid}",
                lambda: self._fetch(account, kind),
                timeout=deadline.remaining(),
            )
        except TimeoutError:
            raise deadline_exceeded(account, Api.GET_TICKET) from None

    async def _fetch(self, account: Account, kind: TicketKind) -> Credential:
        deadline = Deadline.after(self._fetch_timeout)
        payload = await self._tokens.call(
            account, Api.GET_TICKET, deadline=deadline, query={"type": kind.value}
        )
        reply = parse_reply(TicketReply, payload, account, Api.GET_TICKET)
        return Credential(reply.ticket, self._clock() + reply.expires_in)
