"""ImportInvoices: fetch what the user picked, optionally lock it, store it under a bizCode.

All or nothing: either every requested invoice ends up in the ledger (locked, if asked) or
the call fails, nothing is stored, and every lock this call took is released again.
The order is fetch -> check -> lock -> store; a failure after locking unlocks what was locked
(including a batch whose outcome is unknown, e.g. a timeout), so no lock stays behind.
"""

import asyncio
import logging
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

from fapiao_gateway.domain.context import Deadline, RequestContext
from fapiao_gateway.domain.errors import (
    FailedPrecondition,
    GatewayError,
    PreconditionViolation,
)
from fapiao_gateway.domain.imports import ImportedInvoice, LedgerEntry
from fapiao_gateway.domain.invoice import InvoiceRef
from fapiao_gateway.domain.status import ReimburseStatus
from fapiao_gateway.ledger.import_sessions import ImportSessions
from fapiao_gateway.ledger.store import ImportRecord, Ledger, now_us, refuse_if_held_elsewhere
from fapiao_gateway.wechat.accounts import Account
from fapiao_gateway.wechat.client import FetchedInvoice, WeChatInvoices

log = logging.getLogger("fapiao_gateway.imports")

#: Releasing locks after a failed import gets its own time: the caller's may be spent.
_COMPENSATION_SECONDS = 15.0


def new_biz_code() -> str:
    """An unguessable, URL-safe bizCode for imports that come without one."""
    return "biz-" + secrets.token_urlsafe(16)


class InvoiceImporter:
    """The ImportInvoices use case."""

    def __init__(
        self,
        wechat: WeChatInvoices,
        ledger: Ledger,
        sessions: ImportSessions,
        *,
        lock_batch_size: int = 50,
    ) -> None:
        self._wechat = wechat
        self._ledger = ledger
        self._sessions = sessions
        self._lock_batch_size = lock_batch_size

    async def import_invoices(
        self,
        ctx: RequestContext,
        account: Account,
        biz_code: str,
        refs: Sequence[InvoiceRef],
        *,
        lock: bool,
    ) -> list[ImportedInvoice]:
        await self._check_session(account, biz_code)
        fetched_at = now_us()
        fetched = await self._wechat.fetch_all(account, refs, ctx.deadline)
        entries = {e.ref: e for e in await self._ledger.entries(account.appid, refs)}
        for ref in refs:  # early, before any lock; the ledger checks again as it stores
            refuse_if_held_elsewhere(
                entries.get(ref), biz_code, fetched[ref].invoice.reimburse_status, account.appid
            )
        statuses = {ref: fetched[ref].invoice.reimburse_status for ref in refs}
        to_lock: list[FetchedInvoice] = []
        if lock:
            to_lock = self._lockable(account, biz_code, refs, fetched, entries)
        locked = await self._lock(account, to_lock, ctx.deadline)
        statuses |= dict.fromkeys((f.invoice.ref for f in to_lock), ReimburseStatus.LOCK)
        try:
            return await self._ledger.record_import(
                account=account.appid,
                biz_code=biz_code,
                imported_by=ctx.caller.name,
                records=[
                    ImportRecord(
                        fetched[ref].invoice,
                        fetched[ref].payload,
                        fetched[ref].invoice.reimburse_status,
                    )
                    for ref in refs
                ],
                stored_statuses=statuses,
                fetched_at_us=fetched_at,
            )
        except BaseException:
            await asyncio.shield(self._unlock(account, locked))
            raise

    async def _check_session(self, account: Account, biz_code: str) -> None:
        """A bizCode from an import QR code is accepted only until its session expires."""
        session = await self._sessions.find(account.appid, biz_code)
        if session is not None and session.expire_time <= datetime.now(UTC):
            raise FailedPrecondition(
                f"The import QR code for bizCode {biz_code!r} expired "
                f"at {session.expire_time.isoformat()}.",
                reason="IMPORT_SESSION_EXPIRED",
                metadata={"account": account.appid, "biz_code": biz_code},
                precondition_violations=[
                    PreconditionViolation(
                        "IMPORT_SESSION_EXPIRED", f"bizCode:{biz_code}", "issue a new QR code"
                    )
                ],
            )

    @staticmethod
    def _lockable(
        account: Account,
        biz_code: str,
        refs: Sequence[InvoiceRef],
        fetched: dict[InvoiceRef, FetchedInvoice],
        entries: dict[InvoiceRef, LedgerEntry],
    ) -> list[FetchedInvoice]:
        """The invoices to lock; refuses the import if any cannot be (before touching WeChat).

        INIT is locked; LOCK is fine only if this bizCode already holds it (a repeated import).
        """
        to_lock, refused = [], []
        for ref in refs:
            status = fetched[ref].invoice.reimburse_status
            entry = entries.get(ref)
            if status is ReimburseStatus.INIT:
                to_lock.append(fetched[ref])
            elif not (
                status is ReimburseStatus.LOCK and entry is not None and entry.biz_code == biz_code
            ):
                refused.append((ref, status))
        if refused:
            first = refused[0][0]
            raise FailedPrecondition(
                f"{len(refused)} invoice(s) cannot be locked: only INIT invoices can.",
                reason="INVOICE_NOT_LOCKABLE",
                metadata={
                    "account": account.appid,
                    "card_id": first.card_id,
                    "encrypt_code": first.encrypt_code,
                },
                precondition_violations=[
                    PreconditionViolation(
                        "INVOICE_NOT_LOCKABLE",
                        f"{ref.card_id}/{ref.encrypt_code}",
                        f"status is {status.value}, not INVOICE_REIMBURSE_INIT",
                    )
                    for ref, status in refused
                ],
            )
        return to_lock

    async def _lock(
        self, account: Account, invoices: Sequence[FetchedInvoice], deadline: Deadline
    ) -> list[InvoiceRef]:
        """Locks per openid (updatestatusbatch is per user) in batches; on a failure, releases
        what this call locked, including the failed batch when its outcome is unknown."""
        locked: list[InvoiceRef] = []
        groups: dict[str, list[InvoiceRef]] = {}
        for fetched in invoices:
            groups.setdefault(fetched.invoice.openid, []).append(fetched.invoice.ref)
        for openid, refs in groups.items():
            for start in range(0, len(refs), self._lock_batch_size):
                batch = refs[start : start + self._lock_batch_size]
                try:
                    await self._wechat.update_status_batch(
                        account, openid, batch, ReimburseStatus.LOCK, deadline
                    )
                except BaseException as exc:
                    # A batch WeChat certainly did not apply (it answered an errcode, or the
                    # request never left) needs no release; anything else might have locked.
                    if not isinstance(exc, GatewayError) or exc.maybe_applied:
                        locked.extend(batch)
                    await asyncio.shield(self._unlock(account, locked))
                    raise
                locked.extend(batch)
        return locked

    async def _unlock(self, account: Account, refs: Sequence[InvoiceRef]) -> None:
        """Best effort: releases `refs`. A ref that was not locked after all (72024) is fine."""
        deadline = Deadline.after(_COMPENSATION_SECONDS)
        for ref in refs:
            try:
                await self._wechat.update_status(account, ref, ReimburseStatus.INIT, deadline)
            except GatewayError as error:
                if error.metadata.get("wechat_errcode") != "72024":
                    log.error(
                        "lock left behind by a failed import account=%s card_id=%s reason=%s",
                        account.appid,
                        ref.card_id,
                        error.reason,
                    )
