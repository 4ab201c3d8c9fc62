"""A stand-in for WeChat's JS-SDK, served only in sandbox mode, so the import flow runs in any
browser: `wx.config` is checked against the sandbox's jsapi ticket exactly as WeChat checks
it (SHA1 of jsapi_ticket, noncestr, timestamp and the page URL), `chooseInvoice`'s cardSign
against its wx_card ticket, and the picker lists the sandbox's invoices, answering with
choose_invoice_info as WeChat does (a JSON string of {card_id, encrypt_code, app_id})."""

import hashlib
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fapiao_gateway.sandbox.emulator import Emulator

STATIC = Path(__file__).parent / "static"
JSSDK_PATH = "/sandbox/jweixin.js"


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()  # noqa: S324 (WeChat's algorithm)


def _ticket(emulator: Emulator, appid: str, kind: str) -> str | None:
    try:
        return emulator.ticket_value(appid, kind)
    except KeyError:
        return None


def jssdk_routes(emulator: Emulator) -> list[BaseRoute]:
    async def script(_request: Request) -> Response:
        return FileResponse(STATIC / "jweixin.js", media_type="text/javascript")

    async def config(request: Request) -> Response:
        body: dict[str, Any] = await request.json()
        appid, url = str(body.get("appId", "")), str(body.get("url", "")).split("#")[0]
        ticket = _ticket(emulator, appid, "jsapi")
        signed = (
            f"jsapi_ticket={ticket}&noncestr={body.get('nonceStr', '')}"
            f"&timestamp={body.get('timestamp', '')}&url={url}"
        )
        if ticket is None or _sha1(signed) != body.get("signature"):
            return JSONResponse({"errMsg": "config:invalid signature"})
        return JSONResponse({"errMsg": "config:ok"})

    async def choose(request: Request) -> Response:
        body: dict[str, Any] = await request.json()
        appid = str(body.get("appId", ""))
        ticket = _ticket(emulator, appid, "wx_card")
        values = [
            str(ticket),
            appid,
            str(body.get("timestamp", "")),
            str(body.get("nonceStr", "")),
            "INVOICE",
        ]
        if ticket is None or _sha1("".join(sorted(values))) != body.get("cardSign"):
            return JSONResponse({"errMsg": "chooseInvoice:fail invalid cardSign"})
        invoices = [
            {
                "card_id": invoice.card_id,
                "encrypt_code": invoice.encrypt_code,
                "title": invoice.payload.get("user_info", {}).get("title", ""),
                "fee": invoice.payload.get("user_info", {}).get("fee", 0),
                "payee": invoice.payload.get("payee", ""),
                "number": invoice.payload.get("user_info", {}).get("billing_no", ""),
                "status": invoice.status.value,
            }
            for invoice in emulator.invoices.values()
        ]
        return JSONResponse({"errMsg": "chooseInvoice:ok", "invoices": invoices})

    return [
        Route(JSSDK_PATH, script, methods=["GET"]),
        Route("/sandbox/jssdk/config", config, methods=["POST"]),
        Route("/sandbox/jssdk/choose", choose, methods=["POST"]),
    ]
