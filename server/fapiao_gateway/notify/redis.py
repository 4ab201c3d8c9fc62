"""Redis pub/sub as the announcement medium."""

from collections.abc import Callable

from redis.asyncio import Redis

from fapiao_gateway.notify.relay import Deliver, Medium


class RedisMedium(Medium):
    name = "redis"

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._channel = f"{prefix}import-signals"

    async def send(self, payload: str) -> None:
        await self._redis.publish(self._channel, payload)

    async def hear(self, deliver: Deliver, ready: Callable[[], None]) -> None:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self._channel)
            ready()
            while True:
                # A bounded poll: a blocking read would trip the client's socket timeout
                # (redis_timeout_seconds) whenever nobody imports for a while.
                message = await pubsub.get_message(timeout=1.0)
                if message is not None and message.get("type") == "message":
                    data = message["data"]
                    deliver(data.decode() if isinstance(data, bytes) else str(data))
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]
