"""Configuration: environment variables (FAPIAO_*, nested with __) over an optional TOML file.

Examples:
  FAPIAO_LISTEN=0.0.0.0:50051
  FAPIAO_UPSTREAM__REQUEST_TIMEOUT_SECONDS=3
  FAPIAO_ACCOUNTS='[{"appid": "wx...", "secret": "...", "alias": "hq"}]'
  FAPIAO_ACCOUNTS='[{"platform": "work", "corp_id": "ww...", "agent_id": 1000002, "secret": "..."}]'
  FAPIAO_CONFIG_FILE=/etc/fapiao-gateway.toml   (or `serve --config FILE`)
"""

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from fapiao_gateway.auth.keys import StoredKey
from fapiao_gateway.domain.accounts import Platform, work_app_key
from fapiao_gateway.domain.callers import ANY, Operation
from fapiao_gateway.rate_limits import parse_limit
from fapiao_gateway.wechat.accounts import TokenEndpoint
from fapiao_gateway.wechat.msg_crypto import valid_encoding_aes_key

MIB = 1024 * 1024


#: The keys only some platforms take, and who takes them.
_PLATFORM_KEYS: dict[str, frozenset[Platform]] = {
    "appid": frozenset({Platform.OFFICIAL_ACCOUNT, Platform.MINI_PROGRAM, Platform.COMPONENT}),
    "secret": frozenset({Platform.OFFICIAL_ACCOUNT, Platform.MINI_PROGRAM, Platform.WORK}),
    "token_endpoint": frozenset({Platform.OFFICIAL_ACCOUNT, Platform.MINI_PROGRAM}),
    "corp_id": frozenset({Platform.WORK}),
    "agent_id": frozenset({Platform.WORK}),
    "component_appid": frozenset({Platform.COMPONENT}),
    "refresh_token": frozenset({Platform.COMPONENT}),
}


def _rate_limits(limits: list[str]) -> list[str]:
    for text in limits:
        parse_limit(text)
    return limits


_RATE_LIMITS_HELP = (
    'e.g. ["20/second", "9000/day"] ("N/second", "N/minute", "N/hour", "N/day", or '
    '"N per M minutes"); windows slide; empty: unlimited.'
)


def _is_set(value: object) -> bool:
    if isinstance(value, SecretStr):
        return bool(value.get_secret_value())
    return bool(value)


