"""Reconciliation through the real gateway: WeChat changes behind the gateway's back, the
ledger follows and audits it, within its share of the daily quota."""

import grpc
import pytest
from fapiao.v1 import invoice_pb2, invoice_service_pb2
from fapiao_gateway.bootstrap import Gateway
from fapiao_gateway.config import ReconcileSettings
from fapiao_gateway.domain.status import ReimburseStatus
from fapiao_gateway.sandbox import seed
from fapiao_gateway.sandbox.app import Sandbox
from fapiao_gateway.sandbox.emulator import SandboxInvoice

from tests.conftest import FAST_UPSTREAM, GatewayFactory
from tests.rpc import Stub, failure_of
from tests.support import auth
from tests.support.waiting import eventually

SYNTHETIC = seed.synthetic(12)
PB = invoice_service_pb2


@pytest.fixture
def sandbox(sandbox: Sandbox) -> Sandbox:
    for invoice in seed.synthetic(len(SYNTHETIC)):  # fresh: the emulator changes them
        sandbox.emulator.add_invoice(invoice)
    return sandbox


def ref(invoice: SandboxInvoice) -> invoice_pb2.InvoiceRef:
    return invoice_pb2.InvoiceRef(card_id=invoice.card_id, encrypt_code=invoice.encrypt_code)


async def import_(stub: Stub, *invoices: SandboxInvoice, biz_code: str, lock: bool) -> None:
    await stub.ImportInvoices(
        PB.ImportInvoicesRequest(
            account="sandbox", biz_code=biz_code, invoices=[ref(i) for i in invoices], lock=lock
        )
    )


async def ledger_status(stub: Stub, biz_code: str) -> dict[str, int]:
    found = await stub.SearchInvoices(
        PB.SearchInvoicesRequest(account="sandbox", biz_code=biz_code)
    )
    return {i.invoice.ref.card_id: i.invoice.reimburse_status for i in found.invoices}


async def events(stub: Stub, **filters) -> list[PB.AuditEvent]:
    reply = await stub.ListAuditEvents(PB.ListAuditEventsRequest(account="sandbox", **filters))
    return list(reply.events)


async def test_a_status_changed_behind_the_gateways_back_is_followed_and_audited(
    gateway: Gateway, stub: Stub, sandbox: Sandbox
) -> None:
    locked, unlocked, cancelled = SYNTHETIC[:3]
    await import_(stub, locked, unlocked, cancelled, biz_code="EXP-R1", lock=True)
    emulator = sandbox.emulator
    # Another reimburser's system unlocks one; the issuer red-flushes another.
    emulator.change_behind_the_back(
        unlocked.card_id, unlocked.encrypt_code, status=ReimburseStatus.INIT
    )
    emulator.change_behind_the_back(
        cancelled.card_id, cancelled.encrypt_code, status=ReimburseStatus.CANCEL
    )
    # SearchInvoices does not read WeChat: the ledger still says LOCK.
    assert set((await ledger_status(stub, "EXP-R1")).values()) == {
        invoice_pb2.REIMBURSE_STATUS_LOCK
    }

    (done,) = await gateway.services.reconciler.run_once()
    assert (done.checked, len(done.drifts)) == (3, 2)

    assert await ledger_status(stub, "EXP-R1") == {
        locked.card_id: invoice_pb2.REIMBURSE_STATUS_LOCK,
        unlocked.card_id: invoice_pb2.REIMBURSE_STATUS_INIT,
        cancelled.card_id: invoice_pb2.REIMBURSE_STATUS_CANCEL,
    }
    trail = await events(stub, invoice=ref(cancelled))
    assert trail[0].action == PB.AUDIT_ACTION_RECONCILIATION
    assert (trail[0].outcome, trail[0].caller, trail[0].biz_code) == (
        "RECONCILED",
        "reconciliation",
        "EXP-R1",
    )
    assert trail[0].invoices[0].previous_status == invoice_pb2.REIMBURSE_STATUS_LOCK
    assert trail[0].status == invoice_pb2.REIMBURSE_STATUS_CANCEL
    # A second round finds nothing new and audits nothing more.
    (again,) = await gateway.services.reconciler.run_once()
    assert again.drifts == () and again.checked == 2  # CANCEL is final: no longer re-read
    assert len(await events(stub, invoice=ref(cancelled))) == len(trail)


