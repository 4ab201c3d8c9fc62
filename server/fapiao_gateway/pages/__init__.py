"""The import pages the gateway serves on its browser endpoint (static files, no build step):

- `/import/pc#ticket=<import ticket>`: the PC page. Shows the session's QR code and its expiry
  countdown, and the invoices arriving live (WatchImport). An expense system issues the QR
  code with its API key (IssueImportQr) and opens this page with the ticket it got back:
  the page itself never holds a key.
- `/import/h5?bizCode=…&appid=…#ticket=…`: the phone page the QR code opens inside WeChat (or
  Weixin Work): signs wx.config through the gateway, opens the invoice picker, imports the
  picks, and shows what was imported or why not, in Chinese and English.
- `POST /import/session` (authorization: Ticket …): what the PC page needs of its session:
  the QR code (SVG), the URL it encodes, the bizCode, account and expiry.
"""

import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import segno
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from fapiao_gateway.auth.directory import CallerDirectory
from fapiao_gateway.domain.accounts import Platform
from fapiao_gateway.domain.errors import GatewayError
from fapiao_gateway.services.import_qr import page_url_for, with_ticket
from fapiao_gateway.services.ports import AccountDirectory

STATIC = Path(__file__).parent / "static"
#: WeChat's JS-SDK, and Weixin Work's (the pages load them from WeChat, as WeChat requires).
JSSDK_OFFICIAL = "https://res.wx.qq.com/open/js/jweixin-1.6.0.js"
JSSDK_WORK = "https://res.wx.qq.com/wwopen/js/jwxwork-1.0.0.js"
#: Pages never leak their URL (which may carry a ticket) and are never framed elsewhere.
_HEADERS = {
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "content-security-policy": (
        "default-src 'self'; script-src 'self' https://res.wx.qq.com; "
        "style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'self'"
    ),
}


def qr_svg(text: str) -> str:
    """An SVG QR code of `text`, sized by its container."""
    out = io.BytesIO()
    segno.make(text, error="m").save(
        out, kind="svg", border=2, xmldecl=False, svgns=True, omitsize=True, dark="#1d2129"
    )
    return out.getvalue().decode()


def page_routes(
    directory: Callable[[], CallerDirectory],
    accounts: AccountDirectory,
    page_url: Callable[[], str],
    *,
    jssdk_override: str = "",
) -> list[BaseRoute]:
    """The routes of the import pages. `page_url`: the import page QR codes open (the
    configured one, or this endpoint's /import/h5); `jssdk_override`: the sandbox's stand-in
    for WeChat's JS-SDK."""
    pc_html = (STATIC / "pc.html").read_text()
    h5_html = (STATIC / "h5.html").read_text()

    async def pc(_request: Request) -> Response:
        return HTMLResponse(pc_html, headers=_HEADERS)

    async def h5(request: Request) -> Response:
        account = accounts.find(request.query_params.get("appid", ""))
        work = account is not None and account.platform is Platform.WORK
        jssdk = jssdk_override or (JSSDK_WORK if work else JSSDK_OFFICIAL)
        html = h5_html.replace("{{JSSDK}}", jssdk).replace(
            "{{PLATFORM}}", "work" if work else "official"
        )
        return HTMLResponse(html, headers=_HEADERS)

    async def session(request: Request) -> Response:
        try:
            holder = directory().check_key(request.headers.get("authorization"))
        except GatewayError as refused:
            return JSONResponse(
                {"code": "unauthenticated", "message": refused.message, "reason": refused.reason},
                status_code=401,
            )
        scope = holder.scope
        if scope is None:
            return JSONResponse(
                {"code": "permission_denied", "message": "Send the session's import ticket."},
                status_code=403,
            )
        ticket = request.headers["authorization"].strip().partition(" ")[2].strip()
        url = with_ticket(page_url_for(page_url(), scope.biz_code, scope.account), ticket)
        return JSONResponse(
            {
                "url": url,
                "svg": qr_svg(url),
                "account": scope.account,
                "bizCode": scope.biz_code,
                "expireTime": scope.expire_time.astimezone(UTC).isoformat(),
                "now": datetime.now(UTC).isoformat(),
            },
            headers={"cache-control": "no-store"},
        )

    return [
        Route("/import/pc", pc, methods=["GET"]),
        Route("/import/h5", h5, methods=["GET"]),
        Route("/import/session", session, methods=["POST"]),
        Mount("/import/static", StaticFiles(directory=STATIC), name="import-static"),
    ]
