"""`Transport` on asyncio connections and httptools' HTTP/1.1 parser: the production default,
chosen by measurement.

The gateway sends one kind of request (a small JSON POST or GET to a handful of hosts) and
reads one kind of reply (JSON, with a length or chunked). aiohttp spends ~165 us of CPU on
each such call; a connection that writes the request in one piece and feeds the reply to
httptools (llhttp, the parser in Node.js, as used by uvicorn) spends ~20 us (bench/transport.py,
`.venv/bin/python -m bench.transport`). On the gateway's hot path that was the largest cost
left after the ledger (issue 12).

What it does, and no more:
- HTTP/1.1 over TCP or TLS (the system's trust store, or the given ssl context); one request
  per connection at a time (no pipelining); replies delimited by Content-Length or chunked
  (a reply delimited by closing the connection is refused: WeChat never sends one).
- Keep-alive: a connection goes back to the pool after a complete reply the server allows
  to be reused, and is reused for at most KEEPALIVE_SECONDS of idleness (below common
  servers' idle timeouts, so the gateway rarely writes into a connection the server has just
  closed: such a write fails as "maybe sent"). At most `max_connections` open at once;
  callers beyond that wait their turn.
- No proxies, cookies, redirects, compression or ~/.netrc: `upstream.trust_env` selects
  aiohttp, which has them.
Failures are TransportErrors: `maybe_sent=False` only when no byte of the request was
written (the connection could not be opened), so even a write may be retried.
"""

import asyncio
import ssl
import time
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import httptools

from fapiao_gateway.wechat.transport import HttpReply, HttpRequest, TransportError

#: How long an idle connection is kept for reuse.
KEEPALIVE_SECONDS = 15.0
#: The largest reply accepted (a 50-invoice batch is ~70 KB).
MAX_REPLY_BYTES = 32 * 1024 * 1024
_USER_AGENT = b"fapiao-gateway"


@dataclass(frozen=True, slots=True)
class _Origin:
    scheme: str
    host: str
    port: int

    @property
    def host_header(self) -> bytes:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return (host if self.port == default else f"{host}:{self.port}").encode("idna")


class _Failed(Exception):
    """The connection failed; `sent` tells whether any of the request was written."""

    def __init__(self, what: str, *, sent: bool) -> None:
        super().__init__(what)
        self.sent = sent


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: writes a request, parses its reply."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._reply: asyncio.Future[HttpReply] | None = None
        self._body: list[bytes] = []
        self._size = 0
        self._complete = False
        self._keep_alive = False
        self.closed = False
        self.idle_since = 0.0

    # --- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        if self._reply is None or self._complete:
            self.close()  # bytes nobody asked for: the connection cannot be trusted
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail("the server switched protocols")
        except httptools.HttpParserError:
            self._fail("the reply is not valid HTTP")

    def eof_received(self) -> bool | None:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._reply is not None and not self._reply.done():
            self._reply.set_exception(_Failed("the connection closed mid-reply", sent=True))

    # --- httptools callbacks -----------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self._complete:  # a second reply to one request, in the same read
            self.close()
        self._body, self._size = [], 0

    def on_body(self, body: bytes) -> None:
        self._size += len(body)
        if self._size > MAX_REPLY_BYTES:
            self._fail(f"the reply is larger than {MAX_REPLY_BYTES} bytes")
            return
        self._body.append(body)

    def on_message_complete(self) -> None:
        status = self._parser.get_status_code()
        if 100 <= status < 200:
            return  # an interim reply (100 Continue): the real one follows
        self._complete = True
        # Asked here: once this callback returns, the parser is reset for the next message.
        self._keep_alive = self._parser.should_keep_alive()
        if self._reply is not None and not self._reply.done():
            self._reply.set_result(HttpReply(status=status, body=b"".join(self._body)))

    # --- used by the pool ----------------------------------------------------------------------

    async def exchange(self, request: bytes) -> HttpReply:
        """Writes `request` and returns its reply (_Failed if the connection fails)."""
        if self.closed or self._transport is None:
            raise _Failed("the connection is closed", sent=False)
        self._reply = asyncio.get_running_loop().create_future()
        self._complete = self._keep_alive = False
        self._transport.write(request)
        try:
            return await self._reply
        finally:
            self._reply = None

    @property
    def reusable(self) -> bool:
        return self._complete and self._keep_alive and not self.closed

    def _fail(self, what: str) -> None:
        if self._reply is not None and not self._reply.done():
            self._reply.set_exception(_Failed(what, sent=True))
        self.close()

    def close(self) -> None:
        self.closed = True
        if self._transport is not None:
            self._transport.close()


