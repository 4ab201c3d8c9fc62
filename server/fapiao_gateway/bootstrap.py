"""The composition root: configuration in, a running gateway out. The only place that wires.

config -> accounts, transport, credential store -> upstream, tokens -> WeChat adapter (the
invoice source, status writer and ticket source ports); config -> database -> ledger
(invoices, intents, audit, sessions, reconciliation's call counts); ports -> use cases
(`build_services`, which tests call with fakes) -> servicer -> gRPC server (interceptors:
tracing, the call recorder, deadlines, authentication; rate limits at admission); and
recovery, reconciliation and the readiness probe running beside it. Telemetry (metrics,
traces, per-account health) is made per gateway (telemetry/instruments.py).
"""

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import RateLimiter, SlidingWindowCounterRateLimiter
from opentelemetry.sdk.trace.export import SpanExporter
from pydantic import SecretStr
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from fapiao_gateway.api.call_recorder import CallRecorder
from fapiao_gateway.api.connect import ConnectService, connect_app
from fapiao_gateway.api.deadlines import DeadlinePolicy
from fapiao_gateway.api.handlers import invoice_service_handler
from fapiao_gateway.api.http_server import HttpServer, start_http_server
from fapiao_gateway.api.quotas import Quotas
from fapiao_gateway.api.server import GrpcServer, ServerTls, start_grpc_server
from fapiao_gateway.api.servicer import InvoiceServicer
from fapiao_gateway.archive.directory import DirectoryArchive
from fapiao_gateway.auth.directory import CallerDirectory, CallerEntry
from fapiao_gateway.auth.keys import StoredKey, create_key
from fapiao_gateway.config import Settings
from fapiao_gateway.domain.accounts import Platform
from fapiao_gateway.domain.callers import ANY, Caller, ImportScope
from fapiao_gateway.domain.commands import OpenImportSession
from fapiao_gateway.domain.context import Deadline, RequestContext, wall_clock_us
from fapiao_gateway.ledger.audit import AuditTrail
from fapiao_gateway.ledger.documents import DocumentLedger
from fapiao_gateway.ledger.engine import (
    Database,
    DatabaseTimeouts,
    PoolSettings,
    create_engine,
    migrate,
)
from fapiao_gateway.ledger.import_sessions import ImportSessions
from fapiao_gateway.ledger.intents import IntentLog
from fapiao_gateway.ledger.invoices import InvoiceLedger
from fapiao_gateway.ledger.reconcile_calls import ReconcileCalls
from fapiao_gateway.memory import keep_giving_back
from fapiao_gateway.notify.local import LocalHub
from fapiao_gateway.notify.postgres import PostgresMedium
from fapiao_gateway.notify.redis import RedisMedium
from fapiao_gateway.notify.relay import Relay
from fapiao_gateway.ops.readiness import Readiness
from fapiao_gateway.ops.startup_checks import start_checks
from fapiao_gateway.pages import page_routes
from fapiao_gateway.pages.try_it import try_it_routes
from fapiao_gateway.sandbox import seed
from fapiao_gateway.sandbox.app import Sandbox, create_sandbox
from fapiao_gateway.sandbox.jssdk import JSSDK_PATH, jssdk_routes
from fapiao_gateway.sandbox.jssdk import STATIC as SANDBOX_STATIC
from fapiao_gateway.sandbox.transport import IN_PROCESS_BASE_URL, in_process_transport
from fapiao_gateway.services import ports
from fapiao_gateway.services.access import AccessPolicy
from fapiao_gateway.services.archiving import ArchivePolicy, Archiver, DocumentReader
from fapiao_gateway.services.audit_trail import AuditReader
from fapiao_gateway.services.compensation import Compensator
from fapiao_gateway.services.import_qr import ImportQrIssuer, IssuedQr
from fapiao_gateway.services.import_watch import ImportWatcher
from fapiao_gateway.services.imports import InvoiceImporter
from fapiao_gateway.services.invoices import InvoiceReader
from fapiao_gateway.services.read_follower import ReadFollower
from fapiao_gateway.services.reconciliation import ReconcilePolicy, Reconciler
from fapiao_gateway.services.recovery import Recovery
from fapiao_gateway.services.reservations import IntentPolicy, Reservations
from fapiao_gateway.services.resolution import Resolver
from fapiao_gateway.services.search import InvoiceSearch
from fapiao_gateway.services.signing import JsapiSigner
from fapiao_gateway.services.status import StatusUpdater
from fapiao_gateway.telemetry.access_log import access_line
from fapiao_gateway.telemetry.instruments import Telemetry
from fapiao_gateway.wechat.accounts import Account, AccountRegistry, ComponentApp
from fapiao_gateway.wechat.aiohttp_transport import AiohttpTransport
from fapiao_gateway.wechat.component import ComponentCredentials
from fapiao_gateway.wechat.component_push import (
    push_path,
    push_routes,
)
from fapiao_gateway.wechat.credentials import (
    CredentialCache,
    CredentialStore,
    MemoryCredentialStore,
)
from fapiao_gateway.wechat.documents import DocumentFetcher
from fapiao_gateway.wechat.httptools_transport import HttptoolsTransport
from fapiao_gateway.wechat.invoices import WeChatInvoices, parse_invoice
from fapiao_gateway.wechat.redis_store import RedisCredentialStore
from fapiao_gateway.wechat.tickets import Tickets
from fapiao_gateway.wechat.tokens import AccessTokens
from fapiao_gateway.wechat.transport import HttpxTransport, Transport
from fapiao_gateway.wechat.upstream import RetryPolicy, Upstream

