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


def _unauthenticated() -> Unauthenticated:
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
        self._by_key: dict[str, tuple[StoredKey, Caller]] = {}
        self._by_name: dict[str, Caller] = {}
        for entry in self.entries:
            for key in entry.keys:
                if key.key_id in self._by_key:
                    raise ValueError(f"key id {key.key_id} is configured twice")
                self._by_key[key.key_id] = (key, entry.caller)
            for name in entry.tls_common_names:
                self._by_name[name] = entry.caller

    def authenticate(self, authorization: str | None, tls_common_name: str | None) -> Caller:
        """The caller named by the bearer key and/or the client certificate.

        With both, they must name the same caller. UNAUTHENTICATED otherwise, always with the
        same message.
        """
        by_cert = self._by_name.get(tls_common_name) if tls_common_name else None
        if authorization is None:
            if by_cert is None:
                raise _unauthenticated()
            return by_cert
        scheme, _, presented = authorization.strip().partition(" ")
        parts = split_key(presented.strip()) if scheme.lower() == "bearer" else None
        found = self._by_key.get(parts[0]) if parts else None
        if parts is None or found is None or not verify(self.server_secret, found[0], parts[1]):
            raise _unauthenticated()
        caller = found[1]
        if by_cert is not None and by_cert != caller:
            raise _unauthenticated()  # the key and the certificate name different callers
        return caller