async def test_a_card_expiring_after_import_is_followed(
    gateway: Gateway, stub: Stub, sandbox: Sandbox
) -> None:
    invoice = SYNTHETIC[3]
    await import_(stub, invoice, biz_code="EXP-R2", lock=False)
    sandbox.emulator.change_behind_the_back(
        invoice.card_id, invoice.encrypt_code, card_status="EXPIRE"
    )
    (done,) = await gateway.services.reconciler.run_once()
    (drift,) = done.drifts
    assert drift.card_after is not None and drift.card_after.value == "EXPIRE"
    found = await stub.SearchInvoices(
        PB.SearchInvoicesRequest(account="sandbox", biz_code="EXP-R2")
    )
    assert found.invoices[0].invoice.card_status == invoice_pb2.CARD_STATUS_EXPIRED
    (event,) = await events(stub, invoice=ref(invoice), biz_code="EXP-R2")
    assert dict(event.details) == {"card_status_from": "", "card_status_to": "EXPIRE"}


async def test_reconciliation_stops_at_its_share_of_the_daily_quota(
    make_gateway: GatewayFactory, sandbox: Sandbox
) -> None:
    # Two invoices per upstream call, two calls a day: four of the eight invoices are read.
    running = await make_gateway(
        upstream=FAST_UPSTREAM.model_copy(update={"batch_size": 2}),
        reconcile=ReconcileSettings(enabled=False, daily_quota=20, quota_share=0.1),
    )
    picked = SYNTHETIC[4:12]
    async with auth.channel(running.address, running.callers.development_key) as channel:
        stub = Stub(channel)
        for invoice in picked:  # one at a time: each a newer update than the one before
            await import_(stub, invoice, biz_code="EXP-R3", lock=False)
        for invoice in picked:
            sandbox.emulator.change_behind_the_back(
                invoice.card_id, invoice.encrypt_code, status=ReimburseStatus.CANCEL
            )
        before = sandbox.emulator.stats.count("getinvoicebatch")
        (done,) = await running.services.reconciler.run_once()
        assert (done.calls, done.checked, done.out_of_budget) == (2, 4, True)
        assert sandbox.emulator.stats.count("getinvoicebatch") - before == 2
        # Newest first: the four imported last are the ones it followed.
        assert {d.ref.card_id for d in done.drifts} == {i.card_id for i in picked[4:]}
        (later,) = await running.services.reconciler.run_once()  # the same day: nothing left
        assert (later.calls, later.checked, later.out_of_budget) == (0, 0, True)
        assert sandbox.emulator.stats.count("getinvoicebatch") - before == 2
        statuses = await ledger_status(stub, "EXP-R3")
    assert sorted(statuses.values()).count(invoice_pb2.REIMBURSE_STATUS_CANCEL) == 4


async def test_reconcile_invoices_follows_one_biz_code_now(stub: Stub, sandbox: Sandbox) -> None:
    mine, other = SYNTHETIC[0], SYNTHETIC[1]
    await import_(stub, mine, biz_code="EXP-R4", lock=True)
    await import_(stub, other, biz_code="EXP-R5", lock=True)
    for invoice in (mine, other):
        sandbox.emulator.change_behind_the_back(
            invoice.card_id, invoice.encrypt_code, status=ReimburseStatus.INIT
        )
    reply = await stub.ReconcileInvoices(
        PB.ReconcileInvoicesRequest(account="sandbox", biz_code="EXP-R4")
    )
    assert reply.checked_count == 1
    (drift,) = reply.drifts
    assert (drift.ref.card_id, drift.biz_code) == (mine.card_id, "EXP-R4")
    assert (drift.previous_status, drift.status) == (
        invoice_pb2.REIMBURSE_STATUS_LOCK,
        invoice_pb2.REIMBURSE_STATUS_INIT,
    )
    assert (await ledger_status(stub, "EXP-R5"))[other.card_id] == invoice_pb2.REIMBURSE_STATUS_LOCK
    (event,) = await events(stub, biz_code="EXP-R4", invoice=ref(mine), page_size=1)
    assert event.action == PB.AUDIT_ACTION_RECONCILIATION and event.caller == "sandbox-developer"


async def test_reconcile_invoices_needs_a_biz_code_and_the_permission(stub: Stub) -> None:
    failure = await failure_of(
        stub.ReconcileInvoices(PB.ReconcileInvoicesRequest(account="sandbox"))
    )
    assert failure.code is grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in failure.details["BadRequest"].field_violations] == ["biz_code"]


async def test_the_background_task_follows_wechat_without_a_reader(
    make_gateway: GatewayFactory, sandbox: Sandbox
) -> None:
    running = await make_gateway(reconcile=ReconcileSettings(interval_seconds=0.1))
    invoice = SYNTHETIC[0]
    async with auth.channel(running.address, running.callers.development_key) as channel:
        stub = Stub(channel)
        await import_(stub, invoice, biz_code="EXP-R6", lock=True)
        sandbox.emulator.change_behind_the_back(
            invoice.card_id, invoice.encrypt_code, status=ReimburseStatus.CANCEL
        )

        async def followed() -> bool:
            status = (await ledger_status(stub, "EXP-R6"))[invoice.card_id]
            return status == invoice_pb2.REIMBURSE_STATUS_CANCEL

        await eventually(followed)
