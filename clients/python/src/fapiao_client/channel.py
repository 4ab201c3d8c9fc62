"""Channels set up the way callers should call the gateway.

`channel` (sync) and `aio_channel` (asyncio) give a channel that
- sends the API key (`authorization: Bearer fpk_...`) with every call;
- gives every call a deadline unless the call sets its own (gRPC service config `timeout`);
- retries reads that failed UNAVAILABLE, with exponential backoff (service config
  `retryPolicy`). Writes are never retried by the channel: the gateway settles a retried
  write only by its request_id, so retry them yourself, with the same request_id;
- raises fapiao_client.errors exceptions (InvalidArgument, Unavailable, ...) instead of
  bare grpc errors.

Which methods are writes comes from the contract: a request with a `request_id` field.
"""

import json
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from fapiao.v1 import invoice_service_pb2
from google.protobuf import descriptor

from fapiao_client.errors import from_rpc_error

SERVICE: descriptor.ServiceDescriptor = invoice_service_pb2.DESCRIPTOR.services_by_name[
    "InvoiceService"
]


@dataclass(frozen=True)
class RetryPolicy:
    """gRPC retries of reads that failed UNAVAILABLE (at most 5 attempts, gRPC's cap)."""

    max_attempts: int = 3
    initial_backoff_seconds: float = 0.5
    max_backoff_seconds: float = 5.0
    backoff_multiplier: float = 2.0

    def config(self) -> dict[str, Any]:
        return {
            "maxAttempts": self.max_attempts,
            "initialBackoff": f"{self.initial_backoff_seconds}s",
            "maxBackoff": f"{self.max_backoff_seconds}s",
            "backoffMultiplier": self.backoff_multiplier,
            "retryableStatusCodes": ["UNAVAILABLE"],
        }


def is_write(method: descriptor.MethodDescriptor) -> bool:
    """Whether a method changes state: its request takes an idempotency key (AIP-155)."""
    return "request_id" in method.input_type.fields_by_name


def service_config(timeout_seconds: float, retry: RetryPolicy | None) -> str:
    """The gRPC service config: a deadline for every call, retries for the reads."""
    reads = [m for m in SERVICE.methods if not is_write(m)]
    read_config: dict[str, Any] = {
        "name": [{"service": SERVICE.full_name, "method": m.name} for m in reads],
        "timeout": f"{timeout_seconds}s",
    }
    if retry is not None:
        read_config["retryPolicy"] = retry.config()
    # A name with the service alone is the default for its other methods: the writes.
    writes = {"name": [{"service": SERVICE.full_name}], "timeout": f"{timeout_seconds}s"}
    return json.dumps({"methodConfig": [read_config, writes]})


def _with_key(details: Any, api_key: str | None) -> Any:
    if api_key is None:
        return details
    metadata = list(details.metadata or ())
    metadata.append(("authorization", f"Bearer {api_key}"))
    return details._replace(metadata=metadata)


class _Interceptor(
    grpc.UnaryUnaryClientInterceptor,  # type: ignore[type-arg]
    grpc.UnaryStreamClientInterceptor,  # type: ignore[type-arg]
):
    """Sync: adds the key, raises typed exceptions."""

    def __init__(self, api_key: str | None) -> None:
        self._api_key = api_key

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        outcome = continuation(_with_key(details, self._api_key), request)
        error = outcome.exception()
        if isinstance(error, grpc.RpcError):
            raise from_rpc_error(error) from error
        return outcome

    def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        call = continuation(_with_key(details, self._api_key), request)

        def responses() -> Iterator[Any]:
            try:
                yield from call
            except grpc.RpcError as error:
                raise from_rpc_error(error) from error

        return responses()


class _AioUnaryUnary(grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[type-arg]
    def __init__(self, api_key: str | None) -> None:
        self._api_key = api_key

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        call = await continuation(_with_key(details, self._api_key), request)
        try:
            await call
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error(error) from error
        return call


class _AioUnaryStream(grpc.aio.UnaryStreamClientInterceptor):  # type: ignore[type-arg]
    def __init__(self, api_key: str | None) -> None:
        self._api_key = api_key

    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        call = await continuation(_with_key(details, self._api_key), request)

        async def responses() -> AsyncIterator[Any]:
            try:
                async for response in call:
                    yield response
            except grpc.aio.AioRpcError as error:
                raise from_rpc_error(error) from error

        return responses()


def _options(
    credentials: grpc.ChannelCredentials | None,
    insecure: bool,
    timeout_seconds: float,
    retry: RetryPolicy | None,
    options: Sequence[tuple[str, Any]],
) -> list[tuple[str, Any]]:
    if insecure and credentials is not None:
        raise ValueError("pass either credentials or insecure=True, not both")
    if timeout_seconds <= 0:
        raise ValueError(f"timeout_seconds must be positive, not {timeout_seconds}")
    return [
        ("grpc.service_config", service_config(timeout_seconds, retry)),
        ("grpc.enable_retries", 1),
        *options,
    ]


def channel(
    target: str,
    *,
    api_key: str | None = None,
    credentials: grpc.ChannelCredentials | None = None,
    insecure: bool = False,
    timeout_seconds: float = 15.0,
    retry: RetryPolicy | None = RetryPolicy(),
    options: Sequence[tuple[str, Any]] = (),
) -> grpc.Channel:
    """A sync channel to the gateway at `target` (host:port).

    TLS with the system's roots unless `credentials` are given; `insecure=True` only for a
    gateway on this machine (the key would travel in clear). `retry=None` turns retries off.
    """
    settings = _options(credentials, insecure, timeout_seconds, retry, options)
    if insecure:
        raw = grpc.insecure_channel(target, options=settings)
    else:
        tls = credentials or grpc.ssl_channel_credentials()
        raw = grpc.secure_channel(target, tls, options=settings)
    intercepted: grpc.Channel = grpc.intercept_channel(raw, _Interceptor(api_key))
    return intercepted


def aio_channel(
    target: str,
    *,
    api_key: str | None = None,
    credentials: grpc.ChannelCredentials | None = None,
    insecure: bool = False,
    timeout_seconds: float = 15.0,
    retry: RetryPolicy | None = RetryPolicy(),
    options: Sequence[tuple[str, Any]] = (),
) -> grpc.aio.Channel:
    """The asyncio twin of `channel`."""
    settings = _options(credentials, insecure, timeout_seconds, retry, options)
    interceptors: Any = [_AioUnaryUnary(api_key), _AioUnaryStream(api_key)]
    if insecure:
        return grpc.aio.insecure_channel(target, options=settings, interceptors=interceptors)
    tls = credentials or grpc.ssl_channel_credentials()
    return grpc.aio.secure_channel(target, tls, options=settings, interceptors=interceptors)
