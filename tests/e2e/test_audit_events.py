"""ListAuditEvents and `fapiao-gateway audit` through the real gateway: every state-changing
action is in the trail, found by account alias or appid, bizCode, invoice, request and time."""

import asyncio
import json
import os
from datetime import UTC, datetime, timedelta

import grpc
from fapiao.v1 import invoice_pb2, invoice_service_pb2
from fapiao_gateway.bootstrap import start_gateway
from fapiao_gateway.domain.status import ReimburseStatus
from fapiao_gateway.sandbox import seed
from fapiao_gateway.sandbox.app import Sandbox
from fapiao_gateway.sandbox.emulator import SandboxInvoice
from google.protobuf import timestamp_pb2

from tests.conftest import gateway_settings
from tests.rpc import Stub, failure_of
from tests.support import auth
from tests.support.processes import run
from tests.support.waiting import eventually

PB = invoice_service_pb2
SNACKS, DIGITAL = seed.invoices()[1], seed.invoices()[5]


def ref(invoice: SandboxInvoice) -> invoice_pb2.InvoiceRef:
    return invoice_pb2.InvoiceRef(card_id=invoice.card_id, encrypt_code=invoice.encrypt_code)


async def listed(stub: Stub, **filters) -> PB.ListAuditEventsResponse:
    filters.setdefault("account", "sandbox")
    return await stub.ListAuditEvents(PB.ListAuditEventsRequest(**filters))


async def test_every_action_of_a_report_is_in_its_trail(stub: Stub, sandbox: Sandbox) -> None:
    await stub.IssueImportQr(PB.IssueImportQrRequest(account="sandbox", biz_code="EXP-A1"))
    await stub.ImportInvoices(
        PB.ImportInvoicesRequest(
            account="sandbox",
            request_id="imp-a1",
            biz_code="EXP-A1",
            invoices=[ref(SNACKS)],
            lock=True,
        )
    )
    await stub.UpdateStatus(
        PB.UpdateStatusRequest(
            account="sandbox",
            request_id="unlock-a1",
            invoice=ref(SNACKS),
            status=invoice_pb2.REIMBURSE_STATUS_INIT,
        )
    )
    # The issuer red-flushes it; a caller's read finds out, and the ledger follows.
    sandbox.emulator.change_behind_the_back(
        SNACKS.card_id, SNACKS.encrypt_code, status=ReimburseStatus.CANCEL
    )
    await stub.GetInvoice(PB.GetInvoiceRequest(account="sandbox", invoice=ref(SNACKS)))
    await stub.GetInvoice(PB.GetInvoiceRequest(account="sandbox", invoice=ref(SNACKS)))  # no news

    # The ledger follows reads in the background (read_follower.py); once, however many.
    async def followed() -> bool:
        return len((await listed(stub, biz_code="EXP-A1")).events) >= 4

    await eventually(followed, within=5)
    await asyncio.sleep(0.2)  # time for a second, wrong, FOLLOWED entry to show
    events = list((await listed(stub, biz_code="EXP-A1")).events)
    assert [(e.action, e.rpc, e.outcome) for e in reversed(events)] == [
        (PB.AUDIT_ACTION_IMPORT_SESSION, "IssueImportQr", "OK"),
        (PB.AUDIT_ACTION_IMPORT_LOCK, "ImportInvoices", "OK"),
        (PB.AUDIT_ACTION_STATUS_CHANGE, "UpdateStatus", "OK"),
        (PB.AUDIT_ACTION_READ, "GetInvoice", "FOLLOWED"),
    ]
    session, lock, unlock, read = reversed(events)
    assert session.details["url"].endswith(f"bizCode=EXP-A1&appid={seed.PRIMARY.appid}")
    assert session.details["expire_time"] and not session.invoices
    assert (lock.request_id, lock.caller, lock.account) == (
        "imp-a1",
        "sandbox-developer",
        seed.PRIMARY.appid,
    )
    assert lock.invoices[0].previous_status == invoice_pb2.REIMBURSE_STATUS_INIT
    assert lock.status == invoice_pb2.REIMBURSE_STATUS_LOCK
    assert (unlock.invoices[0].previous_status, unlock.status) == (
        invoice_pb2.REIMBURSE_STATUS_LOCK,
        invoice_pb2.REIMBURSE_STATUS_INIT,
    )
    assert read.status == invoice_pb2.REIMBURSE_STATUS_CANCEL
    assert all(e.create_time.seconds > 0 for e in events)


