"""Waiting for what the gateway does in the background (recovery), with a bound."""

import asyncio
import time
from collections.abc import Awaitable, Callable


async def eventually(
    check: Callable[[], bool | Awaitable[bool]], *, within: float = 15.0, every: float = 0.05
) -> None:
    """Returns once `check()` is true; fails the test if it is not within `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {within} s: {check}")
        await asyncio.sleep(every)
