"""The composition root: configuration in, a running gateway out. The only place that wires.

config -> accounts, transport, credential store -> upstream, tokens -> WeChat client
-> use cases -> servicer -> gRPC server.
"""

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
from pydantic import SecretStr
from redis.asyncio import Redis

from fapiao_gateway.api.handlers import invoice_service_handler
from fapiao_gateway.api.server import GrpcServer, ServerTls, start_grpc_server
from fapiao_gateway.api.servicer import InvoiceServicer
from fapiao_gateway.auth.directory import CallerDirectory, CallerEntry
from fapiao_gateway.auth.keys import StoredKey, create_key
from fapiao_gateway.config import Settings
from fapiao_gateway.domain.callers import ANY, Caller
from fapiao_gateway.ledger.engine import create_engine, migrate
from fapiao_gateway.ledger.import_sessions import ImportSessions
from fapiao_gateway.ledger.status_changes import StatusChangeStore
from fapiao_gateway.ledger.store import Ledger
from fapiao_gateway.sandbox.app import Sandbox, create_sandbox
from fapiao_gateway.sandbox.transport import IN_PROCESS_BASE_URL, in_process_transport
from fapiao_gateway.services.access import AccessPolicy
from fapiao_gateway.services.import_qr import ImportQrIssuer
from fapiao_gateway.services.imports import InvoiceImporter
from fapiao_gateway.services.invoices import InvoiceReader
from fapiao_gateway.services.search import InvoiceSearch
from fapiao_gateway.services.signing import JsapiSigner
from fapiao_gateway.services.status import StatusUpdater
from fapiao_gateway.wechat.accounts import Account, AccountRegistry
from fapiao_gateway.wechat.aiohttp_transport import AiohttpTransport
from fapiao_gateway.wechat.client import WeChatInvoices
from fapiao_gateway.wechat.credentials import (
    CredentialCache,
    CredentialStore,
    MemoryCredentialStore,
)
from fapiao_gateway.wechat.redis_store import RedisCredentialStore
from fapiao_gateway.wechat.tickets import Tickets
from fapiao_gateway.wechat.tokens import AccessTokens
from fapiao_gateway.wechat.transport import HttpxTransport, Transport
from fapiao_gateway.wechat.upstream import RetryPolicy, Upstream

#: The caller sandbox mode creates when none is configured.
DEVELOPMENT_CALLER = "sandbox-developer"


class StartupRefused(Exception):
    """The configuration is not safe or complete enough to serve; the message says why."""


@dataclass
class Callers:
    """The caller directory in force; replaced whole on reload (key rotation)."""

    directory: CallerDirectory
    #: In sandbox mode without configured callers: the development key, shown at start.
    development_key: str | None = None


def callers_from(settings: Settings) -> Callers:
    """The caller directory the settings describe (a development caller in sandbox mode)."""
    if settings.callers:
        secret = settings.auth_secret.get_secret_value().encode() if settings.auth_secret else b""
        entries = [
            CallerEntry(
                caller=Caller(c.name, frozenset(c.accounts), frozenset(c.operations)),
                keys=tuple(StoredKey.parse(k) for k in c.keys),
                tls_common_names=tuple(c.tls_common_names),
            )
            for c in settings.callers
        ]
        return Callers(CallerDirectory(secret, entries))
    if not settings.sandbox:
        raise StartupRefused(
            "refusing to start: no callers are configured, so nobody could call safely. "
            "Add [[callers]] with keys from `fapiao-gateway create-key` (see README), "
            "or run `serve --sandbox` to try it out."
        )
    secret = secrets.token_bytes(32)
    key, stored = create_key(secret)
    developer = Caller(DEVELOPMENT_CALLER, frozenset({ANY}), frozenset({ANY}))
    return Callers(CallerDirectory(secret, [CallerEntry(developer, keys=(stored,))]), key)


@dataclass
class Gateway:
    """A running gateway and what must be closed when it stops."""

    settings: Settings
    grpc: GrpcServer
    accounts: AccountRegistry
    callers: Callers
    sandbox: Sandbox | None = None
    _closers: list[Callable[[], Awaitable[object]]] = field(default_factory=list)

    def reload_callers(self, settings: Settings) -> None:
        """Puts the callers of `settings` in force for the next calls (no restart)."""
        self.callers.directory = callers_from(settings).directory

    @property
    def address(self) -> str:
        host = self.settings.listen.rsplit(":", 1)[0]
        return f"{host}:{self.grpc.port}"

    async def stop(self, grace: float | None = None) -> None:
        """Graceful shutdown: NOT_SERVING, drain in-flight calls, then close connections."""
        await self.grpc.stop(self.settings.shutdown_grace_seconds if grace is None else grace)
        for close in reversed(self._closers):
            await close()


