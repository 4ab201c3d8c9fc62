"""Baseline (b): a minimal grpc.aio proxy making one aiohttp POST per call.

The floor for any Python gateway doing the same I/O: per call it POSTs the JSON body the
gateway sends for that RPC to the same upstream (with the access token in the query, as the
gateway does), reads the reply, parses its JSON and checks errcode, then answers the bytes
the gateway answered for the same request. No validation, no domain objects, no ledger.
One aiohttp session with a pool of 100 connections (the gateway's default).

    python -m bench.baseline_proxy --port PORT --routes FILE

FILE: JSON {"/package.Service/Method": {"url": ..., "body": "<JSON text>",
"reply": "<reply message, hex>"}, ...}. Prints "ready" once it serves.
"""

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import grpc

from bench.baseline_server import serve

_HEADERS = {"content-type": "application/json"}


class Proxy(grpc.GenericRpcHandler):
    """Each method: one POST upstream, then the canned reply; UNAVAILABLE if WeChat refuses."""

    def __init__(self, routes: dict[str, dict[str, str]]) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._handlers = {
            method: grpc.unary_unary_rpc_method_handler(
                self._forward(route["url"], route["body"].encode(), bytes.fromhex(route["reply"]))
            )
            for method, route in routes.items()
        }

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:  # made inside the running loop
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100))
        return self._session

    def _forward(self, url: str, body: bytes, reply: bytes) -> Any:
        async def forward(_request: bytes, context: Any) -> bytes:
            async with self._client().post(url, data=body, headers=_HEADERS) as answer:
                payload = json.loads(await answer.read())
            if answer.status != 200 or payload.get("errcode", 0) != 0:
                await context.abort(grpc.StatusCode.UNAVAILABLE, f"upstream said {payload}")
            return reply

        return forward

    def service(self, handler_call_details: Any) -> Any:
        return self._handlers.get(handler_call_details.method)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--routes", required=True)
    args = parser.parse_args()
    routes = json.loads(Path(args.routes).read_text())
    asyncio.run(serve(args.port, Proxy(routes)))


if __name__ == "__main__":
    main()
