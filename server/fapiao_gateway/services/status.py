"""UpdateStatus and UpdateStatusBatch: lock, unlock and write off, safely.

- A request_id (AIP-155) makes a change happen at most once: a replay returns the first
  outcome without calling WeChat; a concurrent duplicate waits for the first; an attempt
  whose outcome is unknown (the reply was lost) is resolved on retry by reading WeChat
  first, and written again only if it had not been applied.
- The ledger's last known status is checked before WeChat is called; a refusal is confirmed
  by reading WeChat first (the ledger may be stale), and the ledger follows what it reads.
- Batches are atomic as WeChat's updatestatusbatch is, so they are never split.
- Every attempt is audited, failures included.
"""

import asyncio
import contextlib
import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime

from fapiao_gateway.domain.context import Deadline, RequestContext
from fapiao_gateway.domain.errors import (
    DeadlineExceeded,
    FailedPrecondition,
    GatewayError,
    PreconditionViolation,
)
from fapiao_gateway.domain.invoice import InvoiceRef
from fapiao_gateway.domain.status import ReimburseStatus, transition_allowed
from fapiao_gateway.domain.status_changes import AuditEntry, KnownInvoice, StatusChange
from fapiao_gateway.ledger.status_changes import Claim, Claimed, StatusChangeStore
from fapiao_gateway.ledger.store import Ledger
from fapiao_gateway.wechat.accounts import Account
from fapiao_gateway.wechat.client import WeChatInvoices

#: How long a claimed request id is held before another process may take it over.
_LEASE_SECONDS = 60.0
_POLL_SECONDS = 0.05
_SYNC_SECONDS = 10.0


