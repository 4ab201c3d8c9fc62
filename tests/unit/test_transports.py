"""Both transports behind the seam report the same failures the same way."""

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from fapiao_gateway.wechat.aiohttp_transport import AiohttpTransport
from fapiao_gateway.wechat.transport import HttpRequest, HttpxTransport, Transport, TransportError

MAKERS: dict[str, Callable[[], Transport]] = {
    "httpx": lambda: HttpxTransport(httpx.AsyncClient()),
    "aiohttp": lambda: AiohttpTransport(max_connections=4),
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


@pytest.fixture
async def server() -> AsyncIterator[str]:
    app = web.Application()
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
