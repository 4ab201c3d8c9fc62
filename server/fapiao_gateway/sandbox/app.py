"""The sandbox's HTTP face: WeChat's paths and replies, plus /sandbox/* controls.

Controls (JSON):
- GET  /sandbox/stats: calls seen, by endpoint and appid (token fetches included).
- GET  /sandbox/invoices: the invoices held, with their status.
- POST /sandbox/invoices/synthetic {"count", "start", "holder"}: add seed.synthetic invoices.
- POST /sandbox/faults {"endpoint", "kind", "value", "times", "skip", "probability", "appid"}:
  inject a failure (kinds: errcode, http_status, latency [ms], drop, malformed, short_reply
  [drop every value-th item of item_list, still errcode 0], apply_then_drop [act, lose the
  reply], apply_then_delay [act, answer value ms later], slow_apply [take value ms to act, and
  act even if the caller has gone by then]).
- DELETE /sandbox/faults: remove every fault.
- POST /sandbox/invoices/change {"card_id", "encrypt_code", "reimburse_status",
  "lock_owner", "user_card_status"}: change an invoice behind the gateway's back, as its
  issuer, another reimburser or its user would (Emulator.change_behind_the_back); every
  field but the ref optional ("user_card_status": "" removes it).
- POST /sandbox/accounts/{appid}/invalidate-tokens: WeChat forgets the account's tokens
  (a Weixin Work app's appid is its key "corp_id/agent_id", URL-encoded).
- POST /sandbox/components/{appid}/push {"url"}: issue a component_verify_ticket and push it,
  encrypted, to the gateway's push endpoint at `url` (what WeChat does every 10 minutes);
  answers the endpoint's status and body.

Besides the Official Account's paths it serves Weixin Work's (qyapi: /cgi-bin/gettoken,
/cgi-bin/get_jsapi_ticket, /cgi-bin/ticket/get, /cgi-bin/card/invoice/reimburse/...; rules
in work.py) and the third-party platform's (/cgi-bin/component/...; rules in component.py).
Faults and stats name endpoints by WeChat's API name (gettoken, getinvoiceinfobatch,
api_component_token, ...) and callers by appid (the app key for Weixin Work).
"""

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from fapiao_gateway.domain.status import ReimburseStatus
from fapiao_gateway.sandbox import seed
from fapiao_gateway.sandbox.component import ComponentEmulator
from fapiao_gateway.sandbox.emulator import Emulator, Json, reply
from fapiao_gateway.sandbox.faults import Fault, FaultKind, FaultPlan
from fapiao_gateway.sandbox.pdfs import invoice_pdf
from fapiao_gateway.sandbox.work import WorkEmulator, work_reply


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
    work: WorkEmulator
    components: ComponentEmulator
    #: Work a fault lets finish after its caller has gone (slow_apply).
    background: set["asyncio.Future[Any]"] = field(default_factory=set)

    def inject(self, endpoint: str, kind: FaultKind | str, value: int = 0, **options: Any) -> Fault:
        """Adds a fault (see faults.Fault for the options) and returns it."""
        fault = Fault(endpoint=endpoint, kind=FaultKind(kind), value=value, **options)
        self.faults.add(fault)
        return fault

    async def push_verify_ticket(
        self, component_appid: str, url: str, http: httpx.AsyncClient
    ) -> httpx.Response:
        """Issues a component_verify_ticket and pushes it to `url` as WeChat would."""
        ticket = self.components.push_ticket(component_appid)
        query, body = self.components.sealed_push(component_appid, ticket)
        return await http.post(
            url, params=query, content=body, headers={"content-type": "text/xml"}
        )


def create_sandbox(clock: Callable[[], float] | None = None, **emulator_options: Any) -> Sandbox:
    """A sandbox seeded with the standard accounts and invoices."""
    options: dict[str, Any] = dict(emulator_options)
    if clock is not None:
        options["clock"] = clock
    emulator = Emulator(seed.ACCOUNTS, seed.invoices(), **options)
    return Sandbox(
        emulator,
        FaultPlan(),
        WorkEmulator(emulator, seed.WORK_APPS),
        ComponentEmulator(emulator, seed.COMPONENTS),
    )


