"""Failures the sandbox can be told to produce, per endpoint.

A fault applies to the calls of one endpoint (or "*"), optionally of one appid: it lets
`skip` matching calls through, then hits the next `times` calls (or, with `probability`,
that fraction of calls until `times` run out; times=0 means no limit).
"""

import random
from dataclasses import dataclass, field
from enum import StrEnum


class FaultKind(StrEnum):
    """What a fault does to the call it hits."""

    ERRCODE = "errcode"  # answer {"errcode": value, "errmsg": ...} with HTTP 200
    HTTP_STATUS = "http_status"  # answer HTTP `value` with an HTML error page
    LATENCY = "latency"  # wait `value` milliseconds, then answer normally
    DROP = "drop"  # close the connection without an answer
    MALFORMED = "malformed"  # answer HTTP 200 with a body that is not JSON
    SHORT_REPLY = "short_reply"  # answer normally, but leave every `value`-th item_list entry out
    APPLY_THEN_DROP = "apply_then_drop"  # do what was asked, then lose the reply
    APPLY_THEN_DELAY = "apply_then_delay"  # do what was asked, then answer `value` ms later
    #: take `value` ms to do what was asked, and do it even if the caller has gone by then
    #: (as WeChat does): a write that "lands late"
    SLOW_APPLY = "slow_apply"


@dataclass
class Fault:
    """One injected failure rule."""

    endpoint: str
    kind: FaultKind
    value: int = 0
    times: int = 1
    skip: int = 0
    probability: float = 1.0
    appid: str = ""
    hits: int = field(default=0, init=False)

    def spent(self) -> bool:
        return self.times > 0 and self.hits >= self.times


class FaultPlan:
    """The faults in force; `take` decides whether a call is hit, and by which fault."""

    def __init__(self, seed: int = 0) -> None:
        self._faults: list[Fault] = []
        self._rng = random.Random(seed)  # noqa: S311 (test fault sampling)

    def add(self, fault: Fault) -> None:
        self._faults.append(fault)

    def clear(self) -> None:
        self._faults.clear()

    def take(self, endpoint: str, appid: str) -> Fault | None:
        for fault in self._faults:
            if fault.spent() or fault.endpoint not in (endpoint, "*"):
                continue
            if fault.appid and fault.appid != appid:
                continue
            if fault.skip > 0:
                fault.skip -= 1
                continue
            if fault.probability < 1.0 and self._rng.random() >= fault.probability:
                continue
            fault.hits += 1
            return fault
        return None
