"""What the operator commands do with the ledger: the audit trail, unsettled intents, and
settling them now. cli.py parses the arguments and prints; this module does the work."""

import asyncio
from collections.abc import Sequence
from typing import Any

from fapiao_gateway.archive.verify import VerifyReport, verify_store
from fapiao_gateway.bootstrap import Assembly, open_assembly
from fapiao_gateway.config import Settings
from fapiao_gateway.domain.intents import Intent
from fapiao_gateway.domain.status_changes import AuditEntry, Drift
from fapiao_gateway.ledger.codecs import from_us


def audit_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "time": entry.created.isoformat() if entry.created else "",
        "account": entry.account,
        "caller": entry.caller,
        "request_id": entry.request_id,
        "rpc": entry.rpc,
        "action": entry.action.value,
        "biz_code": entry.biz_code,
        "to": entry.to_status.value if entry.to_status else "",
        "outcome": entry.outcome,
        "wechat_errcode": entry.wechat_errcode,
        "detail": dict(entry.detail),
        "invoices": [
            {"card_id": ref.card_id, "encrypt_code": ref.encrypt_code, "from": s.value if s else ""}
            for ref, s in entry.invoices
        ],
    }


def intent_json(intent: Intent) -> dict[str, Any]:
    plan = intent.plan
    return {
        "id": intent.id,
        "state": intent.state.value,
        "kind": intent.kind.value,
        "account": intent.account,
        "rpc": intent.rpc,
        "request_id": intent.request_id,
        "caller": intent.caller,
        "owner": intent.owner,
        "lease_until": from_us(intent.lease_until_us).isoformat() if intent.lease_until_us else "",
        "sent": from_us(intent.sent_us).isoformat() if intent.sent_us else "",
        "created": from_us(intent.created_us).isoformat(),
        "target": plan.target.value if plan else "",
        "biz_code": plan.biz_code if plan else "",
        "invoices": [
            {"card_id": w.ref.card_id, "encrypt_code": w.ref.encrypt_code} for w in plan.writes
        ]
        if plan
        else [],
    }


def appids(parts: Assembly, names: Sequence[str]) -> list[str]:
    """The appids of accounts named by appid or alias; a name no configured account has is
    taken as an appid (the trail keeps accounts that are no longer configured)."""
    found = [parts.accounts.find(name) for name in names]
    return [a.appid if a is not None else name for a, name in zip(found, names, strict=True)]


async def audit_trail(
    settings: Settings,
    *,
    accounts: Sequence[str],
    request_id: str,
    limit: int,
    biz_code: str = "",
) -> list[dict[str, Any]]:
    """The newest audit entries, as JSON-ready dicts; accounts by appid or alias."""
    async with open_assembly(settings) as parts:
        entries = await parts.audit.trail(
            accounts=appids(parts, accounts), request_id=request_id, biz_code=biz_code, limit=limit
        )
    return [audit_json(e) for e in entries]


def drift_json(drift: Drift) -> dict[str, Any]:
    return {
        "card_id": drift.ref.card_id,
        "encrypt_code": drift.ref.encrypt_code,
        "biz_code": drift.biz_code,
        "from": drift.before.value,
        "to": drift.after.value,
        "card_status_from": drift.card_before.value if drift.card_before else "",
        "card_status_to": drift.card_after.value if drift.card_after else "",
    }


async def reconcile_now(settings: Settings) -> list[dict[str, Any]]:
    """One reconciliation round (what `serve` runs every reconcile.interval_seconds), within
    the day's share of each account's quota; a summary per account."""
    async with open_assembly(settings) as parts:
        done = await parts.services.reconciler.run_once()
    return [
        {
            "account": r.account,
            "checked": r.checked,
            "calls": r.calls,
            "out_of_budget": r.out_of_budget,
            "drifts": [drift_json(d) for d in r.drifts],
        }
        for r in done
    ]


async def unsettled_intents(settings: Settings) -> list[dict[str, Any]]:
    """Every intent not settled yet, oldest first."""
    async with open_assembly(settings) as parts:
        return [intent_json(i) for i in await parts.intents.unsettled()]


async def recover_now(settings: Settings) -> tuple[int, int]:
    """Settles every intent that is due now; (settled, still unsettled)."""
    async with open_assembly(settings) as parts:
        settled = await parts.services.recovery.run_once(limit=10_000)
        return settled, len(await parts.intents.unsettled())


async def verify_archive(settings: Settings) -> VerifyReport:
    """Re-hashes the archive's directory store against the file names and the ledger."""
    async with open_assembly(settings) as parts:
        recorded = await parts.archive.records.archived_digests()
        return await asyncio.to_thread(verify_store, parts.archive.store, recorded)
