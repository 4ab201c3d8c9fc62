"""Write-ahead intents: the durable record of every request that may change WeChat.

WeChat has no transactions the gateway can join, so each mutating request is a saga step
whose intent is written to the ledger before WeChat is called and settled after:

    STARTED ──arm──▶ ARMED ──▶ DONE            (applied: the ledger follows, outcome kept)
       │               │  ╰──▶ FAILED          (certainly not applied)
       │               ╰─────▶ COMPENSATING ──▶ COMPENSATED   (an import undoes its locks)
       ╰──▶ FAILED (nothing was sent)

- STARTED reserves the request_id (AIP-155); nothing has been sent to WeChat.
- ARMED holds a claim on every invoice the intent may write, so no other request of the
  gateway touches them until it is settled; WeChat may have been called.
- A settled intent keeps its claims for `hold_until` when a write's fate was ever unknown
  (a request still in flight at WeChat could land late), then lets them go.
- A request_id's row is never deleted: DONE replays its outcome; FAILED and COMPENSATED let
  the same request_id run again (nothing of the first attempt remains at WeChat).

Recovery (services/recovery.py) settles intents whose owner died or gave up, by reading
WeChat: a status change is completed or failed; an import is compensated.
"""

from dataclasses import dataclass
from enum import StrEnum

from fapiao_gateway.domain.import_sessions import ImportSession
from fapiao_gateway.domain.imports import ImportResult
from fapiao_gateway.domain.invoice import InvoiceRef
from fapiao_gateway.domain.status import ReimburseStatus
from fapiao_gateway.domain.status_changes import StatusChange


class IntentKind(StrEnum):
    STATUS_CHANGE = "STATUS_CHANGE"  # UpdateStatus, UpdateStatusBatch
    IMPORT = "IMPORT"  # ImportInvoices (its locks)
    IMPORT_SESSION = "IMPORT_SESSION"  # IssueImportQr: idempotency only, no WeChat write


class IntentState(StrEnum):
    STARTED = "STARTED"
    ARMED = "ARMED"
    COMPENSATING = "COMPENSATING"
    DONE = "DONE"
    FAILED = "FAILED"
    COMPENSATED = "COMPENSATED"


#: States in which an intent is not settled yet (it has an owner, or needs recovery).
UNSETTLED = frozenset({IntentState.STARTED, IntentState.ARMED, IntentState.COMPENSATING})
#: Settled states after which the same request_id may run again.
RETRYABLE = frozenset({IntentState.FAILED, IntentState.COMPENSATED})


@dataclass(frozen=True, slots=True)
class IntendedWrite:
    """One invoice an intent may change at WeChat, and its status before (when known)."""

    ref: InvoiceRef
    before: ReimburseStatus | None


@dataclass(frozen=True, slots=True)
class Plan:
    """What an armed intent may do at WeChat: move `writes` to `target` (for `openid`'s batch,
    or one by one), on behalf of report `biz_code` (imports)."""

    target: ReimburseStatus
    writes: tuple[IntendedWrite, ...]
    openid: str = ""
    biz_code: str = ""

    @property
    def refs(self) -> tuple[InvoiceRef, ...]:
        return tuple(w.ref for w in self.writes)


#: The first outcome of a request, as replayed: per kind, the status changes made, the import's
#: result, or the import session opened.
Outcome = tuple[StatusChange, ...] | ImportResult | ImportSession


@dataclass(frozen=True, slots=True)
class Intent:
    """An intent as the ledger holds it."""

    id: int
    kind: IntentKind
    state: IntentState
    account: str
    rpc: str
    request_id: str
    caller: str
    fingerprint: str
    plan: Plan | None = None
    owner: str = ""
    lease_until_us: int = 0
    #: When the last write of this intent was sent (0: none yet): a read is trusted to show
    #: its effect only after sent_us + the settle time.
    sent_us: int = 0
    created_us: int = 0


class Reservation(StrEnum):
    """What reserving a request found (see Begun)."""

    NEW = "NEW"  # the caller owns a fresh STARTED intent and goes ahead
    REPLAY = "REPLAY"  # done before: answer with its first outcome
    BUSY = "BUSY"  # another live call owns it: try again shortly
    RESOLVE = "RESOLVE"  # the caller took over an unsettled intent whose owner is gone


@dataclass(frozen=True, slots=True)
class Begun:
    """The result of reserving a request: `intent` for NEW and RESOLVE (which must be settled
    before anything else), `outcome` for REPLAY, `retry_after` seconds for BUSY."""

    state: Reservation
    intent: Intent | None = None
    outcome: Outcome | None = None
    retry_after: float = 0.0


@dataclass(frozen=True, slots=True)
class Settlement:
    """How an intent ended, for the one transaction that records it."""

    state: IntentState
    #: The first outcome (DONE), replayed to later calls with the same request_id.
    outcome: Outcome | None = None
    #: Why it did not apply (a reason), for operators.
    error: str = ""
    #: Keep the invoices' claims until then (unix µs): a write's fate was unknown for a
    #: while, and a request still in flight at WeChat could land late.
    hold_until_us: int = 0
