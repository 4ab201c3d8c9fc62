"""IssueImportQr: a QR code that opens the reimburser's import page for one bizCode.

The QR is not a WeChat API (seed 002, section 2.3): it encodes the configured import-page URL
with `bizCode` and `appid` added. The phone opens it in WeChat, signs through SignJsapi, lets
the user pick invoices, and calls ImportInvoices with that bizCode before the session expires;
the PC page then finds them with SearchInvoices(biz_code).
"""

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import unquote_plus, urlencode, urlsplit, urlunsplit

import segno

from fapiao_gateway.domain.callers import ImportScope
from fapiao_gateway.domain.commands import OpenImportSession
from fapiao_gateway.domain.context import RequestContext
from fapiao_gateway.domain.errors import (
    FailedPrecondition,
    FieldViolation,
    GatewayError,
    PreconditionViolation,
    invalid_fields,
)
from fapiao_gateway.domain.import_sessions import ImportSession, origin_of
from fapiao_gateway.domain.imports import new_biz_code
from fapiao_gateway.domain.intents import Intent, IntentKind, IntentState, Reservation, Settlement
from fapiao_gateway.domain.status_changes import AuditEntry, AuditOutcome
from fapiao_gateway.services.auditing import audit_entry
from fapiao_gateway.services.ports import ImportTicketMinter, IntentLog
from fapiao_gateway.services.reservations import IntentPolicy, Reservations

#: The quiet zone around the code, in modules (the QR standard asks for four).
_BORDER = 4


#: The query parameters the gateway sets on the import page URL (replacing the page's own).
_OURS = ("bizCode", "appid")


def page_url_for(page_url: str, biz_code: str, appid: str) -> str:
    """The import page URL with bizCode and appid added to whatever query it has.

    The page's own query is kept byte for byte (blank values such as `lang=`, bare keys such
    as `kiosk`, its encoding and order): it is split on "&" and re-joined, never decoded and
    encoded again, which would drop blank values (parse_qsl) or turn `kiosk` into `kiosk=`
    (urlencode). Only parameters named bizCode or appid are replaced.
    """
    parts = urlsplit(page_url)
    own = parts.query.split("&") if parts.query else []
    kept = [p for p in own if unquote_plus(p.split("=", 1)[0]) not in _OURS]
    kept.append(urlencode([("bizCode", biz_code), ("appid", appid)]))
    return urlunsplit(parts._replace(query="&".join(kept)))


def with_ticket(url: str, ticket: str) -> str:
    """The URL with the import ticket as its #fragment (`#ticket=...`): browsers never send a
    fragment to a server, so the ticket stays out of access logs and Referer headers."""
    if not ticket:
        return url
    return urlunsplit(urlsplit(url)._replace(fragment=urlencode([("ticket", ticket)])))


@dataclass(frozen=True, slots=True)
class IssuedQr:
    """An issued import QR code: the PNG, the session, its browser ticket and the URL the
    code encodes (the session's URL with the ticket)."""

    png: bytes
    session: ImportSession
    ticket: str
    url: str


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
    """Opens an import session and draws its QR code (AIP-155 through the intent log: a
    replay returns the first session, drawn again)."""

    def __init__(
        self,
        log: IntentLog,
        reservations: Reservations,
        policy: IntentPolicy,
        *,
        page_url: str,
        tickets: ImportTicketMinter | None = None,
    ) -> None:
        self._tickets = tickets
        self._log = log
        self._reservations = reservations
        self._owner = policy.owner
        self._page_url = page_url

    @property
    def page_url(self) -> str:
        """The import page QR codes open."""
        return self._page_url

    @page_url.setter
    def page_url(self, url: str) -> None:
        # Sandbox mode points QR codes at the browser endpoint's own /import/h5, whose port
        # is known only once it listens.
        self._page_url = url

    def _drawn(self, session: ImportSession, size_px: int) -> IssuedQr:
        """The session's QR code. The ticket is minted afresh each time (deterministic: a
        replay gets the same one) and never stored: the ledger and the audit keep the URL
        without it."""
        ticket = ""
        if self._tickets is not None:
            ticket = self._tickets.mint(
                ImportScope(
                    account=session.account,
                    biz_code=session.biz_code,
                    origin=origin_of(session.url),
                    expire_time=session.expire_time,
                    issued_by=session.issued_by,
                )
            )
        url = with_ticket(session.url, ticket)
        return IssuedQr(render_png(url, size_px), session, ticket, url)

    async def issue(self, ctx: RequestContext, command: OpenImportSession) -> IssuedQr:
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
        async with self._reservations.reserved(ctx, IntentKind.IMPORT_SESSION, command) as begun:
            if begun.state is Reservation.REPLAY:
                assert isinstance(begun.outcome, ImportSession)
                return self._drawn(begun.outcome, command.size_px)
            assert begun.intent is not None
            chosen = command.biz_code or new_biz_code()
            session = ImportSession(
                account=command.appid,
                biz_code=chosen,
                issued_by=ctx.caller.name,
                url=page_url_for(self._page_url, chosen, command.appid),
                expire_time=datetime.now(UTC) + command.valid_for,
            )
            try:
                drawn = self._drawn(session, command.size_px)
            except GatewayError as refused:
                await self._log.settle(
                    begun.intent,
                    Settlement(IntentState.FAILED, error=refused.reason),
                    owner=self._owner,
                    audit=[session_audit(begun.intent, session, refused.reason)],
                )
                raise
            await self._log.settle_session(
                begun.intent,
                session,
                owner=self._owner,
                audit=[session_audit(begun.intent, session, AuditOutcome.OK)],
            )
            return drawn


def session_audit(intent: Intent, session: ImportSession, outcome: str) -> AuditEntry:
    """The audit entry of an import session opened (or refused): its bizCode, URL, expiry."""
    return audit_entry(
        intent,
        to=None,
        outcome=outcome,
        invoices=(),
        biz_code=session.biz_code,
        detail=(("url", session.url), ("expire_time", session.expire_time.isoformat())),
    )
