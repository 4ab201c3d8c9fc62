"""What every use case receives about the call it serves."""

import time
from dataclasses import dataclass

from fapiao_gateway.domain.callers import Caller


def wall_clock_us() -> int:
    """Now, as unix microseconds: the clock intents and the ledger share across processes."""
    return time.time_ns() // 1000


@dataclass(frozen=True, slots=True)
class Deadline:
    """The caller's deadline, on the monotonic clock; None means the caller set none.

    It bounds every upstream attempt and all retries together, so a late answer is never
    worked for after the caller has given up.
    """

    at: float | None = None

    @classmethod
    def after(cls, seconds: float | None) -> "Deadline":
        return cls(None if seconds is None else time.monotonic() + seconds)

    def remaining(self) -> float | None:
        """Seconds left (may be negative), or None when unbounded."""
        return None if self.at is None else self.at - time.monotonic()

    def expired(self) -> bool:
        left = self.remaining()
        return left is not None and left <= 0

    def cap(self, seconds: float) -> float:
        """`seconds`, shortened to what is left of the deadline."""
        left = self.remaining()
        return seconds if left is None else max(0.0, min(seconds, left))


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Per-call facts a use case needs beyond its arguments: who calls, and until when.

    The caller travels with every use case call, so the accounts it may use bound everything
    the use case reads, changes and records.
    """

    caller: Caller
    deadline: Deadline = Deadline()
