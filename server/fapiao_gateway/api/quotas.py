"""Per-caller and per-account rate limits, so one runaway caller cannot spend the WeChat
account's daily quota for everyone.

Each caller (`callers[].rate_limits`) and each account (`accounts[].rate_limits`) may have
limits such as "20/second" or "9000 per day" (the `limits` library's notation). Every call
counts one unit against its caller's limits and, when it may reach WeChat and its caller may
use the account it names, one against that account's limits. A call over a limit is refused
RESOURCE_EXHAUSTED (CALLER_QUOTA_EXCEEDED or ACCOUNT_QUOTA_EXCEEDED) with a QuotaFailure
naming the caller or the account and a RetryInfo saying when a unit frees up, before
anything else happens: no ledger, no WeChat.

Where: in the handler, once the caller is authenticated (by key or certificate) and the
request decoded, because the account is in the request; an interceptor sees neither.
Windows slide (the sliding-window-counter strategy: two counters per limit, cheap in Redis).
Limits are checked shortest window first, so a call refused by its per-second limit does not
spend its daily one. Counters live in the process, or in Redis (`quotas.store = "redis"`)
so every replica draws from one. If Redis does not answer, calls are let through (a quota
protects WeChat's; it must not take the gateway down with Redis) and it is logged.
"""

import logging
import math
import time
from collections.abc import Iterable, Mapping

from limits import RateLimitItem
from limits.aio.strategies import RateLimiter
from limits.errors import StorageError

from fapiao_gateway.domain.callers import Caller
from fapiao_gateway.domain.errors import QuotaViolation, ResourceExhausted, account_subject
from fapiao_gateway.rate_limits import describe, parse_limits
from fapiao_gateway.services.ports import AccountDirectory
from fapiao_gateway.telemetry.metrics import GatewayMetrics

log = logging.getLogger("fapiao_gateway.quotas")

#: RPCs that never call WeChat: they spend their caller's quota only.
LEDGER_ONLY_RPCS = frozenset({"SearchInvoices", "ListAuditEvents"})
#: How often an unanswering quota store is logged again while it lasts.
_OUTAGE_LOG_SECONDS = 30.0


class Quotas:
    """Admits calls within their caller's and their account's limits."""

    def __init__(
        self,
        limiter: RateLimiter,
        accounts: AccountDirectory,
        account_limits: Mapping[str, Iterable[str]],
        metrics: GatewayMetrics | None = None,
    ) -> None:
        self._limiter = limiter
        self._accounts = accounts
        self._account_limits = {appid: parse_limits(t) for appid, t in account_limits.items()}
        self._metrics = metrics
        self._outage_logged_at = -_OUTAGE_LOG_SECONDS

    async def admit(self, rpc: str, caller: Caller, account_name: str) -> str:
        """Spends the call's units, or raises ResourceExhausted. Returns the configured name
        of the account the request names ("" when none is configured by that name)."""
        account = self._accounts.find(account_name) if account_name else None
        await self._spend("caller", caller.name, parse_limits(caller.rate_limits))
        if account is None:
            return ""
        label = account.alias or account.appid
        limits = self._account_limits.get(account.appid, ())
        if limits and rpc not in LEDGER_ONLY_RPCS and caller.may_use(*account.names):
            await self._spend("account", label, limits, appid=account.appid)
        return label

    async def _spend(
        self, scope: str, name: str, limits: tuple[RateLimitItem, ...], *, appid: str = ""
    ) -> None:
        if not limits:
            return
        for item in limits:
            try:
                admitted = await self._limiter.hit(item, scope, name)
            except StorageError as outage:
                self._degraded(outage)
                return
            if not admitted:
                self._count(scope, name, "refused")
                raise await self._refusal(scope, name, item, appid)
        self._count(scope, name, "admitted")

    async def _refusal(
        self, scope: str, name: str, item: RateLimitItem, appid: str
    ) -> ResourceExhausted:
        try:
            stats = await self._limiter.get_window_stats(item, scope, name)
            wait = max(1, math.ceil(stats.reset_time - time.time()))
        except StorageError:
            wait = item.get_expiry()
        limit = describe(item)
        if scope == "caller":
            return ResourceExhausted(
                f"Caller {name!r} is over its rate limit ({limit}); retry in {wait} s.",
                reason="CALLER_QUOTA_EXCEEDED",
                metadata={"caller": name, "limit": str(item)},
                quota_violations=[QuotaViolation(f"caller:{name}", limit)],
                retry_after=float(wait),
            )
        return ResourceExhausted(
            f"WeChat account {name!r} is over the gateway's rate limit for it ({limit}), which "
            f"keeps its daily WeChat quota safe; retry in {wait} s.",
            reason="ACCOUNT_QUOTA_EXCEEDED",
            account=appid,
            metadata={"limit": str(item)},
            quota_violations=[QuotaViolation(account_subject(appid), limit)],
            retry_after=float(wait),
        )

    def _count(self, scope: str, name: str, outcome: str) -> None:
        if self._metrics is not None:
            self._metrics.quota.labels(scope, name, outcome).inc()

    def _degraded(self, outage: StorageError) -> None:
        now = time.monotonic()
        if now - self._outage_logged_at >= _OUTAGE_LOG_SECONDS:
            self._outage_logged_at = now
            log.warning(
                "quota store unavailable (%s): calls are let through unlimited until it answers",
                type(outage.storage_error).__name__,
            )
