"""A CredentialStore in Redis, so several gateway processes share one token per account.

Values are stored as "<expires_at> <value>" with a Redis TTL at expiry. The fetch lock is
redis-py's own Lock (SET NX PX with a random token, released by compare-and-delete), so
only its holder releases it and a holder that dies lets it lapse after `lock_ttl`; waiters
poll, and find the credential the holder saved once they get the lock.

Every Redis failure (refused, reset, timed out) is StoreUnavailable: the cache then works
from its own process (per-process single flight) until Redis answers again.
"""

import contextlib
import time
from collections.abc import AsyncIterator, Iterator

from redis.asyncio import Redis
from redis.exceptions import LockError, RedisError

from fapiao_gateway.wechat.credentials import Credential, StoreUnavailable

_EXPIRE_IF_VALUE = """
local current = redis.call('get', KEYS[1])
if current then
  local space = string.find(current, ' ', 1, true)
  if space and string.sub(current, space + 1) == ARGV[1] then return redis.call('del', KEYS[1]) end
end
return 0
"""


@contextlib.contextmanager
def _redis_errors() -> Iterator[None]:
    try:
        yield
    except (RedisError, OSError, TimeoutError) as error:
        raise StoreUnavailable(type(error).__name__) from error


class RedisCredentialStore:
    """Credentials under `<prefix>cred:<key>`, fetch locks under `<prefix>lock:<key>`."""

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "fapiao:",
        lock_ttl: float = 10.0,
        lock_wait: float = 15.0,
        poll_interval: float = 0.02,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._lock_ttl = lock_ttl
        self._lock_wait = lock_wait
        self._poll = poll_interval

    def _cred_key(self, key: str) -> str:
        return f"{self._prefix}cred:{key}"

    async def load(self, key: str) -> Credential | None:
        with _redis_errors():
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
        with _redis_errors():
            await self._redis.set(
                self._cred_key(key), f"{credential.expires_at} {credential.value}", px=ttl_ms
            )

    async def expire_if(self, key: str, value: str) -> None:
        with _redis_errors():
            await self._redis.eval(_EXPIRE_IF_VALUE, 1, self._cred_key(key), value)

    @contextlib.asynccontextmanager
    async def fetch_lock(self, key: str) -> AsyncIterator[None]:
        """Held while fetching `key`. A holder that takes longer than `lock_wait` is presumed
        stuck: the waiter fetches anyway (at worst one fetch more, never a hung call)."""
        lock = self._redis.lock(
            f"{self._prefix}lock:{key}",
            timeout=self._lock_ttl,
            sleep=self._poll,
            blocking_timeout=self._lock_wait,
            raise_on_release_error=False,
        )
        with _redis_errors():
            acquired = False
            with contextlib.suppress(LockError):
                acquired = await lock.acquire()
        try:
            yield
        finally:
            if acquired:
                with contextlib.suppress(RedisError, OSError, TimeoutError):
                    await lock.release()