log = logging.getLogger("fapiao_gateway")

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
                caller=Caller(
                    c.name,
                    frozenset(c.accounts),
                    frozenset(c.operations),
                    rate_limits=tuple(c.rate_limits),
                ),
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


class DirectoryTickets:
    """Mints import tickets with the secret of the caller directory in force (a reload may
    replace it)."""

    def __init__(self, callers: Callers) -> None:
        self._callers = callers

    def mint(self, scope: ImportScope) -> str:
        tickets = self._callers.directory.tickets
        return tickets.mint(scope) if tickets is not None else ""


async def import_signals(
    settings: Settings, redis: Redis | None, closers: list[Callable[[], Awaitable[object]]]
) -> ports.ImportSignals:
    """How imports wake WatchImport: in process, or across replicas through PostgreSQL
    (LISTEN/NOTIFY, the default with a PostgreSQL ledger) or Redis pub/sub."""
    choice = settings.import_signals
    if choice == "auto":
        postgres = settings.database_url.startswith("postgresql")
        choice = "postgresql" if postgres else "memory"
    if choice == "memory":
        return LocalHub()
    if choice == "redis":
        assert redis is not None
        relay = Relay(RedisMedium(redis, settings.redis_prefix))
    else:
        relay = Relay(PostgresMedium(settings.database_url))
    await relay.start()
    closers.append(relay.stop)
    return relay


@dataclass
class Services:
    """The use cases, wired to their ports: what the servicer calls."""

    access: AccessPolicy
    reader: InvoiceReader
    follower: ReadFollower
    importer: InvoiceImporter
    watcher: ImportWatcher
    search: InvoiceSearch
    updater: StatusUpdater
    signer: JsapiSigner
    qr: ImportQrIssuer
    reservations: Reservations
    recovery: Recovery
    reconciler: Reconciler
    audit: AuditReader


def new_owner_id() -> str:
    """This process's identity as an intent owner: unique per start, readable by operators."""
    return f"{socket.gethostname()[:24]}:{os.getpid()}:{secrets.token_hex(4)}"


