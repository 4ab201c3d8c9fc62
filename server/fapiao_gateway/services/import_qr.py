"""IssueImportQr: a QR code that opens the reimburser's import page for one bizCode.

The QR is not a WeChat API (seed 002, section 2.3): it encodes the configured import-page URL
with `bizCode` and `appid` added. The phone opens it in WeChat, signs through SignJsapi, lets
the user pick invoices, and calls ImportInvoices with that bizCode before the session expires;
the PC page then finds them with SearchInvoices(biz_code).
"""

import io
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import segno

from fapiao_gateway.domain.context import RequestContext
from fapiao_gateway.domain.errors import (
    FailedPrecondition,
    FieldViolation,
    PreconditionViolation,
    invalid_fields,
)
from fapiao_gateway.domain.import_sessions import ImportSession
from fapiao_gateway.ledger.import_sessions import ImportSessions
from fapiao_gateway.services.imports import new_biz_code
from fapiao_gateway.wechat.accounts import Account

#: The quiet zone around the code, in modules (the QR standard asks for four).
_BORDER = 4


def page_url_for(page_url: str, biz_code: str, appid: str) -> str:
    """The import page URL with bizCode and appid added to whatever query it has."""
    parts = urlsplit(page_url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("bizCode", "appid")]
    query += [("bizCode", biz_code), ("appid", appid)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def render_png(text: str, size_px: int) -> bytes:
    """A PNG of `text` as a QR code at most size_px wide: whole pixels per module, so it scans."""
    code = segno.make(text, error="m")
    modules = code.symbol_size(border=_BORDER)[0]
    if modules > size_px:
        raise invalid_fields(
            [
                FieldViolation(
                    "size_px", f"Too small for this URL: the code needs at least {modules} pixels."
                )
            ]
        )
    out = io.BytesIO()
    code.save(out, kind="png", scale=size_px // modules, border=_BORDER)
    return out.getvalue()


class ImportQrIssuer:
    """Opens an import session and draws its QR code."""

    def __init__(self, sessions: ImportSessions, *, page_url: str) -> None:
        self._sessions = sessions
        self._page_url = page_url

    async def issue(
        self,
        ctx: RequestContext,
        account: Account,
        *,
        biz_code: str,  # "" generates one
        size_px: int,
        valid_for: timedelta,
        request_id: str,
    ) -> tuple[bytes, ImportSession]:
        if not self._page_url:
            raise FailedPrecondition(
                "No import page is configured (import_page_url): a QR code has nothing to open.",
                reason="IMPORT_PAGE_NOT_CONFIGURED",
                precondition_violations=[
                    PreconditionViolation(
                        "GATEWAY_CONFIG",
                        "import_page_url",
                        "set it to the reimburser's import page",
                    )
                ],
            )
        chosen = biz_code or new_biz_code()
        session = ImportSession(
            account=account.appid,
            biz_code=chosen,
            issued_by=ctx.caller.name,
            url=page_url_for(self._page_url, chosen, account.appid),
            expire_time=datetime.now(UTC) + valid_for,
        )
        session = await self._sessions.open(
            session, request_id=request_id, explicit_biz_code=biz_code != ""
        )
        return render_png(session.url, size_px), session
