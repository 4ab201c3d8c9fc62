"""One access line per call (logger fapiao_gateway.access), the api.call_recorder listener.

Fields: rpc, service, code, reason, caller, account, latency_ms, request_id, correlation_id
(INTERNAL errors: the id the caller was given), wechat_errcode, trace_id (when traced), peer.
Levels follow whose move it is: INFO for success and for refusals the caller can act on
(invalid, not found, denied, over quota, ...), WARNING for what went wrong elsewhere
(UNAVAILABLE, DEADLINE_EXCEEDED, UNKNOWN), ERROR for the gateway's own failures (INTERNAL).
Health checks and reflection that succeed are DEBUG: a probe every few seconds is not news.
"""

import logging

import grpc
from grpc_health.v1 import health
from opentelemetry import trace

from fapiao_gateway.api.calls import CallFacts

log = logging.getLogger("fapiao_gateway.access")

_WARNING = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.UNIMPLEMENTED,
    }
)
_ERROR = frozenset({grpc.StatusCode.INTERNAL, grpc.StatusCode.DATA_LOSS})
#: Services whose successful calls are routine (probes, tools).
_ROUTINE = frozenset({health.SERVICE_NAME, "grpc.reflection.v1.ServerReflection"}) | {
    "grpc.reflection.v1alpha.ServerReflection"
}


def level_of(facts: CallFacts) -> int:
    if facts.code in _ERROR:
        return logging.ERROR
    if facts.code in _WARNING:
        return logging.WARNING
    if facts.code is grpc.StatusCode.OK and facts.service in _ROUTINE:
        return logging.DEBUG
    return logging.INFO


def access_line(facts: CallFacts) -> None:
    """Logs `facts` as the call's access line."""
    level = level_of(facts)
    if not log.isEnabledFor(level):
        return
    fields: dict[str, object] = {
        "rpc": facts.rpc,
        "service": facts.service,
        "code": facts.code.name,
        "caller": facts.caller or "-",
        "account": facts.account or "-",
        "latency_ms": round(facts.seconds * 1000, 3),
        "request_id": facts.request_id,
    }
    for name in ("reason", "correlation_id", "wechat_errcode"):
        value = getattr(facts, name)
        if value:
            fields[name] = value
    span = trace.get_current_span().get_span_context()
    if span.is_valid:
        fields["trace_id"] = format(span.trace_id, "032x")
    # makeRecord and handle, not log.log: an access line has no source location worth the
    # stack walk (findCaller) log.log makes for every record.
    record = log.makeRecord(
        log.name,
        level,
        __file__,
        0,
        "%s %s %.1f ms",
        (facts.rpc, facts.code.name, facts.seconds * 1000),
        None,
        extra={"access": True, **fields},
    )
    log.handle(record)
