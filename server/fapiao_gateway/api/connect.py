"""InvoiceService for browsers: the Connect protocol (connectrpc.com/docs/protocol) over
HTTP/1.1, on its own port (browser_listen), calling the very servicer gRPC calls.

Browsers cannot speak native gRPC (no trailers, no HTTP/2 framing control); Connect is plain
HTTP: a unary call is `POST /fapiao.v1.InvoiceService/<Method>` with a JSON (or binary
protobuf) body, so `curl -d '{...}' -H 'content-type: application/json'` works, and a
server-streaming call (WatchImport) is a POST whose answer is a stream of length-prefixed
messages ending with an end-of-stream message. Why our own ~200 lines rather than a
library: the protocol's unary and server-streaming halves are small, and this way the call
goes through the same authentication (API key or import ticket), ticket confinement,
admission (rate limits), servicer and error mapping as gRPC, with nothing to keep in step.

Errors keep their gRPC code, message and details: the Connect error JSON carries the code's
name, the message, and every google.rpc detail (ErrorInfo, BadRequest, ...) as
{type, value (base64 protobuf), debug (the detail as JSON)}.
"""

import base64
import json
import logging
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from google.protobuf import descriptor_pool, json_format
from google.protobuf.message import DecodeError, Message
from google.protobuf.message_factory import GetMessageClass
from google.rpc import status_pb2
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from fapiao_gateway.api.errors import to_rpc_status, unexpected
from fapiao_gateway.api.handlers import SERVICE, Admission
from fapiao_gateway.api.servicer import InvoiceServicer
from fapiao_gateway.api.ticket_scope import confine
from fapiao_gateway.auth.directory import CallerDirectory
from fapiao_gateway.domain.context import Deadline, RequestContext
from fapiao_gateway.domain.errors import GatewayError, InvalidArgument

log = logging.getLogger("fapiao_gateway.connect")

#: Connect's HTTP status for each gRPC code (connectrpc.com/docs/protocol#error-codes).
_HTTP_STATUS = {
    1: 499,  # canceled
    2: 500,  # unknown
    3: 400,  # invalid_argument
    4: 504,  # deadline_exceeded
    5: 404,  # not_found
    6: 409,  # already_exists
    7: 403,  # permission_denied
    8: 429,  # resource_exhausted
    9: 400,  # failed_precondition
    10: 409,  # aborted
    11: 400,  # out_of_range
    12: 501,  # unimplemented
    13: 500,  # internal
    14: 503,  # unavailable
    15: 500,  # data_loss
    16: 401,  # unauthenticated
}
_CODE_NAMES = {
    1: "canceled",
    2: "unknown",
    3: "invalid_argument",
    4: "deadline_exceeded",
    5: "not_found",
    6: "already_exists",
    7: "permission_denied",
    8: "resource_exhausted",
    9: "failed_precondition",
    10: "aborted",
    11: "out_of_range",
    12: "unimplemented",
    13: "internal",
    14: "unavailable",
    15: "data_loss",
    16: "unauthenticated",
}
#: Largest request body read (the gRPC listener's default receive limit is larger; browser
#: requests are a handful of invoice refs).
MAX_BODY_BYTES = 1 << 20
#: Headers a browser may send across origins (CORS), and those it may read.
ALLOWED_HEADERS = [
    "authorization",
    "content-type",
    "connect-protocol-version",
    "connect-timeout-ms",
    "x-user-agent",
]
EXPOSED_HEADERS = ["content-type", "connect-content-encoding"]

_END_STREAM = 0x02
_UNARY_TYPES = "application/json, application/proto"


def error_json(status: status_pb2.Status) -> dict[str, Any]:
    """Connect's error body for a google.rpc.Status."""
    details = []
    for detail in status.details:
        type_name = detail.type_url.rsplit("/", 1)[-1]
        entry: dict[str, Any] = {
            "type": type_name,
            "value": base64.b64encode(detail.value).decode().rstrip("="),
        }
        try:
            known = GetMessageClass(descriptor_pool.Default().FindMessageTypeByName(type_name))
            entry["debug"] = json_format.MessageToDict(known.FromString(detail.value))
        except (KeyError, DecodeError):
            pass
        details.append(entry)
    return {"code": _CODE_NAMES.get(status.code, "unknown"), "message": status.message} | (
        {"details": details} if details else {}
    )


def _status_of(failure: BaseException) -> status_pb2.Status:
    error = failure if isinstance(failure, GatewayError) else unexpected(failure)
    return to_rpc_status(error)


def _malformed(type_name: str) -> InvalidArgument:
    return InvalidArgument(
        f"The request is not a valid {type_name} message.", reason="MALFORMED_REQUEST"
    )


def _envelope(flags: int, payload: bytes) -> bytes:
    return struct.pack(">BI", flags, len(payload)) + payload


def _deadline(request: Request) -> Deadline:
    timeout_ms = request.headers.get("connect-timeout-ms", "")
    if timeout_ms.isdigit() and len(timeout_ms) <= 10:
        return Deadline.after(int(timeout_ms) / 1000)
    return Deadline.after(None)


