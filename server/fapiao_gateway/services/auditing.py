"""Audit entries for what an intent did, in one shape for every use case."""

from collections.abc import Iterable

from fapiao_gateway.domain.intents import Intent, IntentKind, Plan
from fapiao_gateway.domain.invoice import InvoiceRef
from fapiao_gateway.domain.status import ReimburseStatus
from fapiao_gateway.domain.status_changes import AuditAction, AuditEntry

#: What an intent's own writes are, by its kind.
_ACTIONS = {
    IntentKind.STATUS_CHANGE: AuditAction.STATUS_CHANGE,
    IntentKind.IMPORT: AuditAction.IMPORT_LOCK,
    IntentKind.IMPORT_SESSION: AuditAction.IMPORT_SESSION,
}


def audit_entry(
    intent: Intent,
    *,
    to: ReimburseStatus | None,
    outcome: str,
    invoices: Iterable[tuple[InvoiceRef, ReimburseStatus | None]],
    wechat_errcode: int | None = None,
    action: AuditAction | None = None,
    biz_code: str = "",
    detail: Iterable[tuple[str, str]] = (),
) -> AuditEntry:
    """The audit entry for an attempt of `intent` to move `invoices` (with their status
    before, when known) to `to`; its action is the intent's kind's unless given, its bizCode
    the plan's unless given."""
    return AuditEntry(
        account=intent.account,
        caller=intent.caller,
        request_id=intent.request_id,
        rpc=intent.rpc,
        invoices=tuple(invoices),
        to_status=to,
        outcome=outcome,
        wechat_errcode=wechat_errcode,
        action=action or _ACTIONS[intent.kind],
        biz_code=biz_code or (intent.plan.biz_code if intent.plan else ""),
        detail=tuple(detail),
    )


def planned(plan: Plan) -> list[tuple[InvoiceRef, ReimburseStatus | None]]:
    """The plan's invoices with their status before."""
    return [(w.ref, w.before) for w in plan.writes]