class AccountSettings(BaseModel):
    """One WeChat account the gateway may act for. Which keys it takes depends on `platform`:
    official_account and mini_program: appid, secret (token_endpoint); work: corp_id,
    agent_id, secret; component: appid, component_appid, refresh_token."""

    platform: Platform = Field(
        Platform.OFFICIAL_ACCOUNT,
        description='The kind of WeChat account: "official_account" or "mini_program" '
        '(api.weixin.qq.com), "work" (a Weixin Work / WeCom app, qyapi.weixin.qq.com), or '
        '"component" (a merchant a third-party platform of [[components]] acts for).',
    )
    appid: str = Field(
        "",
        description="The account's AppID, as WeChat shows it (a component merchant's is its "
        "authorizer_appid). Not for work accounts, whose key is corp_id/agent_id.",
        examples=["wx0123456789abcdef"],
    )
    secret: SecretStr = Field(
        SecretStr(""),
        description="The account's AppSecret (work: the app's Secret): never logged, never in "
        "errors. Prefer the environment (FAPIAO_ACCOUNTS) or a file only the gateway can read. "
        "Not for component merchants.",
        examples=["the AppSecret from the WeChat platform"],
    )
    alias: str = Field(
        "",
        description='Another name callers may use for the account in requests (e.g. "hq").',
        examples=["hq"],
    )
    token_endpoint: TokenEndpoint = Field(
        TokenEndpoint.STABLE,
        description='official_account and mini_program: how the access token is fetched: "stable" '
        '(/cgi-bin/stable_token; replicas cannot knock each other\'s token out) or "classic" '
        "(/cgi-bin/token; every fetch invalidates the previous token).",
    )
    base_url: str = Field(
        "",
        description="Where to send this account's calls; empty means the platform's WeChat "
        "host (a component merchant: its platform's base_url). Point it at an egress proxy, or "
        "at a standalone sandbox (`fapiao-gateway sandbox`).",
    )
    corp_id: str = Field(
        "",
        description="work: the corp ID (企业ID, ww...). Requests name the app by its alias, "
        "its corp ID (while it is the corp's only configured app) or corp_id/agent_id.",
    )
    agent_id: int = Field(0, ge=0, description="work: the app's AgentId (e.g. 1000002).")
    component_appid: str = Field(
        "",
        description="component: the component_appid of the [[components]] entry (the "
        "third-party platform) that acts for this merchant.",
    )
    refresh_token: SecretStr = Field(
        SecretStr(""),
        description="component: the merchant's authorizer_refresh_token, from its authorization "
        "(never logged). WeChat may hand out a new one at each refresh: the gateway keeps the "
        'newest in the token store (only token_store = "redis" keeps it across restarts).',
    )
    rate_limits: list[str] = Field(
        default_factory=list,
        description="How many calls that may reach WeChat callers together may make for this "
        "account, so its daily WeChat quota is never at risk (SearchInvoices and "
        "ListAuditEvents do not count); past them RESOURCE_EXHAUSTED (ACCOUNT_QUOTA_EXCEEDED) "
        "with RetryInfo. Each call counts once, whatever it costs upstream: set the daily "
        "limit from the account's quota with room for calls that take several upstream calls. "
        + _RATE_LIMITS_HELP,
        examples=[["50/second", "8000/day"]],
    )

    _limits = field_validator("rate_limits")(_rate_limits)

    @property
    def key(self) -> str:
        """The appid everything about the account is stored under."""
        if self.platform is Platform.WORK:
            return work_app_key(self.corp_id, self.agent_id)
        return self.appid

    @model_validator(mode="after")
    def _keys_fit_the_platform(self) -> "AccountSettings":
        platform = self.platform
        foreign = [
            name
            for name, takers in _PLATFORM_KEYS.items()
            if platform not in takers
            and (
                _is_set(getattr(self, name))
                if name != "token_endpoint"
                else name in self.model_fields_set
            )
        ]
        if foreign:
            raise ValueError(f"a {platform.value} account does not take {', '.join(foreign)}")
        required = {
            Platform.OFFICIAL_ACCOUNT: ("appid", "secret"),
            Platform.MINI_PROGRAM: ("appid", "secret"),
            Platform.WORK: ("corp_id", "agent_id", "secret"),
            Platform.COMPONENT: ("appid", "component_appid", "refresh_token"),
        }[platform]
        missing = [name for name in required if not _is_set(getattr(self, name))]
        if missing:
            raise ValueError(f"a {platform.value} account needs {', '.join(missing)}")
        return self


class ComponentSettings(BaseModel):
    """A third-party platform (第三方平台) of a service provider, acting for the merchants
    configured as accounts with platform = "component"."""

    component_appid: str = Field(
        min_length=1,
        description="The platform's AppID (component_appid).",
        examples=["wx1234567890abcdef"],
    )
    component_appsecret: SecretStr = Field(
        description="The platform's AppSecret: never logged, never in errors.",
        examples=["the component AppSecret from the open platform"],
    )
    token: SecretStr = Field(
        description="The message-verification Token set on the open platform (signs the pushes "
        "WeChat sends to the gateway's push endpoint).",
        examples=["the message Token"],
    )
    encoding_aes_key: SecretStr = Field(
        description="The 43-character EncodingAESKey set on the open platform (decrypts the "
        "pushes).",
        examples=["abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"],
    )
    verify_ticket: SecretStr = Field(
        SecretStr(""),
        description="A component_verify_ticket set by hand, used while none pushed by WeChat "
        "(or set with `fapiao-gateway component set-ticket`) is stored.",
    )
    base_url: str = Field(
        "",
        description="Where the platform's and its merchants' calls go; empty means "
        "https://api.weixin.qq.com (an egress proxy, or a standalone sandbox).",
    )

    @field_validator("encoding_aes_key")
    @classmethod
    def _aes_key(cls, key: SecretStr) -> SecretStr:
        if not valid_encoding_aes_key(key.get_secret_value()):
            raise ValueError("an EncodingAESKey is 43 characters of base64 (A-Z, a-z, 0-9, +, /)")
        return key


