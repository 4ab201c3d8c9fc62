"""The sandbox's HTTP face: WeChat's paths and replies, plus /sandbox/* controls.

Controls (JSON):
- GET  /sandbox/stats: calls seen, by endpoint and appid (token fetches included).
- GET  /sandbox/invoices: the invoices held, with their status.
- POST /sandbox/faults {"endpoint", "kind", "value", "times", "skip", "probability", "appid"}:
  inject a failure (kinds: errcode, http_status, latency [ms], drop, malformed, short_reply
  [drop every value-th item of item_list, still errcode 0], apply_then_drop [act, lose the reply]).
- DELETE /sandbox/faults: remove every fault.
- POST /sandbox/accounts/{appid}/invalidate-tokens: WeChat forgets the account's tokens.
"""

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from fapiao_gateway.sandbox import seed
from fapiao_gateway.sandbox.emulator import Emulator, Json, reply
from fapiao_gateway.sandbox.faults import Fault, FaultKind, FaultPlan


class ConnectionDropped(Exception):
    """Raised mid-response to cut the connection, as a failing WeChat edge would."""


class _DropResponse(Response):
    """Starts a response and dies before its body: the client sees the connection drop."""

    def __init__(self) -> None:
        super().__init__(status_code=200, headers={"content-length": "64"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        raise ConnectionDropped("sandbox dropped the connection")


@dataclass
class Sandbox:
    """An emulator with its fault plan: what tests and the CLI hold on to."""

    emulator: Emulator
    faults: FaultPlan

    def inject(self, endpoint: str, kind: FaultKind | str, value: int = 0, **options: Any) -> Fault:
        """Adds a fault (see faults.Fault for the options) and returns it."""
        fault = Fault(endpoint=endpoint, kind=FaultKind(kind), value=value, **options)
        self.faults.add(fault)
        return fault


def create_sandbox(clock: Callable[[], float] | None = None, **emulator_options: Any) -> Sandbox:
    """A sandbox seeded with the standard accounts and invoices."""
    options: dict[str, Any] = dict(emulator_options)
    if clock is not None:
        options["clock"] = clock
    return Sandbox(Emulator(seed.ACCOUNTS, seed.invoices(), **options), FaultPlan())


def _wechat(payload: Json) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), media_type="application/json")


async def _faulted(sandbox: Sandbox, endpoint: str, appid: str) -> Response | None:
    """The response a fault dictates instead of the normal answer, or None."""
    return await _instead(sandbox.faults.take(endpoint, appid))


async def _instead(fault: Fault | None) -> Response | None:
    """What a fault answers in place of the call; None when the call goes ahead (no fault,
    latency, or a fault that alters the normal answer afterwards)."""
    if fault is None:
        return None
    match fault.kind:
        case FaultKind.LATENCY:
            await asyncio.sleep(fault.value / 1000)
            return None
        case FaultKind.ERRCODE:
            return _wechat(reply(fault.value))
        case FaultKind.HTTP_STATUS:
            return PlainTextResponse(
                "<html><body><h1>502 Bad Gateway</h1></body></html>", status_code=fault.value
            )
        case FaultKind.MALFORMED:
            return PlainTextResponse('{"errcode": 0, "errmsg": "ok", "user_info": {', 200)
        case FaultKind.DROP:
            return _DropResponse()
        case FaultKind.SHORT_REPLY | FaultKind.APPLY_THEN_DROP:
            return None


def _after(fault: Fault | None, result: Json) -> Response:
    """The normal answer, as a fault that lets the call happen alters it."""
    if fault is not None and fault.kind is FaultKind.APPLY_THEN_DROP:
        return _DropResponse()
    if (
        fault is not None
        and fault.kind is FaultKind.SHORT_REPLY
        and isinstance(result.get("item_list"), list)
    ):
        every = max(fault.value, 1)
        result = {
            **result,
            "item_list": [item for n, item in enumerate(result["item_list"], 1) if n % every],
        }
    return _wechat(result)