def build_services(
    *,
    accounts: ports.AccountDirectory,
    source: ports.InvoiceSource,
    writer: ports.StatusWriter,
    tickets: ports.TicketSource,
    invoices: ports.InvoiceLedger,
    intents: ports.IntentLog,
    audit: ports.AuditLog,
    sessions: ports.ImportSessionFinder,
    open_invoices: ports.OpenInvoices,
    call_budget: ports.CallBudget,
    policy: IntentPolicy,
    clock: ports.Clock = wall_clock_us,
    import_page_url: str = "",
    batch_size: int = 50,
    upstream_budget: int = 50,
    reconcile_daily_calls: int = 0,
    reconcile_page_size: int = 200,
    replays: ports.ReplayObserver | None = None,
    signals: ports.ImportSignals | None = None,
    import_tickets: ports.ImportTicketMinter | None = None,
) -> Services:
    """The use cases on top of the given ports (adapters in production, fakes in tests)."""
    compensator = Compensator(writer, intents, policy.owner)
    resolver = Resolver(source, invoices, intents, compensator, policy.owner)
    reservations = Reservations(intents, resolver, policy, clock, replays)
    follower = ReadFollower(invoices)
    signals = signals or LocalHub()
    return Services(
        access=AccessPolicy(accounts),
        reader=InvoiceReader(source, follower, upstream_budget=upstream_budget),
        follower=follower,
        importer=InvoiceImporter(
            source,
            writer,
            invoices,
            sessions,
            intents,
            reservations,
            compensator,
            policy,
            clock,
            lock_batch_size=batch_size,
            upstream_budget=upstream_budget,
            signals=signals,
        ),
        watcher=ImportWatcher(invoices, sessions, signals),
        search=InvoiceSearch(invoices),
        updater=StatusUpdater(source, writer, invoices, intents, audit, reservations, policy),
        signer=JsapiSigner(tickets),
        qr=ImportQrIssuer(
            intents, reservations, policy, page_url=import_page_url, tickets=import_tickets
        ),
        reservations=reservations,
        recovery=Recovery(intents, resolver, reservations, policy, clock),
        reconciler=Reconciler(
            source,
            invoices,
            open_invoices,
            call_budget,
            clock,
            ReconcilePolicy(
                daily_calls=reconcile_daily_calls,
                page_size=reconcile_page_size,
                request_budget=upstream_budget,
            ),
        ),
        audit=AuditReader(audit),
    )


@dataclass
class Gateway:
    """A running gateway and what must be closed when it stops."""

    settings: Settings
    grpc: GrpcServer
    accounts: AccountRegistry
    callers: Callers
    services: Services
    sandbox: Sandbox | None = None
    _recovery: "asyncio.Task[None] | None" = None
    _reconciliation: "asyncio.Task[None] | None" = None
    _closers: list[Callable[[], Awaitable[object]]] = field(default_factory=list)
    #: The port of the HTTP listener, when http_listen serves one.
    http_port: int | None = None
    #: The port of the browser endpoint (Connect), when browser_listen serves one.
    browser_port: int | None = None

    def reload_callers(self, settings: Settings) -> None:
        """Puts the callers of `settings` in force for the next calls (no restart)."""
        self.callers.directory = callers_from(settings).directory

    @property
    def address(self) -> str:
        host = self.settings.listen.rsplit(":", 1)[0]
        return f"{host}:{self.grpc.port}"

    async def stop(self, grace: float | None = None) -> None:
        """Graceful shutdown, within `grace` plus a little: NOT_SERVING; in-flight calls get
        the grace to finish (a call cut off gives its intent up to recovery); intents this
        process still owns are handed over; then the clients and the database close."""
        await self.grpc.stop(self.settings.shutdown_grace_seconds if grace is None else grace)
        for task in (self._reconciliation, self._recovery):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.services.recovery.hand_over(), _HAND_OVER_SECONDS)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.services.follower.settle(), _HAND_OVER_SECONDS)
        for close in reversed(self._closers):
            with contextlib.suppress(Exception):
                await close()


#: Time for handing this process's intents over at shutdown (and, apart, for the ledger to
#: follow the last reads).
_HAND_OVER_SECONDS = 2.0


