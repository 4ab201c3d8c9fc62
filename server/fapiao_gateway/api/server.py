"""The grpc.aio server: the service, health checking, reflection, message-size limits.

Reflection lists the service (so grpcurl needs no .proto) and can also resolve the
google.rpc error detail types, which are in the default descriptor pool because
api.errors imports them: grpcurl prints BadRequest & co. decoded.
"""

from dataclasses import dataclass, field
from typing import Any

import grpc
from fapiao.v1 import invoice_service_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection

from fapiao_gateway.api import errors as _errors  # noqa: F401 (registers google.rpc types)

SERVICE_NAME: str = invoice_service_pb2.DESCRIPTOR.services_by_name["InvoiceService"].full_name


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
    reuse_port: bool = False,
) -> GrpcServer:
    """Binds `listen` (host:port; port 0 picks a free one) and starts serving."""
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", max_receive_message_bytes),
            ("grpc.max_send_message_length", max_send_message_bytes),
            ("grpc.so_reuseport", 1 if reuse_port else 0),
        ]
    )
    server.add_generic_rpc_handlers((service,))
    health_servicer = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
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
