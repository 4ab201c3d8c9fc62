"""The grpc.aio server: the service, health checking, reflection, message-size limits.

Reflection (api.reflection) lists the service with the contract's comments (so grpcurl and
buf curl need no .proto) and also resolves the google.rpc error detail types: both print
BadRequest & co. decoded.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from fapiao.v1 import invoice_service_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer

from fapiao_gateway.api import errors as _errors  # noqa: F401 (registers google.rpc types)
from fapiao_gateway.api.calls import WrappedHandlers, Wrapper
from fapiao_gateway.api.reflection import reflection_handlers

SERVICE_NAME: str = invoice_service_pb2.DESCRIPTOR.services_by_name["InvoiceService"].full_name
#: Calls gRPC core queues for the application before it sheds new ones at random (soft), and
#: before it refuses every new one (hard). See start_grpc_server.
PENDING_CALLS_SOFT_LIMIT = 5_000
PENDING_CALLS_HARD_LIMIT = 10_000


@dataclass
class GrpcServer:
    """A started server and the port it listens on."""

    server: grpc.aio.Server
    health: HealthServicer
    port: int

    async def stop(self, grace: float) -> None:
        """Graceful shutdown: health says NOT_SERVING, then in-flight calls get `grace` s."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)


@dataclass(frozen=True)
class ServerTls:
    """PEM bytes for TLS; with `client_ca`, clients must present a certificate it signed."""

    cert_chain: bytes
    private_key: bytes = field(repr=False)
    client_ca: bytes | None = None


async def start_grpc_server(
    service: "grpc.GenericRpcHandler[Any, Any]",
    *,
    listen: str,
    tls: ServerTls | None = None,
    max_receive_message_bytes: int,
    max_send_message_bytes: int,
    max_streams_per_connection: int = 1000,
    reuse_port: bool = False,
    wrappers: Sequence[Wrapper] = (),
    interceptors: Sequence["grpc.aio.ServerInterceptor[Any, Any]"] = (),
) -> GrpcServer:
    """Binds `listen` (host:port; port 0 picks a free one) and starts serving: `service`,
    reflection and health, every handler passed through `wrappers` (api/calls.py), the
    first outermost; `interceptors` (tracing, when on) around them all.

    One connection carries at most `max_streams_per_connection` calls at once (HTTP/2's
    SETTINGS_MAX_CONCURRENT_STREAMS; gRPC's default is unbounded), so one client cannot
    hold an unbounded number of calls, and memory, open on one connection.
    """
    server = grpc.aio.server(
        interceptors=list(interceptors),
        options=[
            ("grpc.max_receive_message_length", max_receive_message_bytes),
            ("grpc.max_send_message_length", max_send_message_bytes),
            ("grpc.max_concurrent_streams", max_streams_per_connection),
            ("grpc.so_reuseport", 1 if reuse_port else 0),
            # Calls not yet handed to the application: past the soft limit gRPC core sheds
            # new calls at random, well-behaved callers' included (CANCELLED, never seen
            # by a handler). At the defaults (1,000 / 3,000) a flood of 1,500 unauthenticated
            # streams cost a bystander its call in one run of three (tests/e2e/test_hostile.py);
            # the gate refuses such calls in microseconds, so the queue drains long before
            # these limits matter for memory (about 15 KB a pending call).
            ("grpc.server.max_pending_requests", PENDING_CALLS_SOFT_LIMIT),
            ("grpc.server.max_pending_requests_hard_limit", PENDING_CALLS_HARD_LIMIT),
        ],
    )
    health_servicer = HealthServicer()
    handlers = (
        service,
        *reflection_handlers([SERVICE_NAME, health.SERVICE_NAME]),
        _health_handler(health_servicer),
    )
    server.add_generic_rpc_handlers((WrappedHandlers(handlers, wrappers),))
    try:
        if tls is None:
            port = server.add_insecure_port(listen)
        else:
            credentials = grpc.ssl_server_credentials(
                [(tls.private_key, tls.cert_chain)],
                root_certificates=tls.client_ca,
                require_client_auth=tls.client_ca is not None,
            )
            port = server.add_secure_port(listen, credentials)
    except RuntimeError:
        port = 0
    if port == 0:
        raise OSError(
            f"cannot listen on {listen}: the address is in use or not available here; "
            "choose another with --listen or FAPIAO_LISTEN (port 0 picks a free one)"
        )
    await server.start()
    for name in ("", SERVICE_NAME):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return GrpcServer(server=server, health=health_servicer, port=port)


class _Collected:
    """Stands in for a server to collect what generated add_..._to_server code registers."""

    def __init__(self) -> None:
        self.handlers: list[grpc.GenericRpcHandler[Any, Any]] = []

    def add_generic_rpc_handlers(self, handlers: Sequence[Any]) -> None:
        self.handlers += handlers

    def add_registered_method_handlers(self, service: str, methods: dict[str, Any]) -> None:
        self.handlers.append(grpc.method_handlers_generic_handler(service, methods))


def _health_handler(servicer: HealthServicer) -> "grpc.GenericRpcHandler[Any, Any]":
    """grpc.health.v1.Health as a generic handler, to be wrapped like the rest."""
    collected = _Collected()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, collected)
    (handler,) = collected.handlers[:1]
    return handler
