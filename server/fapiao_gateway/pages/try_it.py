"""Sandbox mode only: `GET /sandbox/start` opens an import session as the development caller
and sends the browser to the PC page with its ticket, so the whole flow can be tried without
writing the expense system's side (which would call IssueImportQr with its API key).
`?validFor=<seconds>` (5-86400; default 1800) and `?bizCode=` choose the session."""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from fapiao_gateway.domain.errors import GatewayError
from fapiao_gateway.services.import_qr import IssuedQr

#: Opens a session (bizCode or "" for a fresh one, validity) and returns it.
Opener = Callable[[str, timedelta], Awaitable[IssuedQr]]


def try_it_routes(open_session: Opener) -> list[BaseRoute]:
    async def start(request: Request) -> Response:
        raw = request.query_params.get("validFor", "1800")
        seconds = int(raw) if raw.isdigit() else 1800
        seconds = min(max(seconds, 5), 86400)
        try:
            issued = await open_session(
                request.query_params.get("bizCode", ""), timedelta(seconds=seconds)
            )
        except GatewayError as refused:
            return JSONResponse({"reason": refused.reason, "message": refused.message}, 400)
        fragment = urlencode([("ticket", issued.ticket)])
        return RedirectResponse(f"/import/pc#{fragment}", status_code=303)

    return [Route("/sandbox/start", start, methods=["GET"])]
