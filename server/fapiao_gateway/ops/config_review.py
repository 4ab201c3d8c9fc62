"""What is wrong or risky in a configuration that parsed: the rules `config check` reports and
the gateway logs at start.

Errors are settings the gateway cannot run with (it would refuse to start, crash, or serve
nothing useful); warnings are settings it runs with that are insecure or leave part of it
unusable; notes are facts worth knowing. The checks read the TLS files but touch no network.
"""

import ipaddress
import logging
import stat
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import SecretStr
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from fapiao_gateway.auth.directory import CallerDirectory, CallerEntry
from fapiao_gateway.auth.keys import StoredKey
from fapiao_gateway.config import Settings
from fapiao_gateway.domain.accounts import Platform
from fapiao_gateway.domain.callers import ANY, Caller
from fapiao_gateway.sandbox import seed
from fapiao_gateway.wechat.accounts import Account, AccountRegistry
from fapiao_gateway.workers import why_not_shared

#: The drivers the ledger's async engine works with, by backend.
LEDGER_DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}
#: Shorter server secrets than this are guessable enough to warn about (bytes of text).
MIN_AUTH_SECRET = 32
#: WeChat access tokens live this long; a renewal margin as long renews on every call.
TOKEN_LIFETIME_SECONDS = 7200
_REDIS_SCHEMES = {"redis", "rediss", "unix"}


