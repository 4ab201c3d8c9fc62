"""Finding the caller behind a request: a bearer API key, or a client certificate's name.

The directory is replaced whole when the configuration is reloaded (SIGHUP), which is how
keys are rotated without downtime: add the new key, reload, move the caller over, remove the
old key, reload. A caller may hold several keys at once.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from fapiao_gateway.auth.keys import StoredKey, split_key, verify
from fapiao_gateway.domain.callers import Caller
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

    def __post_init__(self) -> None:
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
        """The caller of a bearer key; UNAUTHENTICATED for none, a malformed or an unknown one."""
        if authorization is None:
            raise unauthenticated()
        known = self._verified.get(authorization)
        if known is not None:
            return known
        scheme, _, presented = authorization.strip().partition(" ")
        parts = split_key(presented.strip()) if scheme.lower() == "bearer" else None
        found = self._by_key.get(parts[0]) if parts else None
        if parts is None or found is None or not verify(self.server_secret, found[0], parts[1]):
            raise unauthenticated()
        if len(self._verified) >= _MAX_VERIFIED:
            self._verified.clear()
        self._verified[authorization] = found[1]
        return found[1]

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