async def _after_ms(delay_ms: int, work: Awaitable[Json]) -> Json:
    await asyncio.sleep(delay_ms / 1000)
    return await work


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
        case (
            FaultKind.SHORT_REPLY
            | FaultKind.APPLY_THEN_DROP
            | FaultKind.APPLY_THEN_DELAY
            | FaultKind.SLOW_APPLY
        ):
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

    def with_token(
        endpoint: str,
        handler: Callable[[str, Request], Any],
        check: Callable[[str], tuple[int, str]] = emulator.token_error,
        refuse: Callable[[int], Json] = reply,
    ) -> Any:
        async def route(request: Request) -> Response:
            code, appid = check(request.query_params.get("access_token", ""))
            emulator.stats.calls[(endpoint, appid)] += 1
            fault = sandbox.faults.take(endpoint, appid)
            instead = await _instead(fault)
            if instead is not None:
                return instead
            if code:
                return _wechat(refuse(code))
            if fault is not None and fault.kind is FaultKind.SLOW_APPLY:
                await request.body()  # read now: the caller may be gone when it is applied
                late = asyncio.ensure_future(_after_ms(fault.value, handler(appid, request)))
                sandbox.background.add(late)
                late.add_done_callback(sandbox.background.discard)
                return _after(fault, await asyncio.shield(late))
            result = await handler(appid, request)
            if fault is not None and fault.kind is FaultKind.APPLY_THEN_DELAY:
                await asyncio.sleep(fault.value / 1000)
            return _after(fault, result)

        return route

    async def counted(endpoint: str, appid: str, answer: Callable[[], Json]) -> Response:
        """A token call: counted, faulted, answered."""
        emulator.stats.calls[(endpoint, appid)] += 1
        return await _faulted(sandbox, endpoint, appid) or _wechat(answer())

    def invoice_api(method: Callable[[str, Json], Json]) -> Callable[[str, Request], Any]:
        async def handle(appid: str, request: Request) -> Json:
            body = await _json_body(request)
            return reply(47001) if body is None else method(appid, body)

        return handle

    async def get_ticket(appid: str, request: Request) -> Json:
        return emulator.get_ticket(appid, request.query_params.get("type", ""))

    async def invoice_pdf_file(request: Request) -> Response:
        """The PDF behind an invoice's pdf_url (and trip_pdf_url): no token, like WeChat's.
        A "malformed" fault serves it cut in half (a corrupt download)."""
        sandbox.emulator.stats.calls[("getpdf", "")] += 1
        fault = sandbox.faults.take("getpdf", "")
        pdf = invoice_pdf(request.query_params.get("media_id", ""))
        if fault is not None and fault.kind is FaultKind.MALFORMED:
            return Response(pdf[: len(pdf) // 2], media_type="application/pdf")
        instead = await _instead(fault)
        if instead is not None:
            return instead
        return Response(pdf, media_type="application/pdf")

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
                    "user_card_status": inv.payload.get("user_card_status", ""),
                }
                for inv in emulator.invoices.values()
            ]
        )

    async def add_synthetic(request: Request) -> Response:
        body = await _json_body(request) or {}
        try:
            count, start = int(body.get("count", 0)), int(body.get("start", 0))
            holder = str(body.get("holder", seed.ZHANG))
        except (TypeError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        if not 0 < count <= 100_000:
            return JSONResponse({"error": "count: 1 to 100000"}, status_code=400)
        for invoice in seed.synthetic(count, holder=holder, start=start):
            emulator.add_invoice(invoice)
        return JSONResponse({"added": count})

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

    async def change_invoice(request: Request) -> Response:
        body = await _json_body(request) or {}
        try:
            status = body.get("reimburse_status")
            card_status = body.get("user_card_status")
            invoice = emulator.change_behind_the_back(
                str(body["card_id"]),
                str(body["encrypt_code"]),
                status=ReimburseStatus(status) if status else None,
                lock_owner=str(body.get("lock_owner", "")),
                card_status=None if card_status is None else str(card_status),
            )
        except KeyError as missing:
            return JSONResponse({"error": f"no such invoice or field: {missing}"}, status_code=404)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(
            {
                "card_id": invoice.card_id,
                "encrypt_code": invoice.encrypt_code,
                "status": invoice.status.value,
                "lock_owner": invoice.lock_owner,
                "user_card_status": invoice.payload.get("user_card_status", ""),
            }
        )

    async def invalidate(request: Request) -> Response:
        emulator.invalidate_tokens(request.path_params["appid"])
        return JSONResponse({"invalidated": request.path_params["appid"]})

    work = sandbox.work

    async def work_token(request: Request) -> Response:
        key, answer = work.gettoken(request.query_params)
        return await counted("gettoken", key, lambda: answer)

    async def work_jsapi_ticket(key: str, _: Request) -> Json:
        return work.jsapi_ticket(key)

    async def work_ticket(key: str, request: Request) -> Json:
        return work.ticket(key, request.query_params.get("type", ""))

    def work_api(endpoint: str, method: Callable[[str, Json], Json]) -> Any:
        wecom = work.invoice_call(method)
        return with_token(endpoint, invoice_api(wecom), work.token_error, work_reply)

    components = sandbox.components

    async def component_token(request: Request) -> Response:
        body = await _json_body(request)
        appid = str(body.get("component_appid", "")) if body else ""
        return await counted(
            "api_component_token",
            appid,
            lambda: reply(47001) if body is None else components.component_token(body),
        )

    async def authorizer_token(request: Request) -> Response:
        body = await _json_body(request)
        appid = str(body.get("authorizer_appid", "")) if body else ""
        token = request.query_params.get("component_access_token", "")
        return await counted(
            "api_authorizer_token",
            appid,
            lambda: reply(47001) if body is None else components.authorizer_token(token, body),
        )

    async def push(request: Request) -> Response:
        appid = request.path_params["appid"]
        url = ((await _json_body(request)) or {}).get("url")
        if appid not in components.components or not isinstance(url, str):
            return JSONResponse({"error": "unknown platform, or no url"}, status_code=400)
        async with httpx.AsyncClient() as http:
            answer = await sandbox.push_verify_ticket(appid, url, http)
        return JSONResponse({"status": answer.status_code, "body": answer.text})

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
        Route("/cgi-bin/gettoken", work_token, methods=["GET"]),
        Route(
            "/cgi-bin/get_jsapi_ticket",
            with_token("get_jsapi_ticket", work_jsapi_ticket, work.token_error, work_reply),
            methods=["GET"],
        ),
        Route(
            "/cgi-bin/ticket/get",
            with_token("ticket/get", work_ticket, work.token_error, work_reply),
            methods=["GET"],
        ),
        Route(
            f"/cgi-bin{reimburse}/getinvoiceinfo",
            work_api("getinvoiceinfo", emulator.get_invoice_info),
            methods=["POST"],
        ),
        Route(
            f"/cgi-bin{reimburse}/getinvoiceinfobatch",
            work_api("getinvoiceinfobatch", emulator.get_invoice_batch),
            methods=["POST"],
        ),
        Route(
            f"/cgi-bin{reimburse}/updateinvoicestatus",
            work_api("updateinvoicestatus", emulator.update_invoice_status),
            methods=["POST"],
        ),
        Route(
            f"/cgi-bin{reimburse}/updatestatusbatch",
            work_api("updatestatusbatch", emulator.update_status_batch),
            methods=["POST"],
        ),
        Route("/cgi-bin/component/api_component_token", component_token, methods=["POST"]),
        Route("/cgi-bin/component/api_authorizer_token", authorizer_token, methods=["POST"]),
        Route("/sandbox/components/{appid}/push", push, methods=["POST"]),
        Route("/intp/invoice/getpdf", invoice_pdf_file, methods=["GET"]),
        Route("/sandbox/stats", stats, methods=["GET"]),
        Route("/sandbox/invoices", list_invoices, methods=["GET"]),
        Route("/sandbox/invoices/synthetic", add_synthetic, methods=["POST"]),
        Route("/sandbox/invoices/change", change_invoice, methods=["POST"]),
        Route("/sandbox/faults", add_fault, methods=["POST"]),
        Route("/sandbox/faults", clear_faults, methods=["DELETE"]),
        Route("/sandbox/accounts/{appid:path}/invalidate-tokens", invalidate, methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.sandbox = sandbox
    return app