class CallerSettings(BaseModel):
    """A system allowed to call the gateway, what it may do, and how it proves who it is."""

    name: str = Field(
        min_length=1,
        description="The caller's name, as the audit trail and the logs show it.",
        examples=["expense-service"],
    )
    accounts: list[str] = Field(
        min_length=1,
        description='appids or aliases it may act for; ["*"] for all.',
        examples=[["hq"]],
    )
    operations: list[str] = Field(
        min_length=1,
        description="read, import, lock, unlock, write_off, sign, issue_qr, reconcile, audit; "
        '["*"] for all.',
        examples=[["read", "import", "lock", "unlock", "write_off"]],
    )
    keys: list[str] = Field(
        default_factory=list,
        description="Stored forms of its API keys (`fapiao-gateway create-key`); two during a "
        "rotation.",
        examples=[["hmac-sha256$0123456789ab$" + "0" * 32 + "$" + "0" * 64]],
    )
    tls_common_names: list[str] = Field(
        default_factory=list,
        description="Client-certificate common names that identify it (with mutual TLS).",
        examples=[["expense-service"]],
    )
    rate_limits: list[str] = Field(
        default_factory=list,
        description="How many calls it may make; past them RESOURCE_EXHAUSTED "
        "(CALLER_QUOTA_EXCEEDED) with RetryInfo, before anything reaches WeChat. "
        + _RATE_LIMITS_HELP,
        examples=[["20/second", "5000/day"]],
    )

    _limits = field_validator("rate_limits")(_rate_limits)

    @field_validator("operations")
    @classmethod
    def _known_operations(cls, operations: list[str]) -> list[str]:
        allowed = {op.value for op in Operation} | {ANY}
        unknown = sorted(set(operations) - allowed)
        if unknown:
            raise ValueError(f"unknown operations {unknown}; allowed: {sorted(allowed)}")
        return operations

    @field_validator("keys")
    @classmethod
    def _stored_keys(cls, keys: list[str]) -> list[str]:
        for key in keys:
            StoredKey.parse(key)
        return keys


class TlsSettings(BaseModel):
    """Serve TLS with this certificate; with client_ca_file, require client certificates."""

    cert_file: Path = Field(
        description="PEM certificate chain the gateway presents.",
        examples=["/etc/fapiao-gateway/server.pem"],
    )
    key_file: Path = Field(
        description="PEM private key of that certificate (readable by the gateway only).",
        examples=["/etc/fapiao-gateway/server.key"],
    )
    client_ca_file: Path | None = Field(
        None,
        description="PEM CA certificates; when set, clients must present a certificate they "
        "signed (mutual TLS), and its common name can identify a caller.",
        examples=["/etc/fapiao-gateway/clients-ca.pem"],
    )


class UpstreamSettings(BaseModel):
    """How the gateway talks to WeChat."""

    request_timeout_seconds: float = Field(
        5.0, gt=0, description="Longest wait for one HTTP request to WeChat."
    )
    token_fetch_timeout_seconds: float = Field(
        10.0, gt=0, description="Longest wait for fetching one access token or ticket."
    )
    max_attempts: int = Field(
        4,
        ge=1,
        le=10,
        description="Most tries of a call that is safe to retry (busy, unreachable, 5xx); "
        "calls that change state are never retried once they may have been applied.",
    )
    backoff_base_seconds: float = Field(
        0.1,
        ge=0,
        description="Longest first wait between retries; the limit doubles with each retry "
        "(each wait is random up to it: full jitter).",
    )
    backoff_max_seconds: float = Field(2.0, ge=0, description="Longest wait between retries.")
    credential_margin_seconds: float = Field(
        300.0,
        ge=0,
        description="Tokens and tickets are renewed this long before they expire (WeChat "
        "rotates stable tokens 5 minutes early, keeping both valid).",
    )
    http_client: Literal["httptools", "aiohttp", "httpx"] = Field(
        "httptools",
        description="The HTTP client under the adapter. httptools (the default): a lean "
        "HTTP/1.1 keep-alive pool, ~8x less CPU per call than aiohttp (see "
        "wechat/httptools_transport.py). aiohttp and httpx: for proxies (trust_env) or TLS "
        "setups only they handle.",
    )
    trust_env: bool = Field(
        False,
        description="Take proxies (HTTPS_PROXY, NO_PROXY) and credentials (~/.netrc) for "
        "WeChat from the environment (with http_client aiohttp or httpx). Off by default: "
        "aiohttp then looks them up on every request, at a measured 22-26% of the "
        "gateway's throughput.",
    )
    batch_size: int = Field(
        50,
        ge=1,
        le=500,
        description="Most invoices per getinvoicebatch / updatestatusbatch call (WeChat "
        "publishes no limit).",
    )
    max_calls_per_request: int = Field(
        50,
        ge=1,
        description="Most getinvoicebatch calls one request may cost (invoices sharing a "
        "card_id each take a call of their own): a request needing more is refused as "
        "INVALID_ARGUMENT.",
    )
    max_connections: int = Field(
        100, ge=1, description="Most open HTTP connections to WeChat at once."
    )
    max_keepalive_connections: int = Field(
        20, ge=0, description="Idle connections kept open for reuse (httpx only)."
    )

    @model_validator(mode="after")
    def _proxies_need_a_client_with_them(self) -> "UpstreamSettings":
        if self.trust_env and self.http_client == "httptools":
            raise ValueError(
                'upstream.trust_env needs upstream.http_client = "aiohttp" or "httpx" '
                "(the httptools client has no proxy support)"
            )
        return self