async def _json_body(request: Request) -> Json | None:
    try:
        body = json.loads(await request.body())
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def create_app(sandbox: Sandbox) -> Starlette:
    """The ASGI app for `sandbox`."""
    emulator = sandbox.emulator

    async def classic_token(request: Request) -> Response:
        query = dict(request.query_params)
        emulator.stats.calls[("token", query.get("appid", ""))] += 1
        return await _faulted(sandbox, "token", query.get("appid", "")) or _wechat(
            emulator.classic_token(query)
        )

    async def stable_token(request: Request) -> Response:
        body = await _json_body(request)
        appid = str(body.get("appid", "")) if body else ""
        emulator.stats.calls[("stable_token", appid)] += 1
        faulted = await _faulted(sandbox, "stable_token", appid)
        if faulted is not None:
            return faulted
        return _wechat(reply(47001) if body is None else emulator.stable_token(body))

    def with_token(endpoint: str, handler: Callable[[str, Request], Any]) -> Any:
        async def route(request: Request) -> Response:
            code, appid = emulator.token_error(request.query_params.get("access_token", ""))
            emulator.stats.calls[(endpoint, appid)] += 1
            fault = sandbox.faults.take(endpoint, appid)
            instead = await _instead(fault)
            if instead is not None:
                return instead
            if code:
                return _wechat(reply(code))
            return _after(fault, await handler(appid, request))

        return route

    def invoice_api(method: Callable[[str, Json], Json]) -> Callable[[str, Request], Any]:
        async def handle(appid: str, request: Request) -> Json:
            body = await _json_body(request)
            return reply(47001) if body is None else method(appid, body)

        return handle

    async def get_ticket(appid: str, request: Request) -> Json:
        return emulator.get_ticket(appid, request.query_params.get("type", ""))

    async def stats(_: Request) -> Response:
        return JSONResponse({"calls": emulator.stats.as_json()})

    async def list_invoices(_: Request) -> Response:
        return JSONResponse(
            [
                {
                    "card_id": inv.card_id,
                    "encrypt_code": inv.encrypt_code,
                    "status": inv.status.value,
                    "lock_owner": inv.lock_owner,
                    "holder": inv.holder,
                }
                for inv in emulator.invoices.values()
            ]
        )

    async def add_fault(request: Request) -> Response:
        body = await _json_body(request) or {}
        try:
            fault = sandbox.inject(**body)
        except (TypeError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"added": fault.endpoint, "kind": fault.kind.value})

    async def clear_faults(_: Request) -> Response:
        sandbox.faults.clear()
        return JSONResponse({"cleared": True})

    async def invalidate(request: Request) -> Response:
        emulator.invalidate_tokens(request.path_params["appid"])
        return JSONResponse({"invalidated": request.path_params["appid"]})

    reimburse = "/card/invoice/reimburse"
    routes = [
        Route("/cgi-bin/token", classic_token, methods=["GET"]),
        Route("/cgi-bin/stable_token", stable_token, methods=["POST"]),
        Route("/cgi-bin/ticket/getticket", with_token("getticket", get_ticket), methods=["GET"]),
        Route(
            f"{reimburse}/getinvoiceinfo",
            with_token("getinvoiceinfo", invoice_api(emulator.get_invoice_info)),
            methods=["POST"],
        ),
        Route(
            f"{reimburse}/getinvoicebatch",
            with_token("getinvoicebatch", invoice_api(emulator.get_invoice_batch)),
            methods=["POST"],
        ),
        Route(
            f"{reimburse}/updateinvoicestatus",
            with_token("updateinvoicestatus", invoice_api(emulator.update_invoice_status)),
            methods=["POST"],
        ),
        Route(
            f"{reimburse}/updatestatusbatch",
            with_token("updatestatusbatch", invoice_api(emulator.update_status_batch)),
            methods=["POST"],
        ),
        Route("/sandbox/stats", stats, methods=["GET"]),
        Route("/sandbox/invoices", list_invoices, methods=["GET"]),
        Route("/sandbox/faults", add_fault, methods=["POST"]),
        Route("/sandbox/faults", clear_faults, methods=["DELETE"]),
        Route("/sandbox/accounts/{appid}/invalidate-tokens", invalidate, methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.sandbox = sandbox
    return app
