"""API keys: made, shown once, stored only as a salted keyed hash, checked in constant time.

A key is `fpk_<key_id>_<secret>`: the key id (public, 12 hex digits) finds the stored record;
the secret is 256 random bits. The stored form is
`hmac-sha256$<key_id>$<salt hex>$<HMAC-SHA256(server secret, salt || secret) hex>`.

Why HMAC-SHA256 with a server secret rather than argon2 or scrypt: slow hashes protect
low-entropy passwords from guessing; a 256-bit random secret cannot be guessed at any speed,
so a slow hash would only add ~50 ms of CPU to every call. The server secret (pepper) means
that stored hashes leaked without it (a config file, a backup) cannot be checked offline at
all, and the per-key salt keeps equal secrets from producing equal records.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

_PRESENTED = re.compile(r"^fpk_([0-9a-f]{12})_([0-9a-f]{64})$")
_STORED = re.compile(r"^hmac-sha256\$([0-9a-f]{12})\$([0-9a-f]{32})\$([0-9a-f]{64})$")


@dataclass(frozen=True, slots=True)
class StoredKey:
    """What the gateway keeps of a key: its id, salt and keyed hash. Never the key."""

    key_id: str
    salt: bytes
    digest: bytes

    @classmethod
    def parse(cls, text: str) -> "StoredKey":
        found = _STORED.match(text.strip())
        if found is None:
            raise ValueError(
                "a stored key looks like hmac-sha256$<key_id>$<salt>$<digest> "
                "(made by `fapiao-gateway create-key`)"
            )
        key_id, salt, digest = found.groups()
        return cls(key_id, bytes.fromhex(salt), bytes.fromhex(digest))

    def __str__(self) -> str:
        return f"hmac-sha256${self.key_id}${self.salt.hex()}${self.digest.hex()}"


def _digest(server_secret: bytes, salt: bytes, secret: str) -> bytes:
    return hmac.new(server_secret, salt + secret.encode(), hashlib.sha256).digest()


def create_key(server_secret: bytes) -> tuple[str, StoredKey]:
    """A new key (to hand to the caller once) and the record to store."""
    key_id, secret, salt = secrets.token_hex(6), secrets.token_hex(32), secrets.token_bytes(16)
    return f"fpk_{key_id}_{secret}", StoredKey(key_id, salt, _digest(server_secret, salt, secret))


def split_key(presented: str) -> tuple[str, str] | None:
    """(key_id, secret) of a well-formed key, else None."""
    found = _PRESENTED.match(presented)
    return (found.group(1), found.group(2)) if found else None


def verify(server_secret: bytes, stored: StoredKey, secret: str) -> bool:
    """Whether `secret` is the stored key's secret, compared in constant time."""
    return hmac.compare_digest(_digest(server_secret, stored.salt, secret), stored.digest)
