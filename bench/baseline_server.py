"""Baseline (a): a bare grpc.aio server that answers every call from memory.

What a Python gRPC server costs with no work behind it: each method answers the bytes the
gateway answered for the same request (so h2load sees the same response sizes), without
decoding the request. The gateway's calls/s as a fraction of this one's is the share of
the Python gRPC ceiling it reaches.

    python -m bench.baseline_server --port PORT --replies FILE

FILE: JSON {"/package.Service/Method": "<reply message, hex>", ...}. Prints "ready" once
it serves.
"""

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

import grpc


class Canned(grpc.GenericRpcHandler):
    """Serves any method in `replies` with its reply bytes; others are UNIMPLEMENTED."""

    def __init__(self, replies: dict[str, bytes]) -> None:
        self._handlers = {
            method: grpc.unary_unary_rpc_method_handler(self._answer(reply))
            for method, reply in replies.items()
        }

    @staticmethod
    def _answer(reply: bytes) -> Any:
        async def answer(_request: bytes, _context: Any) -> bytes:
            return reply

        return answer

    def service(self, handler_call_details: Any) -> Any:
        return self._handlers.get(handler_call_details.method)


def load_replies(path: str) -> dict[str, bytes]:
    return {
        method: bytes.fromhex(hex_) for method, hex_ in json.loads(Path(path).read_text()).items()
    }


async def serve(port: int, handler: grpc.GenericRpcHandler) -> None:
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    print("ready", flush=True)
    await server.wait_for_termination()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--replies", required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.port, Canned(load_replies(args.replies))))


if __name__ == "__main__":
    main()
