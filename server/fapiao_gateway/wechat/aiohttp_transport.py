"""`Transport` on aiohttp: the production default, chosen by measurement.

bench/transport.py drives the whole adapter (token cache, envelope, pydantic parsing) against
a local upstream in another process, with each transport, in one run. Measured here
(2 cores, `.venv/bin/python -m bench.transport --seconds 5`), three runs:
  64 concurrent callers: httpx 220-241 calls/s (baseline), aiohttp 1252-1400 calls/s: x5.7-5.8
   8 concurrent callers (--concurrency 8): httpx 574, aiohttp 1014 calls/s: x1.77
httpx stays the transport for the in-process sandbox (ASGITransport) and for tests
(MockTransport); `upstream.http_client = "httpx"` selects it in production too.
"""

import asyncio

import aiohttp

from fapiao_gateway.wechat.transport import HttpReply, HttpRequest, TransportError


class AiohttpTransport:
    """One aiohttp.ClientSession with a bounded connection pool."""

    def __init__(self, *, max_connections: int, max_connections_per_host: int = 0) -> None:
        self._limit = max_connections
        self._limit_per_host = max_connections_per_host
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        # Created lazily: a ClientSession must be made inside the running event loop.
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self._limit, limit_per_host=self._limit_per_host
                ),
                trust_env=True,
            )
        return self._session

    async def send(self, request: HttpRequest, *, timeout: float) -> HttpReply:
        headers = {"content-type": "application/json"} if request.body is not None else {}
        try:
            async with self._client().request(
                request.method,
                request.url,
                params=request.params,
                data=request.body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as reply:
                return HttpReply(status=reply.status, body=await reply.read())
        except aiohttp.ClientConnectorError as exc:
            raise TransportError("cannot connect", maybe_sent=False) from exc
        except TimeoutError as exc:
            raise TransportError("timed out", maybe_sent=True, timed_out=True) from exc
        except (aiohttp.ClientError, asyncio.IncompleteReadError) as exc:
            # The type only: aiohttp messages can carry the URL, and with it a token or secret.
            raise TransportError(type(exc).__name__, maybe_sent=True) from exc

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