class HttptoolsTransport:
    """A keep-alive connection pool per origin, `max_connections` open at most."""

    def __init__(
        self,
        *,
        max_connections: int,
        ssl_context: ssl.SSLContext | None = None,
        keepalive_seconds: float = KEEPALIVE_SECONDS,
    ) -> None:
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: dict[_Origin, deque[_Connection]] = {}
        self._origins: dict[str, tuple[_Origin, str]] = {}
        self._ssl = ssl_context
        self._keepalive = keepalive_seconds
        self._closed = False

    async def send(self, request: HttpRequest, *, timeout: float) -> HttpReply:
        origin, path = self._split(request.url)
        if request.params:
            path = f"{path}{'&' if '?' in path else '?'}{urlencode(request.params)}"
        message = self._message(request.method, origin, path, request.body)
        connection: _Connection | None = None
        try:
            async with asyncio.timeout(timeout):
                async with self._slots:
                    connection = self._reusable(origin) or await self._open(origin)
                    reply = await connection.exchange(message)
                    if connection.reusable and not self._closed:
                        connection.idle_since = time.monotonic()
                        self._idle.setdefault(origin, deque()).append(connection)
                    else:
                        connection.close()
                    return reply
        except TimeoutError:
            sent = connection is not None
            if connection is not None:
                connection.close()
            raise TransportError("timed out", maybe_sent=sent, timed_out=True) from None
        except _Failed as failed:
            if connection is not None:
                connection.close()
            raise TransportError(str(failed), maybe_sent=failed.sent) from None
        except asyncio.CancelledError:
            if connection is not None:
                connection.close()  # its reply may still come: never reuse it
            raise

    def _split(self, url: str) -> tuple[_Origin, str]:
        known = self._origins.get(url)
        if known is None:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise TransportError(f"cannot send to a {parts.scheme!r} URL", maybe_sent=False)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            known = (_Origin(parts.scheme, parts.hostname, port), path)
            if len(self._origins) < 1024:  # a handful of WeChat URLs, in practice
                self._origins[url] = known
        return known

    @staticmethod
    def _message(method: str, origin: _Origin, path: str, body: bytes | None) -> bytes:
        head = [
            f"{method} {path} HTTP/1.1".encode(),
            b"Host: " + origin.host_header,
            b"User-Agent: " + _USER_AGENT,
            b"Accept-Encoding: identity",
        ]
        if body is not None:
            head += [b"Content-Type: application/json", b"Content-Length: %d" % len(body)]
        return b"\r\n".join(head) + b"\r\n\r\n" + (body or b"")

    def _reusable(self, origin: _Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            connection = idle.pop()  # the most recently used: the likeliest to be alive
            if not connection.closed and now - connection.idle_since < self._keepalive:
                return connection
            connection.close()
        return None

    async def _open(self, origin: _Origin) -> _Connection:
        tls: Any = None
        if origin.scheme == "https":
            tls = self._ssl or _default_context()
        try:
            _transport, connection = await asyncio.get_running_loop().create_connection(
                _Connection,
                origin.host,
                origin.port,
                ssl=tls,
                server_hostname=origin.host if tls is not None else None,
            )
        except (OSError, ssl.SSLError) as exc:
            # The type only: messages can carry the address.
            raise _Failed(f"cannot connect ({type(exc).__name__})", sent=False) from None
        return connection

    async def aclose(self) -> None:
        self._closed = True
        for idle in self._idle.values():
            while idle:
                idle.pop().close()
        await asyncio.sleep(0)  # let the transports close


_DEFAULT_CONTEXT: ssl.SSLContext | None = None


def _default_context() -> ssl.SSLContext:
    """The system's trust store, made once (loading it takes ~50 ms)."""
    global _DEFAULT_CONTEXT
    if _DEFAULT_CONTEXT is None:
        _DEFAULT_CONTEXT = ssl.create_default_context()
    return _DEFAULT_CONTEXT
