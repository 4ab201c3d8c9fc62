"""The gateway's Prometheus metrics, and the /metrics route that serves them.

Each gateway has a registry of its own (tests run several gateways in one process, and a
process-wide registry would mix them). Every label takes values from a bounded set: RPC and
WeChat API names, gRPC codes, errcodes of the tables (others are "unrecognized"), configured
callers and accounts ("-" for none). Never an invoice, a request id, an openid or a URL.
The names of the gRPC server metrics are the grpc-ecosystem ones (go-grpc-prometheus,
py-grpc-prometheus), so existing dashboards and alerts apply.

With `serve --workers N` a scrape reaches whichever worker accepts it, so the supervisor gives
the workers a shared directory (PROMETHEUS_MULTIPROC_DIR, read by prometheus_client when it is
imported): every worker writes its values there, and /metrics adds them all up. Gauges say how
(`multiprocess_mode`); the per-process collectors (CPU, memory, GC) are left out, since one
worker's figures would pass for the gateway's.
"""

import os
from collections.abc import Mapping
from importlib.metadata import version
from typing import Any, Generic, TypeVar

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.gc_collector import GCCollector
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fapiao_gateway.api.calls import CallFacts
from fapiao_gateway.api.server import SERVICE_NAME as INVOICE_SERVICE

#: Where the metrics are served, on the gateway's HTTP listener.
METRICS_PATH = "/metrics"
#: Seconds: a gateway call, from a cached read (milliseconds) to a slow write with retries.
CALL_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
#: Seconds: one upstream HTTP attempt.
UPSTREAM_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
#: Seconds: one ledger statement.
QUERY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5)
#: The label value for "no caller / no account".
NONE = "-"
#: Where the workers of one supervisor share their values (prometheus_client's variable).
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"


MetricT = TypeVar("MetricT", Counter, Histogram)
#: Most label combinations a Children keeps (every label's values are bounded anyway).
_MAX_CHILDREN = 4096


class Children(Generic[MetricT]):
    """A labelled metric's children, each made once. `labels()` checks its arguments and
    takes a lock on every call: per gateway call, five of them cost more than the counting
    (issue 12: the gateway's own cost per call)."""

    __slots__ = ("_made", "_metric")

    def __init__(self, metric: MetricT) -> None:
        self._metric: MetricT = metric
        self._made: dict[tuple[str, ...], Any] = {}

    def __call__(self, *values: str) -> MetricT:
        child = self._made.get(values)
        if child is None:
            child = self._metric.labels(*values)
            if len(self._made) < _MAX_CHILDREN:
                self._made[values] = child
        return child


def shared_directory() -> str | None:
    """The workers' shared metrics directory, when this process is one of several."""
    return os.environ.get(MULTIPROCESS_DIR) or None


