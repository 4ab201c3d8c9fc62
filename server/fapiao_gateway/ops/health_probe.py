"""`fapiao-gateway health`: asks a running gateway's grpc.health.v1 service how it is.

For container health checks (Docker's HEALTHCHECK, compose) where Kubernetes' native gRPC
probe is not available. It speaks plaintext unless given a CA file; with mutual TLS it also
needs a client certificate and key.
"""

from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from fapiao_gateway.config import Settings

#: Listening on every interface means the probe, on the same host, can use loopback.
_ANY_HOST = {
    "0.0.0.0": "127.0.0.1",  # noqa: S104 (a name to replace, not bound)
    "[::]": "[::1]",
    "": "127.0.0.1",
}


@dataclass(frozen=True)
class ProbeTls:
    """PEM files for a TLS probe: the CA that signed the gateway's certificate, and with
    mutual TLS a client certificate and key."""

    ca_file: Path
    cert_file: Path | None = None
    key_file: Path | None = field(default=None, repr=False)
    #: The name the gateway's certificate holds, when it is not the probed host.
    server_name: str = ""


def probe_address(settings: Settings) -> str:
    """Where a probe on the gateway's own host reaches the gateway `settings` configure."""
    if settings.listen.startswith("unix:"):
        return settings.listen
    host, _, port = settings.listen.rpartition(":")
    return f"{_ANY_HOST.get(host, host)}:{port}"


async def check(address: str, service: str, timeout: float, tls: ProbeTls | None = None) -> str:
    """The serving status of `service` ("" is the whole server), e.g. "SERVING".

    Raises grpc.aio.AioRpcError when the gateway does not answer (or knows no such service).
    """
    async with _channel(address, tls) as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=timeout
        )
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))


def _channel(address: str, tls: ProbeTls | None) -> grpc.aio.Channel:
    if tls is None:
        return grpc.aio.insecure_channel(address)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=tls.ca_file.read_bytes(),
        private_key=tls.key_file.read_bytes() if tls.key_file else None,
        certificate_chain=tls.cert_file.read_bytes() if tls.cert_file else None,
    )
    options = [("grpc.ssl_target_name_override", tls.server_name)] if tls.server_name else []
    return grpc.aio.secure_channel(address, credentials, options=options)
