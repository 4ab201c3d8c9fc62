"""Every transport behind the seam answers and reports failures the same way; the
httptools one, the gateway's own connection pool, also keeps connections alive and safe."""

import asyncio
import contextlib
import json
import socket
import ssl
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from fapiao_gateway.wechat.aiohttp_transport import AiohttpTransport
from fapiao_gateway.wechat.httptools_transport import HttptoolsTransport
from fapiao_gateway.wechat.transport import HttpRequest, HttpxTransport, Transport, TransportError

from tests.support.certs import Authority

MAKERS: dict[str, Callable[[], Transport]] = {
    "httpx": lambda: HttpxTransport(httpx.AsyncClient()),
    "aiohttp": lambda: AiohttpTransport(max_connections=4),
    "httptools": lambda: HttptoolsTransport(max_connections=4),
}


async def ok(request: web.Request) -> web.Response:
    return web.json_response({"echo": await request.json(), "q": request.query.get("q")})


async def slow(_: web.Request) -> web.Response:
    await asyncio.sleep(1)
    return web.json_response({})


async def drop(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"content-length": "100"})
    await response.prepare(request)
    await response.write(b"{")
    assert request.transport is not None
    request.transport.close()
    return response


async def chunked(_: web.Request) -> web.StreamResponse:
    response = web.StreamResponse()
    response.enable_chunked_encoding()
    response.content_type = "application/json"
    await response.prepare(_)
    for part in (b'{"parts": ', b'"one', b' two"}'):
        await response.write(part)
    await response.write_eof()
    return response


async def peer(request: web.Request) -> web.Response:
    """Which client port the request came from: the same port means the same connection."""
    assert request.transport is not None
    return web.json_response({"port": request.transport.get_extra_info("peername")[1]})


async def closing(_: web.Request) -> web.Response:
    return web.json_response({"bye": True}, headers={"connection": "close"})


async def status(request: web.Request) -> web.Response:
    return web.Response(status=int(request.match_info["code"]), body=b"{}")


async def large(_: web.Request) -> web.Response:
    return web.Response(body=b"x" * (3 * 1024 * 1024))


@pytest.fixture
async def server() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/chunked", chunked)
    app.router.add_get("/peer", peer)
    app.router.add_post("/closing", closing)
    app.router.add_post("/status/{code}", status)
    app.router.add_get("/large", large)
    app.router.add_post("/ok", ok)
    app.router.add_post("/slow", slow)
    app.router.add_post("/drop", drop)
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    yield f"http://127.0.0.1:{test_server.port}"
    await test_server.close()


@pytest.fixture(params=list(MAKERS))
async def transport(request: pytest.FixtureRequest) -> AsyncIterator[Transport]:
    made = MAKERS[request.param]()
    yield made
    await made.aclose()


async def test_round_trip(transport: Transport, server: str) -> None:
    reply = await transport.send(
        HttpRequest("POST", f"{server}/ok", {"q": "1"}, b'{"a": "\\u5361"}'), timeout=2
    )
    assert reply.status == 200
    assert json.loads(reply.body) == {"echo": {"a": "卡"}, "q": "1"}


async def test_refused_connection_was_never_sent(transport: Transport) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TransportError) as failed:
        await transport.send(
            HttpRequest("POST", f"http://127.0.0.1:{port}/x", body=b"{}"), timeout=2
        )
    assert failed.value.maybe_sent is False


async def test_timeout_may_have_been_sent(transport: Transport, server: str) -> None:
    with pytest.raises(TransportError) as failed:
        await transport.send(HttpRequest("POST", f"{server}/slow", body=b"{}"), timeout=0.1)
    assert failed.value.timed_out and failed.value.maybe_sent


async def test_dropped_connection_may_have_been_sent(transport: Transport, server: str) -> None:
    with pytest.raises(TransportError) as failed:
        await transport.send(HttpRequest("POST", f"{server}/drop", body=b"{}"), timeout=2)
    assert failed.value.maybe_sent and not failed.value.timed_out
    assert "127.0.0.1" not in str(failed.value)


async def test_chunked_replies_are_read_whole(transport: Transport, server: str) -> None:
    reply = await transport.send(HttpRequest("POST", f"{server}/chunked", body=b"{}"), timeout=2)
    assert json.loads(reply.body) == {"parts": "one two"}


async def test_http_statuses_are_answered_not_raised(transport: Transport, server: str) -> None:
    for code in (404, 500, 503):
        reply = await transport.send(
            HttpRequest("POST", f"{server}/status/{code}", body=b"{}"), timeout=2
        )
        assert (reply.status, reply.body) == (code, b"{}")


async def test_a_large_reply_arrives_whole(transport: Transport, server: str) -> None:
    reply = await transport.send(HttpRequest("GET", f"{server}/large"), timeout=5)
    assert reply.body == b"x" * (3 * 1024 * 1024)


# ----- the httptools pool -------------------------------------------------------------------


@pytest.fixture
async def pool() -> AsyncIterator[HttptoolsTransport]:
    made = HttptoolsTransport(max_connections=4)
    yield made
    await made.aclose()


async def ports(pool: HttptoolsTransport, server: str, times: int) -> list[int]:
    return [
        json.loads((await pool.send(HttpRequest("GET", f"{server}/peer"), timeout=2)).body)["port"]
        for _ in range(times)
    ]


