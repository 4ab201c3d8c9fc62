"""A CredentialStore in Redis, so several gateway processes share one token per account.

Values are stored as "<expires_at> <value>" with a Redis TTL at expiry. The fetch lock is
SET NX PX with a random token, released by a Lua compare-and-delete so only its holder can
release it; a holder that dies lets the lock lapse after `lock_ttl`. Waiters poll the store:
when the holder saves, they find the credential after taking the lock and do not fetch.
"""

import asyncio
import contextlib
import itertools
import secrets
import time
from collections.abc import AsyncIterator

from redis.asyncio import Redis

from fapiao_gateway.wechat.credentials import Credential

_COMPARE_AND_DELETE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""

_EXPIRE_IF_VALUE = """
local current = redis.call('get', KEYS[1])
if current then
  local space = string.find(current, ' ', 1, true)
  if space and string.sub(current, space + 1) == ARGV[1] then return redis.call('del', KEYS[1]) end
end
return 0
"""


class RedisCredentialStore:
    """Credentials under `<prefix>cred:<key>`, fetch locks under `<prefix>lock:<key>`."""

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "fapiao:",
        lock_ttl: float = 10.0,
        poll_interval: float = 0.02,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._lock_ttl_ms = int(lock_ttl * 1000)
        self._poll = poll_interval

    def _cred_key(self, key: str) -> str:
        return f"{self._prefix}cred:{key}"

    async def load(self, key: str) -> Credential | None:
        raw = await self._redis.get(self._cred_key(key))
        if raw is None:
            return None
        text = raw.decode() if isinstance(raw, bytes) else str(raw)
        expires_at, _, value = text.partition(" ")
        try:
            return Credential(value=value, expires_at=float(expires_at))
        except ValueError:
            return None

    async def save(self, key: str, credential: Credential) -> None:
        ttl_ms = max(1, int((credential.expires_at - time.time()) * 1000))
        await self._redis.set(
            self._cred_key(key), f"{credential.expires_at} {credential.value}", px=ttl_ms
        )

    async def expire_if(self, key: str, value: str) -> None:
        await self._redis.eval(_EXPIRE_IF_VALUE, 1, self._cred_key(key), value)

    @contextlib.asynccontextmanager
    async def fetch_lock(self, key: str) -> AsyncIterator[None]:
        lock_key = f"{self._prefix}lock:{key}"
        holder = secrets.token_hex(16)
        # While another process holds the lock, poll: an asyncio.Event cannot span processes.
        # The holder's lock lapses after lock_ttl, so a dead holder blocks no one for long.
        for _attempt in itertools.count():
            if await self._redis.set(lock_key, holder, nx=True, px=self._lock_ttl_ms):
                break
            await asyncio.sleep(self._poll)
        try:
            yield
        finally:
            await self._redis.eval(_COMPARE_AND_DELETE, 1, lock_key, holder)
