"""The gateway's one HTTP listener (http_listen), beside gRPC: an ASGI app served by uvicorn
in the gateway's own event loop. What it serves is composed in bootstrap.py from the routes
of each part that needs HTTP (the third-party platforms' push endpoint today)."""

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp


class _EmbeddedServer(uvicorn.Server):
    """uvicorn inside the gateway's loop: the gateway's own SIGINT/SIGTERM handlers stay."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class HttpServer:
    """The HTTP listener serving in this event loop."""

    port: int
    _server: uvicorn.Server
    _task: "asyncio.Task[None]"

    async def aclose(self) -> None:
        self._server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._task, 5)


async def start_http_server(app: ASGIApp, listen: str, *, reuse_port: bool = False) -> HttpServer:
    """Serves `app` on `listen` (host:port; port 0 picks one) until aclose(); with
    `reuse_port`, beside other processes on the same port (serve --workers)."""
    host, _, port = listen.rpartition(":")
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host.strip("[]"), int(port)))
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = _EmbeddedServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name="fapiao-http")
    while not server.started and not task.done():  # noqa: ASYNC110 (uvicorn offers no event)
        await asyncio.sleep(0.01)
    if task.done():
        task.result()
    return HttpServer(int(sock.getsockname()[1]), server, task)