async def test_connections_are_kept_alive_and_reused(pool: HttptoolsTransport, server: str) -> None:
    assert len(set(await ports(pool, server, 5))) == 1


async def test_a_connection_the_server_closes_is_not_reused(
    pool: HttptoolsTransport, server: str
) -> None:
    before = await ports(pool, server, 1)
    await pool.send(HttpRequest("POST", f"{server}/closing", body=b"{}"), timeout=2)
    after = await ports(pool, server, 1)
    # /closing went over the kept connection and ended it; the next call needed a new one.
    assert before != after


async def test_idle_connections_expire(server: str) -> None:
    pool = HttptoolsTransport(max_connections=4, keepalive_seconds=0.05)
    try:
        first = await ports(pool, server, 1)
        await asyncio.sleep(0.1)
        assert await ports(pool, server, 1) != first
    finally:
        await pool.aclose()


async def test_a_timed_out_connection_is_never_reused(
    pool: HttptoolsTransport, server: str
) -> None:
    """The slow reply still comes, later: on a reused connection it would answer the next
    request. So a connection whose request timed out is closed."""
    with pytest.raises(TransportError):
        await pool.send(HttpRequest("POST", f"{server}/slow", body=b"{}"), timeout=0.1)
    reply = await pool.send(HttpRequest("POST", f"{server}/ok", body=b'{"n": 1}'), timeout=2)
    assert json.loads(reply.body)["echo"] == {"n": 1}


async def test_concurrent_calls_get_their_own_replies(
    pool: HttptoolsTransport, server: str
) -> None:
    """More callers than connections: each waits its turn and gets its own answer."""

    async def one(n: int) -> int:
        reply = await pool.send(
            HttpRequest("POST", f"{server}/ok", body=json.dumps({"n": n}).encode()), timeout=5
        )
        return int(json.loads(reply.body)["echo"]["n"])

    assert await asyncio.gather(*(one(n) for n in range(50))) == list(range(50))
    assert len(set(await ports(pool, server, 8))) <= 4


async def test_bytes_nobody_asked_for_close_the_connection() -> None:
    """A server that sends a second reply unasked would poison the next request: the
    connection is dropped instead, and the next request gets a connection of its own."""
    served: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        served.append(writer.get_extra_info("peername")[1])
        await reader.readuntil(b"\r\n\r\n")
        reply = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
        writer.write(reply + reply)  # the second one unasked
        await writer.drain()
        with contextlib.suppress(ConnectionError):
            await reader.read()
        writer.close()

    listener = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    pool = HttptoolsTransport(max_connections=2)
    try:
        for _ in range(2):
            reply = await pool.send(HttpRequest("GET", f"http://127.0.0.1:{port}/"), timeout=2)
            assert reply.body == b"{}"
        assert len(served) == 2
    finally:
        await pool.aclose()
        listener.close()
        await listener.wait_closed()


async def test_garbage_is_a_transport_error() -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"SMTP ready\r\n\r\n")
        await writer.drain()
        writer.close()

    listener = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    pool = HttptoolsTransport(max_connections=2)
    try:
        with pytest.raises(TransportError) as failed:
            await pool.send(HttpRequest("GET", f"http://127.0.0.1:{port}/"), timeout=2)
        assert failed.value.maybe_sent and not failed.value.timed_out
    finally:
        await pool.aclose()
        listener.close()
        await listener.wait_closed()


async def test_a_connect_timeout_was_never_sent() -> None:
    """Waiting for a connection slot (or a connect that never completes) sends nothing."""

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(2)
        writer.close()

    listener = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    pool = HttptoolsTransport(max_connections=1)
    url = f"http://127.0.0.1:{port}/"
    try:
        busy = asyncio.create_task(pool.send(HttpRequest("GET", url), timeout=1))
        await asyncio.sleep(0.05)
        with pytest.raises(TransportError) as failed:
            await pool.send(HttpRequest("GET", url), timeout=0.1)
        assert failed.value.timed_out and not failed.value.maybe_sent
        with pytest.raises(TransportError):
            await busy
    finally:
        await pool.aclose()
        listener.close()
        await listener.wait_closed()


async def test_https_checks_the_server_certificate(tmp_path: Path) -> None:
    """TLS with the given trust: a server the trust store vouches for answers; with the
    system's store instead, the same server is refused before anything is sent."""
    authority = Authority()
    issued = authority.issue("localhost", server=True)
    (tmp_path / "cert.pem").write_bytes(issued.cert_pem)
    (tmp_path / "key.pem").write_bytes(issued.key_pem)
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_side.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{"tls": 1}\n')
            await writer.drain()
        writer.close()

    listener = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_side)
    url = f"https://localhost:{listener.sockets[0].getsockname()[1]}/"
    trusting = ssl.create_default_context(cadata=authority.cert_pem.decode())
    pools = [HttptoolsTransport(max_connections=1, ssl_context=trusting)]
    pools.append(HttptoolsTransport(max_connections=1))
    try:
        reply = await pools[0].send(HttpRequest("GET", url), timeout=5)
        assert json.loads(reply.body) == {"tls": 1}
        with pytest.raises(TransportError) as refused:
            await pools[1].send(HttpRequest("GET", url), timeout=5)
        assert refused.value.maybe_sent is False
    finally:
        for pool in pools:
            await pool.aclose()
        listener.close()
        await listener.wait_closed()
