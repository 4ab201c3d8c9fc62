"""`Transport` on aiohttp: the production default, chosen by measurement.

bench/transport.py drives the whole adapter (token cache, envelope, pydantic parsing) against
a local upstream in another process, with each transport, in one run. Measured here
(2 cores, `.venv/bin/python -m bench.transport --seconds 5`), three runs:
  64 concurrent callers: httpx 220-241 calls/s (baseline), aiohttp 1252-1400 calls/s: x5.7-5.8
   8 concurrent callers (--concurrency 8): httpx 574, aiohttp 1014 calls/s: x1.77
httpx stays the transport for the in-process sandbox (ASGITransport) and for tests
(MockTransport); `upstream.http_client = "httpx"` selects it in production too.

Settings chosen deliberately (issue 12):
- trust_env off unless configured (`upstream.trust_env`): with it on, aiohttp looks up
  ~/.netrc and the proxy variables in a thread on every request (x1.29-1.35 calls/s off).
- Keep-alive: idle connections are reused for KEEPALIVE_SECONDS, less than the idle timeout
  of common servers (nginx 75 s), so the gateway never writes into a connection the server
  has already closed: such a write fails as "maybe sent", which costs a write a resolution.
- DNS answers cached for DNS_CACHE_SECONDS (WeChat's API hosts sit behind stable names).
- The URL is encoded here, once, and handed over as encoded: given `params`, aiohttp builds
  and re-encodes it through yarl at ~50 us a request (bench/transport.py's figures).
"""

import asyncio
from urllib.parse import urlencode

import aiohttp
from yarl import URL

from fapiao_gateway.wechat.transport import HttpReply, HttpRequest, TransportError

_JSON = {"content-type": "application/json"}
_NONE: dict[str, str] = {}

#: How long an idle connection to WeChat is kept for reuse.
KEEPALIVE_SECONDS = 15.0
#: How long a DNS answer is reused.
DNS_CACHE_SECONDS = 60


class AiohttpTransport:
    """One aiohttp.ClientSession with a bounded connection pool."""

    def __init__(
        self, *, max_connections: int, max_connections_per_host: int = 0, trust_env: bool = False
    ) -> None:
        self._limit = max_connections
        self._limit_per_host = max_connections_per_host
        self._trust_env = trust_env
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        # Created lazily: a ClientSession must be made inside the running event loop.
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self._limit,
                    limit_per_host=self._limit_per_host,
                    keepalive_timeout=KEEPALIVE_SECONDS,
                    ttl_dns_cache=DNS_CACHE_SECONDS,
                ),
                trust_env=self._trust_env,
            )
        return self._session

    async def send(self, request: HttpRequest, *, timeout: float) -> HttpReply:
        headers = _JSON if request.body is not None else _NONE
        url = f"{request.url}?{urlencode(request.params)}" if request.params else request.url
        try:
            async with self._client().request(
                request.method,
                URL(url, encoded=True),
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