class LedgerSettings(BaseModel):
    """How long the gateway waits for its ledger database, and its connection pool."""

    connect_timeout_seconds: float = Field(
        5.0, gt=0, description="Longest wait for a new database connection."
    )
    statement_timeout_seconds: float = Field(
        10.0,
        gt=0,
        description="A statement (or SQLite's write lock) that takes longer makes the call "
        "UNAVAILABLE (LEDGER_UNAVAILABLE, with RetryInfo) instead of hanging it.",
    )
    pool_timeout_seconds: float = Field(
        5.0, gt=0, description="Longest wait for a free pooled connection."
    )
    pool_size: int = Field(
        10,
        ge=1,
        description="Database connections kept open per process (a SQLite file opens no "
        "more; calls wait for a free one).",
    )
    pool_max_overflow: int = Field(
        10, ge=0, description="PostgreSQL connections opened beyond pool_size under a burst."
    )


class IntentSettings(BaseModel):
    """Write-ahead intents and their recovery (docs/intents.md)."""

    lease_seconds: float = Field(
        15.0,
        gt=0.1,
        description="A process that has not renewed its intents for this long is presumed "
        "dead, and recovery elsewhere takes them over.",
    )
    settle_seconds: float = Field(
        15.0,
        ge=0,
        description="How long a write whose answer was lost may still land at WeChat: "
        "recovery concludes nothing from a read, and frees no invoice, until this long after "
        "it was sent.",
    )
    recovery_interval_seconds: float = Field(
        5.0, gt=0, description="How often recovery looks for intents to settle."
    )
    max_wait_seconds: float = Field(
        30.0,
        gt=0,
        description="How long a duplicate request waits for the first when the caller set no "
        "deadline (then ABORTED, REQUEST_IN_PROGRESS).",
    )


class ReconcileSettings(BaseModel):
    """Reconciliation: the ledger re-reads its open invoices so it follows WeChat without a
    reader (services/reconciliation.py)."""

    enabled: bool = Field(
        True,
        description="Run background reconciliation rounds (`fapiao-gateway reconcile` runs one "
        "from cron either way).",
    )
    interval_seconds: float = Field(
        3600.0, gt=0, description="How often a background round starts (one at start too)."
    )
    daily_quota: int = Field(
        10_000,
        ge=0,
        description="Each account's daily quota of getinvoicebatch calls as WeChat grants it "
        "(the account's API quota page in the WeChat platform shows it; WeChat publishes no "
        "fixed figure for the invoice APIs).",
    )
    quota_share: float = Field(
        0.1,
        ge=0,
        le=1,
        description="The share of daily_quota background rounds may spend per account and day "
        "(China Standard Time, when WeChat resets quotas); counted in the ledger, for every "
        "replica together. ReconcileInvoices requests are counted too, never refused by it.",
    )
    page_size: int = Field(
        200,
        ge=1,
        le=10_000,
        description="Ledger rows re-read per step (split into upstream batches of "
        "upstream.batch_size).",
    )

    @property
    def daily_calls(self) -> int:
        """Upstream calls per account and day background rounds may spend."""
        return int(self.daily_quota * self.quota_share)


