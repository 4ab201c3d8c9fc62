"""Tickets through the adapter against the in-process sandbox: cached, single flight, refreshed."""

import asyncio

import httpx
from fapiao_gateway.domain.context import Deadline
from fapiao_gateway.domain.signatures import TicketKind
from fapiao_gateway.sandbox import seed
from fapiao_gateway.sandbox.app import create_sandbox
from fapiao_gateway.sandbox.faults import FaultKind
from fapiao_gateway.sandbox.transport import IN_PROCESS_BASE_URL, in_process_transport
from fapiao_gateway.wechat.accounts import Account, AccountRegistry
from fapiao_gateway.wechat.credentials import CredentialCache, MemoryCredentialStore
from fapiao_gateway.wechat.tickets import Tickets
from fapiao_gateway.wechat.tokens import AccessTokens
from fapiao_gateway.wechat.transport import HttpxTransport
from fapiao_gateway.wechat.upstream import RetryPolicy, Upstream
from pydantic import SecretStr

ACCOUNT = Account(seed.PRIMARY.appid, SecretStr(seed.PRIMARY.secret), base_url=IN_PROCESS_BASE_URL)


def wire(clock: list[float]):
    sandbox = create_sandbox(clock=lambda: clock[0])
    transport = HttpxTransport(httpx.AsyncClient(transport=in_process_transport(sandbox)))
    upstream = Upstream(transport, request_timeout=2, retry=RetryPolicy(2, 0.001, 0.001))
    cache = CredentialCache(MemoryCredentialStore(), margin=300, clock=lambda: clock[0])
    tokens = AccessTokens(upstream, cache, fetch_timeout=2, clock=lambda: clock[0])
    accounts = AccountRegistry([ACCOUNT])
    return sandbox, Tickets(accounts, tokens, cache, fetch_timeout=2, clock=lambda: clock[0])


async def test_concurrent_ticket_misses_fetch_once_per_kind() -> None:
    sandbox, tickets = wire([1_800_000_000.0])
    sandbox.inject("getticket", FaultKind.LATENCY, 30)
    jsapi = await asyncio.gather(
        *(tickets.ticket(ACCOUNT.appid, TicketKind.JSAPI, Deadline()) for _ in range(200))
    )
    card = await asyncio.gather(
        *(tickets.ticket(ACCOUNT.appid, TicketKind.WX_CARD, Deadline()) for _ in range(200))
    )
    assert set(jsapi) == {sandbox.emulator.ticket_value(ACCOUNT.appid, "jsapi")}
    assert set(card) == {sandbox.emulator.ticket_value(ACCOUNT.appid, "wx_card")}
    assert sandbox.emulator.stats.count("getticket") == 2
    assert sandbox.emulator.stats.count("stable_token") == 1


async def test_tickets_are_renewed_before_they_expire() -> None:
    clock = [1_800_000_000.0]
    sandbox, tickets = wire(clock)
    first = await tickets.ticket(ACCOUNT.appid, TicketKind.JSAPI, Deadline())
    clock[0] += 7200 - 299  # inside the margin: renewed (the token too)
    sandbox.emulator._tickets.clear()  # WeChat issues a new ticket after expiry
    second = await tickets.ticket(ACCOUNT.appid, TicketKind.JSAPI, Deadline())
    assert second != first
    assert sandbox.emulator.stats.count("getticket") == 2


async def test_ticket_fetch_refreshes_a_refused_token_once() -> None:
    sandbox, tickets = wire([1_800_000_000.0])
    await tickets._tokens.get(ACCOUNT, Deadline())
    sandbox.emulator.invalidate_tokens(ACCOUNT.appid)
    assert await tickets.ticket(ACCOUNT.appid, TicketKind.WX_CARD, Deadline())
    assert sandbox.emulator.stats.count("stable_token") == 2
    assert sandbox.emulator.stats.count("getticket") == 2  # refused once, then served


async def test_account_reprs_hide_the_secret() -> None:
    assert seed.PRIMARY.secret not in repr(ACCOUNT)
    assert seed.PRIMARY.secret not in str(ACCOUNT)
