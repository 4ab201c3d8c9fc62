"""What the adapter tells whoever watches it: each upstream attempt and each retry.

The adapter reports facts (which account, which API, what came back, how long it took); the
composition root plugs in what acts on them (metrics, logs, per-account health:
telemetry/upstream_watch.py). Nothing here knows Prometheus or logging, and an outcome never
carries a secret: no URL, no body, no token.
"""

from dataclasses import dataclass
from typing import Protocol

from fapiao_gateway.wechat.errcodes import Errcode
from fapiao_gateway.wechat.platforms import Api

#: Outcomes of an attempt that got no usable errcode, by kind.
UNREACHABLE = "unreachable"
TIMEOUT = "timeout"
HTTP_ERROR = "http_error"
MALFORMED = "malformed"
#: An errcode no table of the account's platform knows.
UNRECOGNIZED = "unrecognized"


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one attempt ended: `label` is "0" for success, the errcode as text when WeChat
    answered one its table knows, else one of the kinds above (a bounded set of values, fit
    for a metric label). `row` is the errcode's row, when there was one."""

    label: str
    errcode: int | None = None
    row: Errcode | None = None

    @property
    def ok(self) -> bool:
        return self.label == "0"


OK = Outcome("0", 0)


class UpstreamObserver(Protocol):
    """Told about every upstream attempt, as it ends."""

    def answered(self, appid: str, api: Api, outcome: Outcome, seconds: float) -> None:
        """One attempt for account `appid` of `api` ended with `outcome` after `seconds`."""
        ...

    def retrying(self, appid: str, api: Api, outcome: Outcome, attempt: int, pause: float) -> None:
        """Attempt number `attempt` failed with `outcome`; the next starts in `pause` s."""
        ...


class NoObserver:
    """Watches nothing (commands, tests)."""

    def answered(self, appid: str, api: Api, outcome: Outcome, seconds: float) -> None:
        return None

    def retrying(self, appid: str, api: Api, outcome: Outcome, attempt: int, pause: float) -> None:
        return None
