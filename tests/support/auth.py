"""Credentials for tests: keys made the way operators make them, sent the way callers send them."""

from typing import Any

import grpc
from fapiao_gateway.auth.keys import create_key

#: The server secret test configurations use.
TEST_AUTH_SECRET = "test-auth-secret-0123456789abcdef"


def new_key() -> tuple[str, str]:
    """(API key, stored form) under TEST_AUTH_SECRET."""
    key, stored = create_key(TEST_AUTH_SECRET.encode())
    return key, str(stored)


def caller(
    name: str, accounts: list[str], operations: list[str], *keys: str, **extra: Any
) -> dict[str, Any]:
    """A [[callers]] entry."""
    return {
        "name": name,
        "accounts": accounts,
        "operations": operations,
        "keys": list(keys),
        **extra,
    }


def _authorized(details: Any, key: str) -> Any:
    metadata = grpc.aio.Metadata(*(details.metadata or ()))
    metadata.add("authorization", f"Bearer {key}")
    return details._replace(metadata=metadata)


class BearerAuth(grpc.aio.UnaryUnaryClientInterceptor):
    """Adds `authorization: Bearer <key>` to every unary call of a channel."""

    def __init__(self, key: str) -> None:
        self._key = key

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(_authorized(details, self._key), request)


class BearerAuthStreams(grpc.aio.UnaryStreamClientInterceptor):
    """The same for server-streaming calls (GetInvoiceDocument)."""

    def __init__(self, key: str) -> None:
        self._key = key

    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(_authorized(details, self._key), request)


def channel(address: str, key: str | None) -> grpc.aio.Channel:
    """An insecure channel that authenticates every call with `key` (None: anonymous)."""
    interceptors: Any = (
        [BearerAuth(key), BearerAuthStreams(key)] if key else None
    )  # grpc-stubs types this list too narrowly
    return grpc.aio.insecure_channel(address, interceptors=interceptors)