def _fingerprint(
    rpc: str, account: str, target: ReimburseStatus, openid: str, refs: Sequence[InvoiceRef]
) -> str:
    canonical = json.dumps(
        [rpc, account, target.value, openid, [[r.card_id, r.encrypt_code] for r in refs]]
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _violation(
    ref: InvoiceRef, current: KnownInvoice, target: ReimburseStatus, openid: str
) -> PreconditionViolation | None:
    """Why the ledger says this change cannot work, or None."""
    subject = f"{ref.card_id}/{ref.encrypt_code}"
    if openid and current.openid and current.openid != openid:
        return PreconditionViolation(
            "INVOICE_OWNER_MISMATCH", subject, "the invoice does not belong to the given openid"
        )
    if transition_allowed(current.status, target):
        return None
    if current.status is ReimburseStatus.INIT and target is ReimburseStatus.CLOSURE:
        return PreconditionViolation(
            "INVOICE_NOT_LOCKED", subject, "the invoice must be locked before it is written off"
        )
    return PreconditionViolation(
        "INVOICE_STATUS_CONFLICT",
        subject,
        f"cannot go from {current.status.value} to {target.value}",
    )


class StatusUpdater:
    """The status-change use cases."""

    def __init__(self, wechat: WeChatInvoices, ledger: Ledger, store: StatusChangeStore) -> None:
        self._wechat = wechat
        self._ledger = ledger
        self._store = store

    async def update(
        self,
        ctx: RequestContext,
        account: Account,
        *,
        rpc: str,
        request_id: str,
        refs: Sequence[InvoiceRef],
        target: ReimburseStatus,
        openid: str = "",
    ) -> list[StatusChange]:
        """Moves `refs` to `target` (one invoice, or a batch of one openid's invoices)."""
        known = await self._ledger.known(account.appid, refs)

        def entry(outcome: str, errcode: int | None = None) -> AuditEntry:
            return AuditEntry(
                account=account.appid,
                caller=ctx.caller.name,
                request_id=request_id,
                rpc=rpc,
                invoices=tuple((ref, known[ref].status if ref in known else None) for ref in refs),
                to_status=target,
                outcome=outcome,
                wechat_errcode=errcode,
            )

        resolving = False
        if request_id:
            claimed = await self._claim(
                ctx,
                account,
                rpc,
                request_id,
                _fingerprint(rpc, account.appid, target, openid, refs),
            )
            if claimed.state is Claim.DONE:
                await self._store.record(entry("REPLAYED"))
                return list(claimed.outcome)
            resolving = claimed.state is Claim.UNKNOWN
        try:
            if resolving:
                current = await self._current(account, refs, ctx.deadline)
                if all(current[ref].status is target for ref in refs):
                    changes = self._changes(refs, known, target)
                    await self._store.commit_success(
                        changes=changes, entry=entry("RESOLVED"), request_id=request_id
                    )
                    return changes
            await self._check(account, refs, target, openid, known, ctx.deadline)
            if openid:
                await self._wechat.update_status_batch(account, openid, refs, target, ctx.deadline)
            else:
                await self._wechat.update_status(account, refs[0], target, ctx.deadline)
        except GatewayError as error:
            errcode = error.metadata.get("wechat_errcode")
            await self._store.record_failure(
                entry(
                    "OUTCOME_UNKNOWN" if error.maybe_applied else error.reason,
                    int(errcode) if errcode else None,
                ),
                request_id=request_id,
                unknown=error.maybe_applied,
            )
            if errcode and not error.maybe_applied:
                await self._follow_quietly(account, refs)
            raise
        except BaseException:
            # Cancelled or broken mid-call: the write may have gone out.
            await asyncio.shield(
                self._store.record_failure(
                    entry("OUTCOME_UNKNOWN"), request_id=request_id, unknown=True
                )
            )
            raise
        changes = self._changes(refs, known, target)
        await self._store.commit_success(changes=changes, entry=entry("OK"), request_id=request_id)
        return changes

    @staticmethod
    def _changes(
        refs: Sequence[InvoiceRef], known: dict[InvoiceRef, KnownInvoice], target: ReimburseStatus
    ) -> list[StatusChange]:
        now = datetime.now(UTC)
        return [
            StatusChange(ref, known[ref].status if ref in known else None, target, now)
            for ref in refs
        ]

    async def _claim(
        self, ctx: RequestContext, account: Account, rpc: str, request_id: str, fingerprint: str
    ) -> Claimed:
        """Claims the request id, waiting while a duplicate of this call is running."""
        while True:
            claimed = await self._store.claim(
                account=account.appid,
                request_id=request_id,
                caller=ctx.caller.name,
                rpc=rpc,
                fingerprint=fingerprint,
                lease_us=int(_LEASE_SECONDS * 1_000_000),
            )
            if claimed.state is not Claim.BUSY:
                return claimed
            left = ctx.deadline.remaining()
            if left is not None and left <= _POLL_SECONDS:
                raise DeadlineExceeded(
                    "A call with the same request_id is still running; retry it later.",
                    reason="REQUEST_IN_PROGRESS",
                    metadata={"account": account.appid, "request_id": request_id},
                )
            await asyncio.sleep(_POLL_SECONDS)

    async def _current(
        self, account: Account, refs: Sequence[InvoiceRef], deadline: Deadline
    ) -> dict[InvoiceRef, KnownInvoice]:
        """What WeChat says now (a read: always safe); the ledger follows it."""
        fetched = await self._wechat.fetch_all(account, refs, deadline)
        await self._ledger.follow(
            account.appid, {ref: f.invoice.reimburse_status for ref, f in fetched.items()}
        )
        return {
            ref: KnownInvoice(f.invoice.reimburse_status, f.invoice.openid)
            for ref, f in fetched.items()
        }

    async def _check(
        self,
        account: Account,
        refs: Sequence[InvoiceRef],
        target: ReimburseStatus,
        openid: str,
        known: dict[InvoiceRef, KnownInvoice],
        deadline: Deadline,
    ) -> None:
        """Refuses a change the ledger says cannot work, after WeChat confirms it."""
        doubtful = [
            ref for ref in refs if ref in known and _violation(ref, known[ref], target, openid)
        ]
        if not doubtful:
            return
        current = await self._current(account, doubtful, deadline)
        violations = [v for ref in doubtful if (v := _violation(ref, current[ref], target, openid))]
        if violations:
            first = doubtful[0]
            raise FailedPrecondition(
                f"{len(violations)} invoice(s) cannot move to {target.value}.",
                reason=violations[0].type,
                metadata={
                    "account": account.appid,
                    "card_id": first.card_id,
                    "encrypt_code": first.encrypt_code,
                },
                precondition_violations=violations,
            )

    async def _follow_quietly(self, account: Account, refs: Sequence[InvoiceRef]) -> None:
        """After WeChat refused a change, re-read so the ledger shows the truth (best effort)."""
        with contextlib.suppress(GatewayError):
            await self._current(account, refs, Deadline.after(_SYNC_SECONDS))