async def test_the_trail_is_found_by_appid_invoice_and_time(stub: Stub) -> None:
    for code, invoice in (("EXP-A2", SNACKS), ("EXP-A3", DIGITAL)):
        await stub.ImportInvoices(
            PB.ImportInvoicesRequest(
                account="sandbox",
                request_id=f"r-{code}",
                biz_code=code,
                invoices=[ref(invoice)],
                lock=True,
            )
        )
    by_appid = await listed(stub, account=seed.PRIMARY.appid)
    assert len(by_appid.events) == 2
    (of_digital,) = (await listed(stub, invoice=ref(DIGITAL))).events
    assert of_digital.biz_code == "EXP-A3"
    later = timestamp_pb2.Timestamp()
    later.FromDatetime(datetime.now(UTC) + timedelta(minutes=1))
    assert not (await listed(stub, start_time=later)).events
    assert len((await listed(stub, end_time=later)).events) == 2
    assert not (await listed(stub, account=seed.PARTNER.appid)).events


async def test_the_trail_comes_in_pages(stub: Stub) -> None:
    for n in range(5):
        await stub.IssueImportQr(PB.IssueImportQrRequest(account="sandbox", biz_code=f"P-{n}"))
    seen: list[str] = []
    token = ""
    while True:
        page = await listed(stub, page_size=2, page_token=token)
        seen += [e.biz_code for e in page.events]
        token = page.next_page_token
        if not token:
            break
    assert seen == [f"P-{n}" for n in reversed(range(5))]
    failure = await failure_of(listed(stub, page_size=2, page_token=token or "bm90LW91cnM"))
    assert failure.code is grpc.StatusCode.INVALID_ARGUMENT


async def test_bad_filters_name_their_field(stub: Stub) -> None:
    failure = await failure_of(
        listed(
            stub, page_size=-1, biz_code="no spaces", invoice=invoice_pb2.InvoiceRef(card_id="c")
        )
    )
    assert failure.code is grpc.StatusCode.INVALID_ARGUMENT
    fields = [v.field for v in failure.details["BadRequest"].field_violations]
    assert fields == ["page_size", "biz_code", "invoice.encrypt_code"]


async def test_listing_and_reconciling_need_their_permissions(sandbox: Sandbox) -> None:
    key, stored = auth.new_key()
    reader = auth.caller("erp", ["sandbox"], ["read", "import"], stored)
    running = await start_gateway(
        gateway_settings(auth_secret=auth.TEST_AUTH_SECRET, callers=[reader]), sandbox=sandbox
    )
    try:
        async with auth.channel(running.address, key) as channel:
            stub = Stub(channel)
            for call in (
                listed(stub),
                stub.ReconcileInvoices(
                    PB.ReconcileInvoicesRequest(account="sandbox", biz_code="B")
                ),
            ):
                failure = await failure_of(call)
                assert failure.code is grpc.StatusCode.PERMISSION_DENIED
    finally:
        await running.stop(0)


async def test_the_audit_command_takes_an_account_alias(sandbox: Sandbox) -> None:
    settings = gateway_settings()
    running = await start_gateway(settings, sandbox=sandbox)
    try:
        async with auth.channel(running.address, running.callers.development_key) as channel:
            await Stub(channel).IssueImportQr(
                PB.IssueImportQrRequest(account="sandbox", biz_code="EXP-CLI")
            )
    finally:
        await running.stop(0)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FAPIAO_")},
        "FAPIAO_SANDBOX": "true",
        "FAPIAO_DATABASE_URL": settings.database_url,
    }
    outputs = []
    for name in ("sandbox", seed.PRIMARY.appid):
        code, out, err = await run("audit", "--account", name, "--biz-code", "EXP-CLI", env=env)
        assert code == 0, err
        outputs.append([json.loads(line) for line in out.splitlines()])
    assert outputs[0] == outputs[1]
    (entry,) = outputs[0]
    assert (entry["action"], entry["account"], entry["biz_code"]) == (
        "IMPORT_SESSION",
        seed.PRIMARY.appid,
        "EXP-CLI",
    )
    code, out, _ = await run("audit", "--account", seed.PARTNER.alias, env=env)
    assert code == 0 and out == ""


async def test_the_reconcile_command_runs_one_round(sandbox: Sandbox) -> None:
    settings = gateway_settings()
    running = await start_gateway(settings, sandbox=sandbox)
    try:
        async with auth.channel(running.address, running.callers.development_key) as channel:
            await Stub(channel).ImportInvoices(
                PB.ImportInvoicesRequest(
                    account="sandbox", biz_code="EXP-CRON", invoices=[ref(SNACKS)]
                )
            )
    finally:
        await running.stop(0)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FAPIAO_")},
        "FAPIAO_SANDBOX": "true",
        "FAPIAO_DATABASE_URL": settings.database_url,
    }
    code, out, err = await run("reconcile", env=env)
    assert code == 0, err
    (summary,) = [json.loads(line) for line in out.splitlines()]
    assert (summary["account"], summary["checked"], summary["calls"]) == (seed.PRIMARY.appid, 1, 1)
    assert summary["drifts"] == []  # the command's own sandbox holds the same seeded invoice
