"""`fapiao-gateway component set-ticket`: an operator hands the gateway a
component_verify_ticket, for when WeChat's pushes cannot reach it (no http_listen, a firewall,
a first start before the next push).

It goes into the shared token store (Redis), where every replica's next component token fetch
finds it, exactly as a pushed one would. With token_store = "memory" there is no store another
process could reach: the command refuses and says to put it in the configuration
(components[].verify_ticket) instead.
"""

import contextlib
import time
from collections.abc import Awaitable, Callable

from fapiao_gateway.bootstrap import credential_store
from fapiao_gateway.config import Settings
from fapiao_gateway.wechat.component import store_verify_ticket
from fapiao_gateway.wechat.credentials import StoreUnavailable


class TicketRefused(Exception):
    """The ticket cannot be stored; the message says why and what to do instead."""


async def set_verify_ticket(settings: Settings, component_appid: str, ticket: str) -> None:
    """Stores `ticket` for the configured platform `component_appid`."""
    known = [c.component_appid for c in settings.components]
    if component_appid not in known:
        raise TicketRefused(f"no component {component_appid!r} is configured (known: {known})")
    if not ticket.strip():
        raise TicketRefused("the ticket is empty")
    if settings.token_store != "redis":
        raise TicketRefused(
            'token_store is "memory": no other process can reach it. Put the ticket in the '
            "configuration (components[].verify_ticket) and restart, or serve http_listen"
        )
    closers: list[Callable[[], Awaitable[object]]] = []
    try:
        store = credential_store(settings, closers)
        await store_verify_ticket(store, component_appid, ticket.strip(), time.time())
    except StoreUnavailable as outage:
        raise TicketRefused(f"Redis did not answer ({outage})") from None
    finally:
        for close in closers:
            with contextlib.suppress(Exception):
                await close()