class ArchiveSettings(BaseModel):
    """The archive of the invoices' documents (services/archiving.py): the PDF WeChat lends
    by URL, downloaded in the background after an import and kept by its SHA-256."""

    enabled: bool = Field(
        True,
        description="Download and archive every imported invoice's PDF (and trip attachment) "
        "in the background; GetInvoiceDocument serves them.",
    )
    directory: str = Field(
        "var/archive",
        min_length=1,
        description="The directory store: one file per document, named by its SHA-256. Every "
        "replica must see the same directory (a shared mount).",
    )
    interval_seconds: float = Field(
        30.0,
        gt=0,
        description="How often the archiver looks for due downloads (it is also "
        "woken by every import).",
    )
    max_attempts: int = Field(
        5, ge=1, le=100, description="Downloads tried per document before it is FAILED."
    )
    retry_base_seconds: float = Field(
        30.0,
        gt=0,
        description="The pause after a failed download; doubled after each "
        "further failure, up to retry_max_seconds.",
    )
    retry_max_seconds: float = Field(3600.0, gt=0, description="The longest pause.")
    fetch_timeout_seconds: float = Field(20.0, gt=0, description="Time for one download.")
    max_document_bytes: int = Field(
        20 * 1024 * 1024, ge=1024, description="A larger download is refused (FAILED)."
    )
    chunk_bytes: int = Field(
        64 * 1024,
        ge=1024,
        le=1024 * 1024,
        description="GetInvoiceDocument's chunk size (below max_send_message_bytes).",
    )


class QuotaSettings(BaseModel):
    """Where the rate limits of callers and accounts are counted (api/quotas.py)."""

    store: Literal["memory", "redis"] = Field(
        "memory",
        description='"memory": each process counts alone (N replicas allow N times the '
        'limits); "redis": every replica draws from one count, in redis_url. If Redis does '
        "not answer, calls are let through (and it is logged).",
    )


class MetricsSettings(BaseModel):
    """Prometheus metrics (docs/observability.md)."""

    enabled: bool = Field(
        True,
        description="Serve GET /metrics (Prometheus text or OpenMetrics) on the HTTP listener "
        "(http_listen; without one there is nowhere to serve them).",
    )


class TracingSettings(BaseModel):
    """OpenTelemetry traces (docs/observability.md): off unless otlp_endpoint is set."""

    otlp_endpoint: str = Field(
        "",
        description="Where to export traces with OTLP over gRPC, e.g. an OpenTelemetry "
        "Collector at http://otel-collector:4317 (http:// without TLS, https:// with). Empty: "
        "no tracing. The usual OTEL_EXPORTER_OTLP_* variables (headers, certificates) apply.",
        examples=["http://otel-collector:4317"],
    )
    service_name: str = Field(
        "fapiao-gateway", min_length=1, description="The service.name traces carry."
    )
    sample_ratio: float = Field(
        1.0,
        ge=0,
        le=1,
        description="The share of traces started here that are kept; a caller's sampled "
        "trace is always continued (parent-based).",
    )


class HealthSettings(BaseModel):
    """The readiness probe behind the gRPC health status of fapiao.v1.InvoiceService."""

    probe_interval_seconds: float = Field(
        5.0, gt=0, description="How often the ledger (and a configured Redis) is probed."
    )
    probe_timeout_seconds: float = Field(
        2.0,
        gt=0,
        description="A probe not answered within this long counts as the dependency being "
        "unreachable: NOT_SERVING until one is answered.",
    )


