"""Finding the caller behind a request: a bearer API key, or a client certificate's name.

The directory is replaced whole when the configuration is reloaded (SIGHUP), which is how
keys are rotated without downtime: add the new key, reload, move the caller over, remove the
old key, reload. A caller may hold several keys at once.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fapiao_gateway.auth.import_tickets import ImportTickets
from fapiao_gateway.auth.keys import StoredKey, split_key, verify
from fapiao_gateway.domain.callers import Caller, Operation
from fapiao_gateway.domain.errors import Unauthenticated


@dataclass(frozen=True, slots=True)
class CallerEntry:
    """A caller with the credentials that prove it."""

    caller: Caller
    keys: tuple[StoredKey, ...] = ()
    tls_common_names: tuple[str, ...] = ()


#: Most verified authorization headers remembered (spellings of a key differ by whitespace
#: and the scheme's case, so a caller could make many of one key).
_MAX_VERIFIED = 1024


#: What an import ticket's holder may do at most; api/ticket_scope.py narrows it per call.
TICKET_OPERATIONS = frozenset({Operation.SIGN.value, Operation.IMPORT.value, Operation.READ.value})


def _now() -> datetime:
    return datetime.now(UTC)


def unauthenticated() -> Unauthenticated:
    # One message for every failure: no hint of which keys or callers exist.
    return Unauthenticated(
        "The call carries no valid credential: send `authorization: Bearer <API key>`.",
        reason="CREDENTIAL_INVALID",
    )


@dataclass
class CallerDirectory:
    """Who may call, by key id and by certificate common name."""

    server_secret: bytes = field(repr=False)
    entries: Iterable[CallerEntry] = ()
    clock: Callable[[], datetime] = _now

    def __post_init__(self) -> None:
        #: Import tickets (a browser's credential) exist only with a server secret to key them.
        self.tickets = ImportTickets(self.server_secret) if self.server_secret else None
        #: Authorization headers already verified, and their caller: every call is checked
        #: twice (at the gate, then in the handler) and most callers send one key all day,
        #: so each key costs one HMAC, not two per call. Only valid keys enter (an attacker
        #: cannot fill it) and a reload starts a new directory, forgetting removed keys.
        self._verified: dict[str, Caller] = {}
        self._by_key: dict[str, tuple[StoredKey, Caller]] = {}
        self._by_name: dict[str, Caller] = {}
        for entry in self.entries:
            for key in entry.keys:
                if key.key_id in self._by_key:
                    raise ValueError(f"key id {key.key_id} is configured twice")
                self._by_key[key.key_id] = (key, entry.caller)
            for name in entry.tls_common_names:
                self._by_name[name] = entry.caller

    def check_key(self, authorization: str | None) -> Caller:
        """The caller of a bearer key or an import ticket (`Ticket <ticket>`); UNAUTHENTICATED
        for none, a malformed, unknown, forged or expired one."""
        if authorization is None:
            raise unauthenticated()
        known = self._verified.get(authorization)
        if known is not None:
            return known
        scheme, _, presented = authorization.strip().partition(" ")
        if scheme.lower() == "ticket":
            return self._ticket_holder(presented.strip())
        parts = split_key(presented.strip()) if scheme.lower() == "bearer" else None
        found = self._by_key.get(parts[0]) if parts else None
        if parts is None or found is None or not verify(self.server_secret, found[0], parts[1]):
            raise unauthenticated()
        if len(self._verified) >= _MAX_VERIFIED:
            self._verified.clear()
        self._verified[authorization] = found[1]
        return found[1]

    def _ticket_holder(self, ticket: str) -> Caller:
        """The browser holding an import ticket, confined to its scope. Never cached: a
        ticket expires, and checking one costs a single HMAC."""
        if self.tickets is None:
            raise unauthenticated()
        scope = self.tickets.check(ticket, self.clock())
        return Caller(
            f"{scope.issued_by}/import-ticket",
            frozenset({scope.account}),
            TICKET_OPERATIONS,
            scope=scope,
        )

    def authenticate(self, authorization: str | None, tls_common_name: str | None) -> Caller:
        """The caller named by the bearer key and/or the client certificate.

        With both, they must name the same caller. UNAUTHENTICATED otherwise, always with the
        same message.
        """
        by_cert = self._by_name.get(tls_common_name) if tls_common_name else None
        if authorization is None:
            if by_cert is None:
                raise unauthenticated()
            return by_cert
        caller = self.check_key(authorization)
        if by_cert is not None and by_cert != caller:
            raise unauthenticated()  # the key and the certificate name different callers
        return caller