def _components(settings: Settings, sandbox: Sandbox | None) -> dict[str, ComponentApp]:
    """The third-party platforms: configured, or in sandbox mode (nothing configured) the
    sandbox's."""
    if sandbox is not None and not settings.accounts:
        return {
            c.appid: ComponentApp(
                appid=c.appid,
                secret=SecretStr(c.secret),
                token=SecretStr(c.token),
                encoding_aes_key=SecretStr(c.encoding_aes_key),
                base_url=IN_PROCESS_BASE_URL,
            )
            for c in sandbox.components.components.values()
        }
    return {
        c.component_appid: ComponentApp(
            appid=c.component_appid,
            secret=c.component_appsecret,
            token=c.token,
            encoding_aes_key=c.encoding_aes_key,
            verify_ticket=c.verify_ticket,
            base_url=c.base_url,
        )
        for c in settings.components
    }


def _accounts(
    settings: Settings, sandbox: Sandbox | None, components: dict[str, ComponentApp]
) -> list[Account]:
    configured = [
        Account(
            appid=a.key,
            secret=a.secret,
            alias=a.alias,
            platform=a.platform,
            token_endpoint=a.token_endpoint,
            base_url=a.base_url,
            corp_id=a.corp_id,
            agent_id=a.agent_id,
            component=components.get(a.component_appid),
            refresh_token=a.refresh_token,
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
        configured += [
            Account(
                appid=w.key,
                secret=SecretStr(w.secret),
                alias=w.alias,
                platform=Platform.WORK,
                corp_id=w.corp_id,
                agent_id=w.agent_id,
                base_url=IN_PROCESS_BASE_URL,
            )
            for w in sandbox.work.apps.values()
        ]
        configured += [
            Account(
                appid=m.appid,
                secret=SecretStr(""),
                alias=m.alias,
                platform=Platform.COMPONENT,
                component=components[c.appid],
                refresh_token=SecretStr(m.refresh_token),
            )
            for c in sandbox.components.components.values()
            for m in c.merchants
        ]
    return configured


def _transport(settings: Settings, sandbox: Sandbox | None, telemetry: Telemetry) -> Transport:
    """The HTTP client to WeChat (the in-process sandbox's, or the configured one), traced
    when tracing is on."""
    transport = _http_client(settings, sandbox)
    if telemetry.tracing is not None:
        return telemetry.tracing.traced(transport)
    return transport


def _http_client(settings: Settings, sandbox: Sandbox | None) -> Transport:
    up = settings.upstream
    if sandbox is not None:
        return HttpxTransport(httpx.AsyncClient(transport=in_process_transport(sandbox)))
    if up.http_client == "httptools":
        return HttptoolsTransport(max_connections=up.max_connections)
    if up.http_client == "aiohttp":
        return AiohttpTransport(max_connections=up.max_connections, trust_env=up.trust_env)
    limits = httpx.Limits(
        max_connections=up.max_connections, max_keepalive_connections=up.max_keepalive_connections
    )
    return HttpxTransport(httpx.AsyncClient(limits=limits, trust_env=up.trust_env))


def _redis(settings: Settings, closers: list[Callable[[], Awaitable[object]]]) -> Redis | None:
    """The gateway's Redis client, when anything is configured to use Redis."""
    uses = (settings.token_store, settings.quotas.store, settings.import_signals)
    if "redis" not in uses:
        return None
    timeout = settings.redis_timeout_seconds
    redis = Redis.from_url(
        settings.redis_url, socket_timeout=timeout, socket_connect_timeout=timeout
    )
    closers.append(redis.aclose)
    return redis


def credential_store(
    settings: Settings,
    closers: list[Callable[[], Awaitable[object]]],
    redis: Redis | None = None,
) -> CredentialStore:
    """The configured token store; what must be closed is appended to `closers`."""
    if settings.token_store != "redis":
        return MemoryCredentialStore()
    if redis is None:
        redis = _redis(settings, closers)
        assert redis is not None
    return RedisCredentialStore(
        redis, prefix=settings.redis_prefix, lock_wait=settings.upstream.token_fetch_timeout_seconds
    )


async def start_gateway(
    settings: Settings,
    *,
    sandbox: Sandbox | None = None,
    span_exporter: SpanExporter | None = None,
) -> Gateway:
    """Builds every part from `settings`, settles what earlier processes left unsettled, and
    starts serving. In sandbox mode the emulator runs in process (pass one in to inspect or
    fault it). With `span_exporter`, traces go there (tests), whatever the settings say."""
    callers = callers_from(settings)
    if settings.sandbox and sandbox is None:
        sandbox = create_sandbox()
    if not settings.sandbox:
        sandbox = None
    closers: list[Callable[[], Awaitable[object]]] = []
    telemetry = Telemetry.for_gateway(settings, span_exporter)
    closers.append(telemetry.aclose)
    try:
        return await _start(settings, sandbox, callers, closers, telemetry)
    except BaseException:
        for close in reversed(closers):
            with contextlib.suppress(Exception):
                await close()
        raise


@dataclass
class Assembly:
    """Everything a gateway runs on, without its gRPC face."""

    services: Services
    accounts: AccountRegistry
    tokens: AccessTokens
    intents: IntentLog
    audit: AuditTrail
    component: ComponentCredentials
    components: dict[str, ComponentApp]
    db: Database
    redis: Redis | None
    telemetry: Telemetry
    archive: "Archive"


@dataclass
class Archive:
    """The documents' archive: its records, its store, the worker filling it, its reader."""

    records: DocumentLedger
    store: DirectoryArchive
    archiver: Archiver
    reader: DocumentReader


def _archive(
    settings: Settings, db: Database, transport: Transport, telemetry: Telemetry
) -> Archive:
    options = settings.archive
    records = DocumentLedger(db, wall_clock_us)
    store = DirectoryArchive(Path(options.directory))
    fetcher = DocumentFetcher(
        transport, timeout=options.fetch_timeout_seconds, max_bytes=options.max_document_bytes
    )
    policy = ArchivePolicy(
        max_attempts=options.max_attempts,
        retry_base_seconds=options.retry_base_seconds,
        retry_max_seconds=options.retry_max_seconds,
    )
    archiver = Archiver(records, fetcher, store, wall_clock_us, policy, telemetry.metrics)
    return Archive(records, store, archiver, DocumentReader(records, store))


async def assemble(
    settings: Settings,
    sandbox: Sandbox | None,
    closers: list[Callable[[], Awaitable[object]]],
    telemetry: Telemetry | None = None,
    tickets: ports.ImportTicketMinter | None = None,
) -> Assembly:
    """Builds the adapters and the use cases, brings the ledger up to date; appends what must
    be closed to `closers`."""
    up = settings.upstream
    telemetry = telemetry or Telemetry.off()
    components = _components(settings, sandbox)
    accounts = AccountRegistry(_accounts(settings, sandbox, components))
    redis = _redis(settings, closers)
    store = credential_store(settings, closers, redis)
    transport = _transport(settings, sandbox, telemetry)
    closers.append(transport.aclose)
    upstream = Upstream(
        transport,
        request_timeout=up.request_timeout_seconds,
        retry=RetryPolicy(up.max_attempts, up.backoff_base_seconds, up.backoff_max_seconds),
        observer=telemetry.upstream_observer(accounts),
    )
    cache = CredentialCache(store, margin=up.credential_margin_seconds)
    component = ComponentCredentials(
        upstream,
        cache,
        store,
        fetch_timeout=up.token_fetch_timeout_seconds,
        shared_store=settings.token_store == "redis",
    )
    tokens = AccessTokens(
        upstream, cache, fetch_timeout=up.token_fetch_timeout_seconds, authorizers=component
    )
    wechat = WeChatInvoices(accounts, tokens, batch_size=up.batch_size)

    db = Database(create_engine(settings.database_url, *_database_settings(settings)))
    closers.append(db.close)
    telemetry.watch_ledger(db.statement_engine)
    invoices = InvoiceLedger(db, wall_clock_us)
    intents = IntentLog(db, wall_clock_us)
    audit = AuditTrail(db, wall_clock_us)
    policy = IntentPolicy(
        owner=new_owner_id(),
        lease_seconds=settings.intents.lease_seconds,
        settle_seconds=settings.intents.settle_seconds,
        max_wait_seconds=settings.intents.max_wait_seconds,
    )
    services = build_services(
        accounts=accounts,
        source=wechat,
        writer=wechat,
        tickets=Tickets(accounts, tokens, cache, fetch_timeout=up.token_fetch_timeout_seconds),
        invoices=invoices,
        intents=intents,
        audit=audit,
        sessions=ImportSessions(db),
        open_invoices=invoices,
        call_budget=ReconcileCalls(db),
        policy=policy,
        import_page_url=_import_page_url(settings),
        batch_size=up.batch_size,
        upstream_budget=up.max_calls_per_request,
        reconcile_daily_calls=settings.reconcile.daily_calls,
        reconcile_page_size=settings.reconcile.page_size,
        replays=telemetry.metrics,
        signals=await import_signals(settings, redis, closers),
        import_tickets=tickets,
    )
    await migrate(db.engine)
    converted = await invoices.backfill_documents(parse_invoice)
    if converted:
        log.info("ledger: %d invoice(s) from before documents existed converted", converted)
    return Assembly(
        services,
        accounts,
        tokens,
        intents,
        audit,
        component,
        components,
        db,
        redis,
        telemetry,
        _archive(settings, db, transport, telemetry),
    )


def _database_settings(settings: Settings) -> tuple[DatabaseTimeouts, PoolSettings]:
    ledger = settings.ledger
    return (
        DatabaseTimeouts(
            connect_seconds=ledger.connect_timeout_seconds,
            statement_seconds=ledger.statement_timeout_seconds,
            pool_seconds=ledger.pool_timeout_seconds,
        ),
        PoolSettings(ledger.pool_size, ledger.pool_max_overflow),
    )


@contextlib.asynccontextmanager
async def open_assembly(settings: Settings) -> AsyncIterator[Assembly]:
    """The gateway's parts without a server, for commands (recover, intents, audit)."""
    closers: list[Callable[[], Awaitable[object]]] = []
    try:
        yield await assemble(settings, create_sandbox() if settings.sandbox else None, closers)
    finally:
        for close in reversed(closers):
            with contextlib.suppress(Exception):
                await close()


async def _start(
    settings: Settings,
    sandbox: Sandbox | None,
    callers: Callers,
    closers: list[Callable[[], Awaitable[object]]],
    telemetry: Telemetry,
) -> Gateway:
    assembly = await assemble(settings, sandbox, closers, telemetry, DirectoryTickets(callers))
    services = assembly.services
    servicer = InvoiceServicer(
        services.access,
        services.reader,
        services.importer,
        services.search,
        services.updater,
        services.signer,
        services.qr,
        services.reconciler,
        services.audit,
        watcher=services.watcher,
        max_batch_update=settings.upstream.batch_size,
        import_qr_ttl=timedelta(seconds=settings.import_qr_ttl_seconds),
        documents=assembly.archive.reader,
        documents_entered=assembly.archive.archiver.wake,
        document_chunk_bytes=settings.archive.chunk_bytes,
    )
    quotas = Quotas(
        _rate_limiter(settings, assembly.redis),
        assembly.accounts,
        {a.key: a.rate_limits for a in settings.accounts},
        telemetry.metrics,
    )
    tls = _server_tls(settings)
    service = invoice_service_handler(
        servicer,
        lambda: callers.directory,
        quotas,
        certificates_required=tls is not None and tls.client_ca is not None,
    )
    recovery = asyncio.create_task(
        services.recovery.run(settings.intents.recovery_interval_seconds), name="fapiao-recovery"
    )
    trimming = asyncio.create_task(
        keep_giving_back(settings.memory_trim_interval_seconds), name="fapiao-memory"
    )
    reconciliation = None
    if settings.reconcile.enabled and settings.reconcile.daily_calls > 0:
        reconciliation = asyncio.create_task(
            services.reconciler.run(settings.reconcile.interval_seconds),
            name="fapiao-reconciliation",
        )

    async def stop_recovery() -> None:
        for task in (reconciliation, recovery, trimming):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    closers.append(stop_recovery)
    server = await start_grpc_server(
        service,
        listen=settings.listen,
        tls=tls,
        max_receive_message_bytes=settings.max_receive_message_bytes,
        max_send_message_bytes=settings.max_send_message_bytes,
        max_streams_per_connection=settings.max_streams_per_connection,
        reuse_port=settings.reuse_port,
        wrappers=[
            CallRecorder([access_line, *telemetry.call_listeners()]).wrap,
            DeadlinePolicy(settings.default_deadline_seconds).wrap,
        ],
        interceptors=telemetry.outer_interceptors(),
    )
    closers.remove(stop_recovery)
    closers.append(_stopper(trimming))
    if settings.archive.enabled:
        archiving = asyncio.create_task(
            assembly.archive.archiver.run(settings.archive.interval_seconds),
            name="fapiao-archive",
        )
        closers.append(_stopper(archiving))
    await telemetry.publish_health(server.health)
    closers.append(_readiness(settings, assembly, server).aclose)
    http = await _start_http(settings, sandbox, assembly, closers)
    browser = await _start_browser(settings, servicer, callers, quotas, assembly, sandbox, closers)
    closers.append(start_checks(settings, assembly.accounts, assembly.tokens).aclose)
    return Gateway(
        settings,
        server,
        assembly.accounts,
        callers,
        services,
        sandbox,
        recovery,
        reconciliation,
        closers,
        http_port=http.port if http is not None else None,
        browser_port=browser.port if browser is not None else None,
    )


async def _start_browser(
    settings: Settings,
    servicer: InvoiceServicer,
    callers: Callers,
    quotas: Quotas,
    assembly: Assembly,
    sandbox: Sandbox | None,
    closers: list[Callable[[], Awaitable[object]]],
) -> HttpServer | None:
    """The browser endpoint (browser_listen): InvoiceService over Connect (same servicer)
    and the import pages; in sandbox mode also the stand-in JS-SDK, its picker and
    /sandbox/start, and QR codes that open this endpoint's own /import/h5."""
    if not settings.browser_listen:
        return None
    qr = assembly.services.qr
    routes: list[BaseRoute] = page_routes(
        lambda: callers.directory,
        assembly.accounts,
        lambda: qr.page_url,
        jssdk_override=JSSDK_PATH if sandbox is not None else "",
    )
    if sandbox is not None:
        routes += jssdk_routes(sandbox.emulator)
        routes.append(Mount("/sandbox/static", StaticFiles(directory=SANDBOX_STATIC)))
        routes += try_it_routes(_development_sessions(qr, sandbox))
    service = ConnectService(servicer, lambda: callers.directory, quotas)
    app = connect_app(service, cors_origins=settings.browser_cors_origins, extra_routes=routes)
    server = await start_http_server(app, settings.browser_listen, reuse_port=settings.reuse_port)
    closers.append(server.aclose)
    if sandbox is not None and not settings.import_page_url:
        host = settings.browser_listen.rpartition(":")[0].strip("[]")
        host = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host  # noqa: S104
        qr.page_url = f"http://{host}:{server.port}/import/h5"
    log.info("browser endpoint (Connect and import pages) on port %d", server.port)
    return server


def _development_sessions(
    qr: ImportQrIssuer, sandbox: Sandbox
) -> Callable[[str, timedelta], Awaitable[IssuedQr]]:
    """Opens import sessions for the sandbox's primary account as the development caller."""
    developer = Caller(DEVELOPMENT_CALLER, frozenset({ANY}), frozenset({ANY}))

    async def open_session(biz_code: str, valid_for: timedelta) -> IssuedQr:
        ctx = RequestContext(caller=developer, deadline=Deadline.after(30.0))
        command = OpenImportSession(seed.PRIMARY.appid, "", biz_code, 256, valid_for)
        return await qr.issue(ctx, command)

    return open_session


def _readiness(settings: Settings, assembly: Assembly, server: GrpcServer) -> Readiness:
    """The background probe of the ledger (and Redis) that readiness follows."""
    probes: dict[str, Callable[[], Awaitable[object]]] = {"ledger": assembly.db.ping}
    if assembly.redis is not None:
        probes["redis"] = assembly.redis.ping
    readiness = Readiness(
        server.health,
        probes,
        interval=settings.health.probe_interval_seconds,
        timeout=settings.health.probe_timeout_seconds,
        metrics=assembly.telemetry.metrics,
    )
    readiness.start()
    return readiness


def _rate_limiter(settings: Settings, redis: Redis | None) -> RateLimiter:
    """Sliding windows, counted in the process or, with quotas.store = "redis", in Redis
    (through the gateway's own connection pool)."""
    if settings.quotas.store != "redis" or redis is None:
        return SlidingWindowCounterRateLimiter(MemoryStorage())
    scheme = "async+redis+unix" if settings.redis_url.startswith("unix:") else "async+redis"
    storage = RedisStorage(
        f"{scheme}://",
        implementation="redispy",
        key_prefix=f"{settings.redis_prefix}quota",
        wrap_exceptions=True,
        connection_pool=redis.connection_pool,  # type: ignore[arg-type]
    )
    return SlidingWindowCounterRateLimiter(storage)


#: How often the in-process sandbox pushes a component_verify_ticket (as WeChat does).
SANDBOX_PUSH_SECONDS = 600.0


async def _start_http(
    settings: Settings,
    sandbox: Sandbox | None,
    assembly: Assembly,
    closers: list[Callable[[], Awaitable[object]]],
) -> HttpServer | None:
    """The gateway's HTTP listener (http_listen) with the routes of every part that needs
    HTTP: today the third-party platforms' push endpoint. In sandbox mode with the sandbox's
    own accounts, the sandbox pushes verify tickets to that endpoint in process, now and
    every 10 minutes, as WeChat does (configured platforms get theirs over http_listen)."""
    routes: list[BaseRoute] = [*assembly.telemetry.routes()]
    if assembly.components:
        pushes = push_routes(assembly.components, assembly.component.save_verify_ticket)
        routes += pushes
        if sandbox is not None and not settings.accounts:
            await _sandbox_pushes(sandbox, assembly, Starlette(routes=pushes), closers)
    if not settings.http_listen:
        return None
    server = await start_http_server(
        Starlette(routes=routes), settings.http_listen, reuse_port=settings.reuse_port
    )
    closers.append(server.aclose)
    log.info("HTTP endpoint on port %d", server.port)
    return server


async def _sandbox_pushes(
    sandbox: Sandbox,
    assembly: Assembly,
    app: Starlette,
    closers: list[Callable[[], Awaitable[object]]],
) -> None:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://push")
    closers.append(http.aclose)

    async def push_all() -> None:
        for appid in assembly.components:
            answer = await sandbox.push_verify_ticket(appid, push_path(appid), http)
            answer.raise_for_status()

    await push_all()
    closers.append(_every(SANDBOX_PUSH_SECONDS, push_all, "fapiao-sandbox-pushes"))


def _every(
    seconds: float, action: Callable[[], Awaitable[None]], name: str
) -> Callable[[], Awaitable[None]]:
    """Runs `action` every `seconds` in the background; returns what stops it."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(seconds)
            with contextlib.suppress(Exception):
                await action()

    return _stopper(asyncio.create_task(loop(), name=name))


def _stopper(task: "asyncio.Task[None]") -> Callable[[], Awaitable[None]]:
    """What stops a background task (for the closers)."""

    async def stop() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return stop


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
