"""The ledger following what callers' reads saw, off the callers' path.

A read (GetInvoice, GetInvoices) answers from WeChat; what it saw is news for the ledger only
when the ledger holds the invoice and holds it differently. Finding that out is a ledger
round trip, and on the read's path it cost more than the rest of the call together (issue
12: skipping it doubled GetInvoice's throughput). So reads hand their observations here and
answer at once; one task at a time applies what has queued up over the last `linger` seconds,
in batches (one ledger lookup per account and witness per batch, however many reads fed
it), so the ledger follows within a fraction of a second. Without the linger, batches under
load held one or two reads each, and following still cost a third of each read's CPU.

Following is an improvement, never a promise: reconciliation re-reads every open invoice
anyway. So when the ledger is unavailable the batch is logged and dropped, and when reads
outrun the ledger by more than `max_pending` invoices the excess is dropped (and counted)
rather than kept in memory. Writes never rely on it: they read WeChat first themselves.
"""

import asyncio
import contextvars
import logging
from collections.abc import Mapping

from fapiao_gateway.domain.errors import GatewayError
from fapiao_gateway.domain.invoice import InvoiceRef
from fapiao_gateway.domain.status_changes import Observation, Witness
from fapiao_gateway.services.ports import InvoiceLedger

log = logging.getLogger("fapiao_gateway.follow")

#: Most invoices one ledger lookup names.
BATCH = 500
#: Most invoices waiting for the ledger before new observations are dropped.
MAX_PENDING = 20_000
#: How long observations gather before a batch is applied.
LINGER_SECONDS = 0.05

_Key = tuple[str, Witness]


class ReadFollower:
    """Queues reads' observations and makes the ledger follow them in the background."""

    def __init__(
        self,
        ledger: InvoiceLedger,
        *,
        batch: int = BATCH,
        max_pending: int = MAX_PENDING,
        linger: float = LINGER_SECONDS,
    ) -> None:
        self._ledger = ledger
        self._linger = linger
        self._batch = batch
        self._max_pending = max_pending
        self._pending: dict[_Key, dict[InvoiceRef, Observation]] = {}
        self._count = 0
        self._task: asyncio.Task[None] | None = None
        self._warned = False
        #: Observations dropped because too many were waiting, or the ledger failed.
        self.dropped = 0

    def observe(
        self, account: str, observed: Mapping[InvoiceRef, Observation], witness: Witness
    ) -> None:
        """Queues what a read saw; returns at once (the ledger follows in the background)."""
        if not observed:
            return
        room = self._max_pending - self._count
        if room < len(observed):
            self._drop(len(observed) - max(room, 0))
        if room <= 0:
            return
        queued = self._pending.setdefault((account, witness), {})
        for ref, seen in list(observed.items())[:room]:
            if ref not in queued:
                self._count += 1
            queued[ref] = seen  # a later read of the same invoice is the fresher news
        if self._task is None or self._task.done():
            # In a context of its own: it works for many calls, so it must not carry the one
            # that started it (its trace span, its request id in log lines).
            self._task = asyncio.create_task(
                self._drain(), name="fapiao-read-follower", context=contextvars.Context()
            )

    def _drop(self, count: int) -> None:
        if not self._warned:
            log.warning(
                "reads outrun the ledger: %d invoice(s) waiting to be followed; dropping "
                "newer observations until it catches up (reconciliation covers them)",
                self._count,
            )
            self._warned = True
        self.dropped += count

    async def settle(self) -> None:
        """Returns once everything observed so far has been applied (or dropped)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def _drain(self) -> None:
        while self._pending:
            await asyncio.sleep(self._linger)
            pending, self._pending, self._count, self._warned = self._pending, {}, 0, False
            for (account, witness), observed in pending.items():
                refs = list(observed)
                for start in range(0, len(refs), self._batch):
                    chunk = {ref: observed[ref] for ref in refs[start : start + self._batch]}
                    await self._follow(account, chunk, witness)

    async def _follow(
        self, account: str, observed: dict[InvoiceRef, Observation], witness: Witness
    ) -> None:
        try:
            await self._ledger.follow(account, observed, witness=witness)
        except GatewayError as error:
            self.dropped += len(observed)
            log.warning(
                "the ledger did not follow %d invoice(s) read by %s (%s); reconciliation will",
                len(observed),
                witness.caller,
                error.reason,
            )
        except Exception:
            self.dropped += len(observed)
            log.exception("the ledger did not follow %d invoice(s)", len(observed))