class Settings(BaseSettings):
    """Everything the gateway can be told. Defaults run the sandbox with nothing configured."""

    model_config = SettingsConfigDict(
        env_prefix="FAPIAO_", env_nested_delimiter="__", extra="forbid"
    )

    listen: str = Field(
        "127.0.0.1:50051", description="host:port to serve gRPC on; port 0 picks a free port."
    )
    sandbox: bool = Field(
        False,
        description="Run against the built-in WeChat emulator (in process, seeded, no "
        "credentials). For trying the gateway out; never in production.",
    )
    accounts: list[AccountSettings] = Field(
        default_factory=list, description="The WeChat accounts the gateway acts for."
    )
    components: list[ComponentSettings] = Field(
        default_factory=list,
        description="Third-party platforms whose merchants are accounts with platform = "
        '"component".',
    )
    http_listen: str = Field(
        "",
        description="host:port of the gateway's HTTP listener, beside gRPC; port 0 picks a "
        "free port. It serves the endpoint WeChat pushes third-party platform events to "
        "(component_verify_ticket every 10 minutes: POST /wechat/component/<component_appid>). "
        "Empty: no HTTP listener (set platforms' tickets by hand then).",
        examples=["0.0.0.0:8080"],
    )
    browser_listen: str = Field(
        "",
        description="host:port of the browser endpoint, its own HTTP port beside gRPC: "
        "InvoiceService over the Connect protocol (JSON or protobuf over HTTP/1.1: "
        "POST /fapiao.v1.InvoiceService/<Method>), the same calls, keys, import tickets and "
        "errors as gRPC. Port 0 picks a free port. Empty: none.",
        examples=["0.0.0.0:8081"],
    )
    browser_cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins of pages on other hosts allowed to call the browser endpoint "
        '(CORS), e.g. "https://expense.example.com"; "*" for any. Empty: only pages the '
        "endpoint serves itself.",
    )
    database_url: str = Field(
        "sqlite+aiosqlite:///var/fapiao-gateway.db",
        description="The ledger of imported invoices: SQLite (embedded, one process) by "
        "default, a path relative to the working directory, or "
        "postgresql+asyncpg://user@host/db for several replicas.",
    )
    ledger: LedgerSettings = Field(
        default_factory=LedgerSettings, description="The ledger database's timeouts and pool."
    )
    intents: IntentSettings = Field(
        default_factory=IntentSettings,
        description="Write-ahead intents and their recovery (docs/intents.md).",
    )
    reconcile: ReconcileSettings = Field(
        default_factory=ReconcileSettings,
        description="Reconciliation: the ledger follows WeChat without a reader.",
    )
    archive: ArchiveSettings = Field(
        default_factory=ArchiveSettings,
        description="The archive of the invoices' PDFs (GetInvoiceDocument).",
    )
    import_page_url: str = Field(
        "",
        description="The reimburser's H5 page an import QR code opens (bizCode and appid are "
        "added to it). Sandbox mode uses an example URL when this is empty.",
        examples=["https://reimburse.example.com/wechat/import"],
    )
    import_qr_ttl_seconds: float = Field(
        1800.0,
        ge=60,
        le=86400,
        description="How long an import QR code's bizCode is accepted when the request does "
        "not say.",
    )
    callers: list[CallerSettings] = Field(
        default_factory=list,
        description="Who may call. Outside sandbox mode the gateway refuses to start without one.",
    )
    auth_secret: SecretStr | None = Field(
        None,
        description="The server secret API key hashes are keyed with (e.g. `openssl rand -hex "
        "32`). Prefer the environment (FAPIAO_AUTH_SECRET).",
        examples=["output of `openssl rand -hex 32`"],
    )
    tls: TlsSettings | None = Field(
        None, description="Serve TLS (and optionally require client certificates)."
    )
    upstream: UpstreamSettings = Field(
        default_factory=UpstreamSettings, description="How the gateway talks to WeChat."
    )
    token_store: Literal["memory", "redis"] = Field(
        "memory",
        description='Where tokens and tickets are cached: "memory" (one process) or '
        '"redis" (shared by every replica).',
    )
    import_signals: Literal["auto", "memory", "postgresql", "redis"] = Field(
        "auto",
        description='How an import wakes WatchImport streams: "memory" (one process), '
        '"postgresql" (LISTEN/NOTIFY on the ledger database, across replicas), "redis" (pub/sub '
        'on redis_url, across replicas); "auto": postgresql with a PostgreSQL ledger, else memory.',
    )
    redis_url: str = Field(
        "redis://127.0.0.1:6379/0", description='The Redis of token_store = "redis".'
    )
    redis_timeout_seconds: float = Field(
        2.0,
        gt=0,
        description="Longest wait for Redis to connect or answer; past it, calls go on with "
        "per-process token caching until Redis answers again.",
    )
    redis_prefix: str = Field(
        "fapiao:",
        description="Prefix of the gateway's Redis keys (several gateways can share one Redis).",
    )
    max_receive_message_bytes: int = Field(
        4 * MIB, ge=1024, description="Largest request message the gateway accepts."
    )
    max_send_message_bytes: int = Field(
        16 * MIB, ge=1024, description="Largest reply message the gateway sends."
    )
    memory_trim_interval_seconds: float = Field(
        30.0,
        gt=0,
        description="How often the gateway gives memory a burst left free back to the system "
        "(glibc's malloc_trim; see memory.py).",
    )
    max_streams_per_connection: int = Field(
        1000,
        ge=100,
        le=100_000,
        description="Most calls one client connection may have open at once (HTTP/2 "
        "MAX_CONCURRENT_STREAMS; gRPC's own default is unbounded). A client that opens more "
        "before it has read this limit gets them refused (REFUSED_STREAM). Where clients "
        "you do not trust can connect, 100 keeps a flood of calls from making gRPC shed "
        "other callers' calls (it cancels new ones once thousands are pending).",
    )
    shutdown_grace_seconds: float = Field(
        10.0,
        ge=0,
        description="On SIGTERM/SIGINT, how long calls in flight may finish (health says "
        "NOT_SERVING meanwhile).",
    )
    reuse_port: bool = Field(
        False,
        description="Let several processes listen on one port (SO_REUSEPORT); `workers` "
        "does this itself.",
    )
    workers: int = Field(
        0,
        ge=0,
        description="Gateway processes on the one port, under a supervisor that restarts "
        "them (serve --workers). 0: one per CPU core in production (one when the "
        "configuration cannot share tokens or the ledger across processes: see workers.py), "
        "one in sandbox mode.",
    )
    default_deadline_seconds: float = Field(
        0.0,
        ge=0,
        description="A deadline for unary calls whose caller set none: their work (upstream "
        "retries, waits) is bounded by it and they end DEADLINE_EXCEEDED "
        "(DEFAULT_DEADLINE_EXCEEDED) past it. 0: none (gRPC's own default).",
    )
    quotas: QuotaSettings = Field(
        default_factory=QuotaSettings,
        description="Where callers' and accounts' rate_limits are counted.",
    )
    metrics: MetricsSettings = Field(
        default_factory=MetricsSettings, description="Prometheus metrics on the HTTP listener."
    )
    tracing: TracingSettings = Field(
        default_factory=TracingSettings, description="OpenTelemetry traces (off by default)."
    )
    health: HealthSettings = Field(
        default_factory=HealthSettings,
        description="The readiness probe of the ledger and Redis.",
    )
    log_level: str = Field(
        "INFO", description="DEBUG, INFO, WARNING, ERROR or CRITICAL (upper case)."
    )
    log_format: Literal["auto", "text", "json"] = Field(
        "auto",
        description='"json": one JSON object per line (for log collectors); "text": aligned '
        'key=value lines for people; "auto": JSON unless standard error is a terminal.',
    )

    @model_validator(mode="after")
    def _merchants_have_their_platform(self) -> "Settings":
        platforms = [c.component_appid for c in self.components]
        if len(set(platforms)) != len(platforms):
            raise ValueError("a component_appid is configured twice in components")
        orphans = sorted(
            {a.component_appid for a in self.accounts if a.component_appid} - set(platforms)
        )
        if orphans:
            raise ValueError(f"accounts name components that are not configured: {orphans}")
        return self

    @model_validator(mode="after")
    def _keys_need_the_secret(self) -> "Settings":
        if any(caller.keys for caller in self.callers) and self.auth_secret is None:
            raise ValueError("callers have API keys, so auth_secret must be set to check them")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = settings_cls.model_config.get("toml_file") or os.environ.get(
            "FAPIAO_CONFIG_FILE"
        )
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(str(config_file))))
        return tuple(sources)


def load_settings(config_file: str | None = None, **overrides: object) -> Settings:
    """Settings from `overrides`, then the environment, then `config_file` (or
    $FAPIAO_CONFIG_FILE), then the defaults, in that order of precedence."""
    settings_cls = Settings
    if config_file:
        if not Path(config_file).is_file():
            raise FileNotFoundError(f"config file not found: {config_file}")

        class FileSettings(Settings):
            model_config = SettingsConfigDict(**{**Settings.model_config, "toml_file": config_file})

        settings_cls = FileSettings
    return settings_cls(**overrides)  # type: ignore[arg-type]