def _accounts(settings: Settings, sandbox: Sandbox | None) -> list[Account]:
    configured = [
        Account(
            appid=a.appid,
            secret=a.secret,
            alias=a.alias,
            platform=a.platform,
            token_endpoint=a.token_endpoint,
            base_url=a.base_url,
        )
        for a in settings.accounts
    ]
    if sandbox is not None and not configured:
        configured = [
            Account(
                appid=a.appid,
                secret=SecretStr(a.secret),
                alias=a.alias,
                base_url=IN_PROCESS_BASE_URL,
            )
            for a in sandbox.emulator.accounts.values()
        ]
    return configured


def _transport(settings: Settings, sandbox: Sandbox | None) -> Transport:
    up = settings.upstream
    if sandbox is not None:
        return HttpxTransport(httpx.AsyncClient(transport=in_process_transport(sandbox)))
    if up.http_client == "aiohttp":
        return AiohttpTransport(max_connections=up.max_connections)
    limits = httpx.Limits(
        max_connections=up.max_connections, max_keepalive_connections=up.max_keepalive_connections
    )
    return HttpxTransport(httpx.AsyncClient(limits=limits, trust_env=True))


async def start_gateway(settings: Settings, *, sandbox: Sandbox | None = None) -> Gateway:
    """Builds every part from `settings` and starts serving.

    In sandbox mode the emulator runs in process (pass one in to inspect or fault it).
    """
    callers = callers_from(settings)
    if settings.sandbox and sandbox is None:
        sandbox = create_sandbox()
    if not settings.sandbox:
        sandbox = None
    closers: list[Callable[[], Awaitable[object]]] = []

    store: CredentialStore
    if settings.token_store == "redis":
        redis = Redis.from_url(settings.redis_url)
        store = RedisCredentialStore(redis, prefix=settings.redis_prefix)
        closers.append(redis.aclose)
    else:
        store = MemoryCredentialStore()

    up = settings.upstream
    transport = _transport(settings, sandbox)
    closers.append(transport.aclose)
    upstream = Upstream(
        transport,
        request_timeout=up.request_timeout_seconds,
        retry=RetryPolicy(up.max_attempts, up.backoff_base_seconds, up.backoff_max_seconds),
    )
    cache = CredentialCache(store, margin=up.credential_margin_seconds)
    tokens = AccessTokens(upstream, cache, fetch_timeout=up.token_fetch_timeout_seconds)
    accounts = AccountRegistry(_accounts(settings, sandbox))
    engine = create_engine(settings.database_url)
    closers.append(engine.dispose)
    ledger = Ledger(engine)
    sessions = ImportSessions(engine)
    wechat = WeChatInvoices(tokens, batch_size=up.batch_size)
    servicer = InvoiceServicer(
        AccessPolicy(accounts),
        InvoiceReader(wechat, ledger),
        InvoiceImporter(wechat, ledger, sessions, lock_batch_size=up.batch_size),
        InvoiceSearch(ledger),
        StatusUpdater(wechat, ledger, StatusChangeStore(engine)),
        JsapiSigner(Tickets(tokens, cache, fetch_timeout=up.token_fetch_timeout_seconds)),
        ImportQrIssuer(sessions, page_url=_import_page_url(settings)),
        max_batch_update=up.batch_size,
        import_qr_ttl=timedelta(seconds=settings.import_qr_ttl_seconds),
    )
    service = invoice_service_handler(servicer, lambda: callers.directory)
    try:
        await migrate(engine)
        server = await start_grpc_server(
            service,
            listen=settings.listen,
            tls=_server_tls(settings),
            max_receive_message_bytes=settings.max_receive_message_bytes,
            max_send_message_bytes=settings.max_send_message_bytes,
            reuse_port=settings.reuse_port,
        )
    except BaseException:
        for close in reversed(closers):
            await close()
        raise
    return Gateway(settings, server, accounts, callers, sandbox, closers)


#: What sandbox mode's QR codes point at when no import page is configured.
SANDBOX_IMPORT_PAGE = "https://reimburse.example.com/wechat/import"


def _import_page_url(settings: Settings) -> str:
    if settings.import_page_url or not settings.sandbox:
        return settings.import_page_url
    return SANDBOX_IMPORT_PAGE


def _server_tls(settings: Settings) -> ServerTls | None:
    if settings.tls is None:
        return None
    tls = settings.tls
    return ServerTls(
        cert_chain=tls.cert_file.read_bytes(),
        private_key=tls.key_file.read_bytes(),
        client_ca=tls.client_ca_file.read_bytes() if tls.client_ca_file else None,
    )
