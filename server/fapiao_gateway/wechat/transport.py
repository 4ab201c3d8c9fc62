"""The one seam between the adapter and HTTP: send a request, get a status and bytes.

Everything above this module (tokens, errcodes, retries) is independent of the HTTP library.
`HttpxTransport` serves the in-process sandbox (httpx.ASGITransport), tests
(httpx.MockTransport) and production; other clients plug in by implementing `Transport`.
"""

import logging
from dataclasses import dataclass, field
from typing import Protocol

import httpx

# httpx logs every request URL at INFO, and WeChat URLs carry ?access_token= (and, for
# /cgi-bin/token, the app secret). Secrets never reach logs: keep httpx and httpcore quiet.
for _name in ("httpx", "httpcore"):
    logging.getLogger(_name).setLevel(logging.WARNING)


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """What the adapter asks the network for. `body` is JSON already encoded, or None."""

    method: str
    url: str
    params: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None


@dataclass(frozen=True, slots=True)
class HttpReply:
    """What came back: status and raw body. Parsing is the caller's job."""

    status: int
    body: bytes


class TransportError(Exception):
    """The request got no HTTP reply.

    `maybe_sent` is False only when the failure happened before any byte of the request
    could reach WeChat (no connection), which makes even a write safe to retry.
    """

    def __init__(self, message: str, *, maybe_sent: bool, timed_out: bool = False) -> None:
        super().__init__(message)
        self.maybe_sent = maybe_sent
        self.timed_out = timed_out


class Transport(Protocol):
    """Sends one HTTP request within `timeout` seconds."""

    async def send(self, request: HttpRequest, *, timeout: float) -> HttpReply: ...

    async def aclose(self) -> None: ...


class HttpxTransport:
    """`Transport` on an httpx.AsyncClient (any httpx transport underneath)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def send(self, request: HttpRequest, *, timeout: float) -> HttpReply:
        headers = {"content-type": "application/json"} if request.body is not None else {}
        try:
            reply = await self._client.request(
                request.method,
                request.url,
                params=request.params,
                content=request.body,
                headers=headers,
                timeout=timeout,
            )
        except httpx.ConnectError as exc:
            raise TransportError("cannot connect", maybe_sent=False) from exc
        except httpx.ConnectTimeout as exc:
            raise TransportError("connect timed out", maybe_sent=False, timed_out=True) from exc
        except httpx.TimeoutException as exc:
            raise TransportError("timed out", maybe_sent=True, timed_out=True) from exc
        except httpx.HTTPError as exc:
            # The type only: httpx messages can carry the URL, and with it a token or secret.
            raise TransportError(type(exc).__name__, maybe_sent=True) from exc
        return HttpReply(status=reply.status_code, body=reply.content)

    async def aclose(self) -> None:
        await self._client.aclose()