class GatewayMetrics:
    """Every metric the gateway exports, on a registry of its own."""

    def __init__(self) -> None:
        registry = CollectorRegistry(auto_describe=True)
        shared = shared_directory()
        if shared is None:
            ProcessCollector(registry=registry)
            PlatformCollector(registry=registry)
            GCCollector(registry=registry)
            #: What /metrics serves: this process's registry, or every worker's values.
            self.registry = registry
        else:
            self.registry = CollectorRegistry(auto_describe=True)
            MultiProcessCollector(self.registry, path=shared)  # type: ignore[no-untyped-call]
        build = Gauge(
            "fapiao_gateway_build_info",
            "The gateway's version (always 1).",
            ["version"],
            registry=registry,
            multiprocess_mode="max",
        )
        build.labels(version("fapiao-gateway")).set(1)

        rpc = ["grpc_service", "grpc_method"]
        self.handled = Counter(
            "grpc_server_handled_total",
            "gRPC calls completed, by method and status code.",
            [*rpc, "grpc_code"],
            registry=registry,
        )
        self.handling = Histogram(
            "grpc_server_handling_seconds",
            "How long gRPC calls took, by method.",
            rpc,
            buckets=CALL_BUCKETS,
            registry=registry,
        )
        self.caller_calls = Counter(
            "fapiao_caller_calls_total",
            "InvoiceService calls by caller, the account they named (when configured) and "
            "status code.",
            ["caller", "account", "grpc_code"],
            registry=registry,
        )
        self.upstream_calls = Counter(
            "fapiao_upstream_calls_total",
            'HTTP attempts at WeChat by API, account and outcome: "0" (ok), the errcode, '
            '"unrecognized", or "unreachable", "timeout", "http_error", "malformed".',
            ["wechat_api", "account", "errcode"],
            registry=registry,
        )
        self.upstream_seconds = Histogram(
            "fapiao_upstream_call_seconds",
            "How long one HTTP attempt at WeChat took, by API.",
            ["wechat_api"],
            buckets=UPSTREAM_BUCKETS,
            registry=registry,
        )
        self.upstream_retries = Counter(
            "fapiao_upstream_retries_total",
            "Upstream attempts retried, by API, account and the outcome that was retried.",
            ["wechat_api", "account", "errcode"],
            registry=registry,
        )
        self.credential_fetches = Counter(
            "fapiao_credential_fetches_total",
            "Access tokens, component tokens and JS-SDK tickets fetched from WeChat, by "
            'account, credential and outcome ("ok", "refused": an errcode, "failed").',
            ["account", "credential", "outcome"],
            registry=registry,
        )
        self.accounts_up = Gauge(
            "fapiao_account_up",
            "1 while WeChat accepts the account, 0 after an account-side errcode (IP not "
            "whitelisted, API unauthorized, ...) until a call of that API succeeds.",
            ["account"],
            registry=registry,
            multiprocess_mode="mostrecent",
        )
        self.replays = Counter(
            "fapiao_idempotent_replays_total",
            "Requests answered with the first outcome of their request_id (AIP-155), by RPC.",
            ["rpc"],
            registry=registry,
        )
        self.ledger_queries = Histogram(
            "fapiao_ledger_query_seconds",
            "How long ledger statements took, by kind of statement.",
            ["statement"],
            buckets=QUERY_BUCKETS,
            registry=registry,
        )
        self.ledger_errors = Counter(
            "fapiao_ledger_query_errors_total",
            "Ledger statements that failed, by kind of statement.",
            ["statement"],
            registry=registry,
        )
        self.dependencies_up = Gauge(
            "fapiao_dependency_up",
            "1 while the readiness probe reaches the dependency (ledger, redis), else 0.",
            ["dependency"],
            registry=registry,
            multiprocess_mode="livemin",
        )
        self.quota = Counter(
            "fapiao_quota_units_total",
            'Units of the configured rate limits, by scope ("caller", "account"), its name '
            'and outcome ("admitted", "refused").',
            ["scope", "subject", "outcome"],
            registry=registry,
        )

        self.archive_documents = Gauge(
            "fapiao_archive_documents",
            "Documents (invoice PDFs, trip attachments) known to the archive, by state "
            '("PENDING", "ARCHIVED", "FAILED"): the whole ledger, as of the archiver\'s last '
            "round.",
            ["state"],
            registry=registry,
            multiprocess_mode="mostrecent",  # every worker counts the same ledger
        )
        self.archive_bytes = Gauge(
            "fapiao_archive_bytes",
            "Bytes of the documents archived (ARCHIVED records; the same bytes archived for "
            "two invoices count twice), as of the archiver's last round.",
            registry=registry,
            multiprocess_mode="mostrecent",
        )
        self.archive_downloads = Counter(
            "fapiao_archive_downloads_total",
            'Document downloads, by outcome ("archived", "retrying", "failed").',
            ["outcome"],
            registry=registry,
        )

        self._handled = Children(self.handled)
        self._handling = Children(self.handling)
        self._caller_calls = Children(self.caller_calls)
        self._upstream_calls = Children(self.upstream_calls)
        self._upstream_seconds = Children(self.upstream_seconds)

    def archive_round(
        self, totals: Mapping[str, tuple[int, int]], archived: int, retrying: int, failed: int
    ) -> None:
        """services.archiving's observer: one round's downloads and the archive's totals."""
        for state in ("PENDING", "ARCHIVED", "FAILED"):
            self.archive_documents.labels(state).set(totals.get(state, (0, 0))[0])
        self.archive_bytes.set(totals.get("ARCHIVED", (0, 0))[1])
        for outcome, n in (("archived", archived), ("retrying", retrying), ("failed", failed)):
            if n:
                self.archive_downloads.labels(outcome).inc(n)

    def add_collector(self, collector: Collector) -> None:
        """Adds a collector computed at scrape time (e.g. the ledger's connection pool; with
        several workers, the pool of the one that answers the scrape)."""
        self.registry.register(collector)

    def call_finished(self, facts: CallFacts) -> None:
        """api.call_recorder listener: one call, counted and timed."""
        code = facts.code.name
        self._handled(facts.service, facts.rpc, code).inc()
        self._handling(facts.service, facts.rpc).observe(facts.seconds)
        if facts.service == INVOICE_SERVICE:
            self._caller_calls(facts.caller or NONE, facts.account or NONE, code).inc()

    def upstream_answered(self, api: str, account: str, outcome: str, seconds: float) -> None:
        """One HTTP attempt at WeChat, counted and timed."""
        self._upstream_calls(api, account, outcome).inc()
        self._upstream_seconds(api).observe(seconds)

    def replayed(self, rpc: str) -> None:
        """services.ports.ReplayObserver: one request answered from its first outcome."""
        self.replays.labels(rpc).inc()


def metrics_routes(registry: CollectorRegistry) -> list[BaseRoute]:
    """GET /metrics: the registry in the format the scraper asks for (Prometheus text, or
    OpenMetrics)."""

    async def metrics(request: Request) -> Response:
        encode, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encode(registry), media_type=content_type)

    return [Route(METRICS_PATH, metrics, methods=["GET"])]