class Level(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing to tell the operator about one setting (a dotted path, e.g. callers[0])."""

    level: Level
    setting: str
    message: str


def review(settings: Settings) -> list[Finding]:
    """Every finding about `settings`, errors first."""
    found = [finding for check in _CHECKS for finding in check(settings)]
    order = list(Level)
    return sorted(found, key=lambda finding: order.index(finding.level))


def _error(setting: str, message: str) -> Finding:
    return Finding(Level.ERROR, setting, message)


def _warning(setting: str, message: str) -> Finding:
    return Finding(Level.WARNING, setting, message)


def _note(setting: str, message: str) -> Finding:
    return Finding(Level.NOTE, setting, message)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: assume it is reachable from elsewhere


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _mode(settings: Settings) -> Iterator[Finding]:
    if settings.sandbox:
        yield _warning(
            "sandbox",
            "sandbox mode: WeChat is emulated in process and, without callers, anyone with "
            "the printed development key may call; never run it in production",
        )


def _listen(settings: Settings) -> Iterator[Finding]:
    listen = settings.listen
    if listen.startswith("unix:"):
        return
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        yield _error("listen", f"{listen!r} is not host:port (e.g. 0.0.0.0:50051)")
        return
    if settings.tls is None and not _is_loopback(host):
        yield _warning(
            "listen",
            f"plaintext gRPC on {listen}, reachable from other hosts: API keys and invoices "
            "cross the network unencrypted. Configure [tls], or keep this port behind a "
            "TLS-terminating proxy or service mesh",
        )


def _log_level(settings: Settings) -> Iterator[Finding]:
    if settings.log_level not in logging.getLevelNamesMapping():
        yield _error(
            "log_level",
            f"{settings.log_level!r} is not a log level: use DEBUG, INFO, WARNING, ERROR or "
            "CRITICAL (upper case)",
        )


def _tls(settings: Settings) -> Iterator[Finding]:
    if settings.tls is None:
        return
    files = {
        "tls.cert_file": settings.tls.cert_file,
        "tls.key_file": settings.tls.key_file,
        "tls.client_ca_file": settings.tls.client_ca_file,
    }
    for setting, path in files.items():
        if path is None:
            continue
        try:
            pem = Path(path).read_bytes()
        except OSError as exc:
            yield _error(setting, f"cannot read {path}: {exc.strerror}")
            continue
        if b"-----BEGIN " not in pem:
            yield _error(setting, f"{path} is not PEM (no -----BEGIN line)")
    key_file = Path(settings.tls.key_file)
    if key_file.exists() and key_file.stat().st_mode & stat.S_IROTH:
        yield _warning("tls.key_file", f"{key_file} is readable by every user: chmod o-r it")


def _caller_directory(settings: Settings) -> Iterator[Finding]:
    if not settings.callers:
        if not settings.sandbox:
            yield _error(
                "callers",
                "no callers: outside sandbox mode the gateway refuses to start. Add "
                "[[callers]] with keys from `fapiao-gateway create-key`",
            )
        return
    secret = settings.auth_secret.get_secret_value().encode() if settings.auth_secret else b""
    try:
        CallerDirectory(
            secret,
            [
                CallerEntry(
                    Caller(c.name, frozenset(c.accounts), frozenset(c.operations)),
                    keys=tuple(StoredKey.parse(k) for k in c.keys),
                )
                for c in settings.callers
            ],
        )
    except ValueError as exc:
        yield _error("callers", str(exc))
    for name, count in Counter(c.name for c in settings.callers).items():
        if count > 1:
            yield _warning(
                "callers", f"{count} callers are named {name!r}: logs cannot tell them apart"
            )
    owners = Counter(n for c in settings.callers for n in set(c.tls_common_names))
    for common_name, count in owners.items():
        if count > 1:
            yield _error(
                "callers",
                f"the TLS common name {common_name!r} is given to {count} callers: a client "
                "certificate must identify exactly one",
            )


def _callers(settings: Settings) -> Iterator[Finding]:
    known = _account_names(settings)
    for index, caller in enumerate(settings.callers):
        where = f"callers[{index}]"
        if not caller.keys and not caller.tls_common_names:
            yield _warning(
                where,
                f"caller {caller.name!r} has no API key and no TLS common name, so it can "
                "never authenticate: give it keys (`fapiao-gateway create-key`) or "
                "tls_common_names",
            )
        if caller.tls_common_names and (settings.tls is None or not settings.tls.client_ca_file):
            yield _warning(
                where,
                f"caller {caller.name!r} is identified by TLS common names, but mutual TLS is "
                "off (set tls.client_ca_file), so no certificate will ever name it",
            )
        unknown = sorted(set(caller.accounts) - known - {ANY})
        if unknown:
            yield _warning(
                where,
                f"caller {caller.name!r} names accounts that are not configured: {unknown}",
            )


def _account_names(settings: Settings) -> set[str]:
    if settings.sandbox and not settings.accounts:
        return {
            *(n for a in seed.ACCOUNTS for n in (a.appid, a.alias)),
            *(n for c in seed.COMPONENTS for m in c.merchants for n in (m.appid, m.alias)),
            *(n for w in seed.WORK_APPS for n in (w.key, w.alias, w.corp_id)),
        }
    return {n for a in settings.accounts for n in (a.key, a.alias, a.corp_id) if n}


def _auth_secret(settings: Settings) -> Iterator[Finding]:
    secret = settings.auth_secret
    if secret is not None and len(secret.get_secret_value()) < MIN_AUTH_SECRET:
        yield _warning(
            "auth_secret",
            f"shorter than {MIN_AUTH_SECRET} characters: make a new one with "
            "`openssl rand -hex 32` (and new keys with it)",
        )


def _accounts(settings: Settings) -> Iterator[Finding]:
    if not settings.accounts and not settings.sandbox:
        yield _warning(
            "accounts", "no WeChat accounts: every call names one, so every call will fail"
        )
    try:
        AccountRegistry(
            Account(appid=a.key, secret=SecretStr(""), alias=a.alias, corp_id=a.corp_id)
            for a in settings.accounts
        )
    except ValueError as exc:
        yield _error("accounts", str(exc))
    corps = Counter(a.corp_id for a in settings.accounts if a.corp_id)
    for corp_id in sorted(c for c, n in corps.items() if n > 1):
        yield _note(
            "accounts",
            f"corp {corp_id} has {corps[corp_id]} apps configured: its corp ID names none of "
            "them; requests name each by its alias or corp_id/agent_id",
        )
    for index, account in enumerate(settings.accounts):
        where = f"accounts[{index}]"
        has_secret = account.platform is not Platform.COMPONENT
        if has_secret and not account.secret.get_secret_value().strip():
            yield _warning(
                f"{where}.secret",
                f"account {account.key} has an empty secret: it cannot fetch a token",
            )
        if account.base_url:
            yield from _base_url(f"{where}.base_url", account.base_url)


def _components(settings: Settings) -> Iterator[Finding]:
    if settings.http_listen and not settings.components and not settings.metrics.enabled:
        yield _warning(
            "http_listen",
            "set, but no components are configured and metrics are off: it serves nothing",
        )
    merchants = [a for a in settings.accounts if a.platform is Platform.COMPONENT]
    for index, component in enumerate(settings.components):
        if not settings.http_listen and not component.verify_ticket.get_secret_value():
            yield _note(
                f"components[{index}]",
                f"third-party platform {component.component_appid}: http_listen is not set, so "
                "WeChat's component_verify_ticket cannot arrive: set one with `fapiao-gateway "
                "component set-ticket` or verify_ticket",
            )
        if component.base_url:
            yield from _base_url(f"components[{index}].base_url", component.base_url)
    if merchants and settings.token_store != "redis" and not settings.sandbox:
        yield _warning(
            "token_store",
            'third-party platform merchants with token_store = "memory": a refresh token '
            "WeChat rotates is forgotten at restart, and each replica fetches its own "
            'tokens. Use token_store = "redis"',
        )


def _base_url(setting: str, url: str) -> Iterator[Finding]:
    parts = urlsplit(url)
    if not _is_http_url(url):
        yield _error(setting, f"{url!r} is not an http(s) URL")
    elif parts.scheme == "http" and not _is_loopback(parts.hostname or ""):
        yield _warning(
            setting,
            f"{url} is plain http to another host: the account's secret and tokens cross the "
            "network unencrypted",
        )


def _ledger(settings: Settings) -> Iterator[Finding]:
    try:
        url = make_url(settings.database_url)
    except ArgumentError:
        yield _error("database_url", "not a database URL (e.g. postgresql+asyncpg://u@host/db)")
        return
    backend, driver = url.get_backend_name(), url.get_driver_name()
    if LEDGER_DRIVERS.get(backend) != driver:
        yield _error(
            "database_url",
            f"{backend}+{driver} is not supported: use sqlite+aiosqlite:///PATH or "
            "postgresql+asyncpg://USER@HOST/DB",
        )
        return
    if backend != "sqlite":
        return
    if url.database in (None, "", ":memory:"):
        yield _warning(
            "database_url",
            "an in-memory SQLite ledger forgets every import at restart and is not shared "
            "between connections: give it a file",
        )
    elif not Path(url.database).is_absolute():
        yield _note(
            "database_url",
            f"the SQLite ledger {url.database} is relative to the working directory",
        )


def _token_store(settings: Settings) -> Iterator[Finding]:
    if "redis" in (settings.token_store, settings.quotas.store):
        scheme = urlsplit(settings.redis_url).scheme
        if scheme not in _REDIS_SCHEMES:
            yield _error(
                "redis_url", f"{settings.redis_url!r} is not a redis://, rediss:// or unix:// URL"
            )


def _processes(settings: Settings) -> Iterator[Finding]:
    """Several processes (workers, or reuse_port) must share tokens and the ledger."""
    problem = why_not_shared(settings)
    if problem is None:
        return
    if settings.workers > 1:
        yield _error("workers", f"{settings.workers} workers cannot run: {problem}")
    elif settings.reuse_port:
        yield _warning("reuse_port", f"several processes on one port: {problem}")


def _upstream(settings: Settings) -> Iterator[Finding]:
    up = settings.upstream
    if up.backoff_base_seconds > up.backoff_max_seconds:
        yield _warning(
            "upstream.backoff_base_seconds",
            "larger than upstream.backoff_max_seconds, so every wait is capped at the maximum",
        )
    if up.credential_margin_seconds >= TOKEN_LIFETIME_SECONDS:
        yield _warning(
            "upstream.credential_margin_seconds",
            f"tokens live {TOKEN_LIFETIME_SECONDS} s, so a margin this long fetches a new one "
            "for every call",
        )


def _intents(settings: Settings) -> Iterator[Finding]:
    intents, up = settings.intents, settings.upstream
    if intents.settle_seconds < up.request_timeout_seconds:
        yield _warning(
            "intents.settle_seconds",
            f"shorter than upstream.request_timeout_seconds ({up.request_timeout_seconds:g} s): "
            "a write whose answer was lost could land at WeChat after recovery has concluded "
            "it did not, leaving a lock no report owns (docs/intents.md)",
        )


def _import_page(settings: Settings) -> Iterator[Finding]:
    url = settings.import_page_url
    if not url:
        if not settings.sandbox:
            yield _note(
                "import_page_url",
                "not set: IssueImportQr answers FAILED_PRECONDITION until it is",
            )
        return
    if not _is_http_url(url):
        yield _error("import_page_url", f"{url!r} is not an http(s) URL")


def _quotas(settings: Settings) -> Iterator[Finding]:
    limited = any(c.rate_limits for c in settings.callers) or any(
        a.rate_limits for a in settings.accounts
    )
    several = settings.token_store == "redis" or settings.reuse_port
    if limited and several and settings.quotas.store != "redis":
        yield _warning(
            "quotas.store",
            'rate limits counted in memory with several processes (token_store = "redis" or '
            "reuse_port): each counts alone, so N of them allow N times the limits. Set "
            'quotas.store = "redis"',
        )


def _observability(settings: Settings) -> Iterator[Finding]:
    endpoint = settings.tracing.otlp_endpoint
    if endpoint and not _is_http_url(endpoint):
        yield _error(
            "tracing.otlp_endpoint",
            f"{endpoint!r} is not an http(s) URL (e.g. http://otel-collector:4317)",
        )
    if not settings.metrics.enabled or not settings.http_listen:
        return
    host = settings.http_listen.rpartition(":")[0]
    if _is_loopback(host):
        return
    if settings.components:
        yield _warning(
            "http_listen",
            f"{settings.http_listen} takes WeChat's pushes from the internet and serves "
            "/metrics, unauthenticated, on the same port: let only /wechat/component/ through "
            "to it from outside (a proxy or ingress rule), or turn metrics.enabled off",
        )
    else:
        yield _note(
            "metrics",
            f"/metrics on {settings.http_listen} is plain HTTP and unauthenticated (callers' and "
            "accounts' names, call counts): keep the port to your scrapers (network policy)",
        )


_CHECKS: tuple[Callable[[Settings], Iterator[Finding]], ...] = (
    _mode,
    _listen,
    _log_level,
    _tls,
    _caller_directory,
    _callers,
    _auth_secret,
    _accounts,
    _components,
    _ledger,
    _token_store,
    _processes,
    _upstream,
    _intents,
    _import_page,
    _quotas,
    _observability,
)