class ConnectService:
    """The Connect face of InvoiceService (one route per RPC)."""

    def __init__(
        self,
        servicer: InvoiceServicer,
        directory: Callable[[], CallerDirectory],
        admission: Admission | None = None,
    ) -> None:
        self._servicer = servicer
        self._directory = directory
        self._admission = admission

    async def _open(
        self, rpc: str, request_type: type[Message], request: Request, body: bytes, as_json: bool
    ) -> tuple[Message, RequestContext]:
        """Authenticates, decodes, confines and admits the call (GatewayError otherwise)."""
        caller = self._directory().authenticate(request.headers.get("authorization"), None)
        message = request_type()
        try:
            if as_json:
                json_format.Parse(body.decode() or "{}", message)
            else:
                message.ParseFromString(body)
        except (json_format.ParseError, DecodeError, UnicodeDecodeError, RecursionError):
            raise _malformed(request_type.DESCRIPTOR.full_name) from None
        confine(rpc, message, caller)
        ctx = RequestContext(caller=caller, deadline=_deadline(request))
        if self._admission is not None:
            await self._admission.admit(rpc, caller, str(getattr(message, "account", "")))
        return message, ctx

    def unary(
        self, rpc: str, request_type: type[Message]
    ) -> Callable[[Request], Awaitable[Response]]:
        method = getattr(self._servicer, rpc)

        async def handle(request: Request) -> Response:
            content_type = request.headers.get("content-type", "").split(";")[0].strip()
            if content_type not in ("application/json", "application/proto"):
                return Response(
                    status_code=415, headers={"accept-post": "application/json, application/proto"}
                )
            as_json = content_type == "application/json"
            try:
                body = await _read(request)
                message, ctx = await self._open(rpc, request_type, request, body, as_json)
                reply: Message = await method(message, ctx)
            except Exception as failure:
                status = _status_of(failure)
                return Response(
                    json.dumps(error_json(status), ensure_ascii=False),
                    status_code=_HTTP_STATUS.get(status.code, 500),
                    media_type="application/json",
                )
            if as_json:
                return Response(json_format.MessageToJson(reply), media_type="application/json")
            return Response(reply.SerializeToString(), media_type="application/proto")

        return handle

    def server_streaming(
        self, rpc: str, request_type: type[Message]
    ) -> Callable[[Request], Awaitable[Response]]:
        method = getattr(self._servicer, rpc)

        async def handle(request: Request) -> Response:
            content_type = request.headers.get("content-type", "").split(";")[0].strip()
            if content_type not in ("application/connect+json", "application/connect+proto"):
                return Response(status_code=415)
            as_json = content_type == "application/connect+json"

            def encode(message: Message) -> bytes:
                if as_json:
                    return json_format.MessageToJson(message, indent=None).encode()
                return message.SerializeToString()

            # The body is read and the call opened before the response starts: once it has,
            # Starlette listens for the client's disconnect on the same channel.
            opened: tuple[Message, RequestContext] | None = None
            failed: BaseException | None = None
            try:
                body = await _read(request)
                if len(body) < 5 or struct.unpack(">I", body[1:5])[0] != len(body) - 5:
                    raise _malformed(request_type.DESCRIPTOR.full_name)
                opened = await self._open(rpc, request_type, request, body[5:], as_json)
            except Exception as failure:
                failed = failure

            async def frames() -> AsyncIterator[bytes]:
                end: dict[str, Any] = {}
                try:
                    if failed is not None:
                        raise failed
                    assert opened is not None
                    async for reply in method(*opened):
                        yield _envelope(0, encode(reply))
                except Exception as failure:
                    end = {"error": error_json(_status_of(failure))}
                yield _envelope(_END_STREAM, json.dumps(end, ensure_ascii=False).encode())

            return StreamingResponse(frames(), media_type=content_type)

        return handle

    def routes(self) -> list[Route]:
        routes = []
        for method in SERVICE.methods:
            request_type = GetMessageClass(method.input_type)
            make = self.server_streaming if method.server_streaming else self.unary
            routes.append(
                Route(
                    f"/{SERVICE.full_name}/{method.name}",
                    make(method.name, request_type),
                    methods=["POST"],
                )
            )
        return routes


async def _read(request: Request) -> bytes:
    """The request body, refused past MAX_BODY_BYTES without reading it all."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise InvalidArgument(
                f"The request body is larger than {MAX_BODY_BYTES} bytes.",
                reason="MALFORMED_REQUEST",
            )
        chunks.append(chunk)
    return b"".join(chunks)


def connect_app(
    service: ConnectService, *, cors_origins: list[str], extra_routes: list[Any] | None = None
) -> Starlette:
    """The browser endpoint's ASGI app: the Connect routes (and `extra_routes`, e.g. the
    import pages), behind CORS for `cors_origins` ("*" for any; none: same origin only)."""
    middleware = []
    if cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=cors_origins,
                allow_methods=["POST", "GET"],
                allow_headers=ALLOWED_HEADERS,
                expose_headers=EXPOSED_HEADERS,
                max_age=7200,
            )
        )
    return Starlette(routes=[*service.routes(), *(extra_routes or [])], middleware=middleware)
