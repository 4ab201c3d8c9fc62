"""Rate limits as operators write them ("20/second", "9000 per day": the `limits` library's
notation), parsed once and described the same way in errors and in `config check`."""

from collections.abc import Iterable
from functools import lru_cache

from limits import RateLimitItem, parse


@lru_cache(maxsize=1024)
def parse_limit(text: str) -> RateLimitItem:
    """One limit ("20/second", "9000 per day"); ValueError saying what is wrong."""
    try:
        item = parse(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a rate limit: write N/second, N/minute, N/hour or N/day "
            '(or e.g. "100 per 5 minutes")'
        ) from None
    if item.amount < 1:
        raise ValueError(f"{text!r}: a rate limit allows at least 1 call")
    return item


def parse_limits(texts: Iterable[str]) -> tuple[RateLimitItem, ...]:
    """The limits, shortest window first."""
    return _sorted(tuple(texts))


@lru_cache(maxsize=1024)
def _sorted(texts: tuple[str, ...]) -> tuple[RateLimitItem, ...]:
    return tuple(sorted((parse_limit(t) for t in texts), key=lambda i: i.get_expiry()))


def describe(item: RateLimitItem) -> str:
    """E.g. "at most 20 calls per 1 second"."""
    unit = item.GRANULARITY.name + ("s" if item.multiples != 1 else "")
    return f"at most {item.amount} calls per {item.multiples} {unit}"
