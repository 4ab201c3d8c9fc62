"""Import tickets: the only credential an employee's browser ever holds.

IssueImportQr mints one per import session and puts it in the QR URL's #fragment (a fragment
never reaches a server's access log or a Referer header). It is an HMAC-SHA256 over what it
allows: one account, one bizCode, one page origin, until the session's expiry, by whom it was
issued. The key is derived from the gateway's auth_secret (never the secret itself, so a
ticket says nothing about API keys), and minting is deterministic: a replayed IssueImportQr
gets the same ticket back without storing it anywhere.

Form: `fit1.<base64url(JSON claims)>.<base64url(MAC)>`. What a ticket may be used for is
decided in api/ticket_scope.py; here only whether it is genuine and current.
"""

import base64
import binascii
import hashlib
import hmac
import json
from datetime import UTC, datetime

from fapiao_gateway.domain.callers import ImportScope
from fapiao_gateway.domain.errors import Unauthenticated

_PREFIX = "fit1"
#: Longest ticket accepted: claims are a few short strings, so anything longer is not one.
MAX_TICKET_CHARS = 1024
_KEY_LABEL = b"fapiao-gateway/import-ticket/v1"


def ticket_refused(why: str, reason: str = "IMPORT_TICKET_INVALID") -> Unauthenticated:
    return Unauthenticated(f"The import ticket is not valid: {why}.", reason=reason)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class ImportTickets:
    """Mints and checks import tickets with a key derived from the server secret."""

    def __init__(self, server_secret: bytes) -> None:
        if not server_secret:
            raise ValueError("import tickets need a server secret (auth_secret)")
        self._key = hmac.new(server_secret, _KEY_LABEL, hashlib.sha256).digest()

    def _mac(self, body: str) -> bytes:
        # Truncated to 128 bits (as RFC 2104 allows): the ticket rides in a QR code, where
        # every character makes the code denser.
        digest = hmac.new(self._key, f"{_PREFIX}.{body}".encode(), hashlib.sha256).digest()
        return digest[:16]

    def mint(self, scope: ImportScope) -> str:
        claims = {
            "a": scope.account,
            "b": scope.biz_code,
            "o": scope.origin,
            "e": int(scope.expire_time.timestamp()),
            "i": scope.issued_by,
        }
        body = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
        return f"{_PREFIX}.{body}.{_b64(self._mac(body))}"

    def check(self, ticket: str, now: datetime) -> ImportScope:
        """The scope a genuine, current ticket grants; UNAUTHENTICATED otherwise."""
        if len(ticket) > MAX_TICKET_CHARS:
            raise ticket_refused("malformed")
        prefix, _, rest = ticket.partition(".")
        body, _, mac = rest.partition(".")
        if prefix != _PREFIX or not body or not mac:
            raise ticket_refused("malformed")
        try:
            presented = _unb64(mac)
        except (binascii.Error, ValueError):
            raise ticket_refused("malformed") from None
        if not hmac.compare_digest(presented, self._mac(body)):
            raise ticket_refused("not issued by this gateway")
        try:
            claims = json.loads(_unb64(body))
            scope = ImportScope(
                account=str(claims["a"]),
                biz_code=str(claims["b"]),
                origin=str(claims["o"]),
                expire_time=datetime.fromtimestamp(int(claims["e"]), UTC),
                issued_by=str(claims["i"]),
            )
        except (binascii.Error, ValueError, KeyError, TypeError, OverflowError):
            raise ticket_refused("malformed") from None
        if scope.expire_time <= now:
            raise ticket_refused(
                f"its import session expired at {scope.expire_time.isoformat()}",
                reason="IMPORT_TICKET_EXPIRED",
            )
        return scope
