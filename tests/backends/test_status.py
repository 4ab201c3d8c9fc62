"""UpdateStatus, UpdateStatusBatch and GetInvoices through the generated client, on both
ledger backends: transitions, atomic batches, idempotency, audit, the ledger following WeChat."""

import asyncio
import json
import os
from collections.abc import Awaitable
from typing import Any

import grpc
import pytest
from fapiao.v1 import invoice_pb2, invoice_service_pb2
from fapiao_gateway.bootstrap import Gateway
from fapiao_gateway.domain.context import wall_clock_us
from fapiao_gateway.domain.status import ReimburseStatus
from fapiao_gateway.domain.status_changes import AuditEntry
from fapiao_gateway.ledger.audit import AuditTrail
from fapiao_gateway.ledger.engine import Database, create_engine
from fapiao_gateway.sandbox import seed
from fapiao_gateway.sandbox.app import Sandbox, create_sandbox
from fapiao_gateway.sandbox.emulator import SandboxInvoice
from fapiao_gateway.sandbox.faults import FaultKind

from tests.rpc import Stub, failure_of
from tests.support.processes import run
from tests.support.waiting import eventually

INIT, LOCK, CLOSURE = (
    invoice_pb2.REIMBURSE_STATUS_INIT,
    invoice_pb2.REIMBURSE_STATUS_LOCK,
    invoice_pb2.REIMBURSE_STATUS_CLOSURE,
)
NAMES = {
    INIT: "INVOICE_REIMBURSE_INIT",
    LOCK: "INVOICE_REIMBURSE_LOCK",
    CLOSURE: "INVOICE_REIMBURSE_CLOSURE",
}
SYNTHETIC = seed.synthetic(520)
LOCKED_BY_PARTNER = next(i for i in seed.invoices() if i.lock_owner == seed.PARTNER.appid)
CLOSED = next(i for i in seed.invoices() if i.status is ReimburseStatus.CLOSURE)
CANCELLED = next(i for i in seed.invoices() if i.status is ReimburseStatus.CANCEL)


def ref(invoice: SandboxInvoice) -> invoice_pb2.InvoiceRef:
    return invoice_pb2.InvoiceRef(card_id=invoice.card_id, encrypt_code=invoice.encrypt_code)


@pytest.fixture
def sandbox() -> Sandbox:
    made = create_sandbox()
    for invoice in SYNTHETIC:
        made.emulator.add_invoice(
            SandboxInvoice(invoice.card_id, invoice.encrypt_code, invoice.holder, invoice.payload)
        )
    return made


def at_wechat(sandbox: Sandbox, invoice: SandboxInvoice) -> str:
    return sandbox.emulator.status_of(invoice.card_id, invoice.encrypt_code).value


async def set_status(
    stub: Stub, invoice: SandboxInvoice, status: Any, request_id: str = "", **kwargs
):
    return await stub.UpdateStatus(
        invoice_service_pb2.UpdateStatusRequest(
            account="sandbox", request_id=request_id, invoice=ref(invoice), status=status
        ),
        **kwargs,
    )


async def set_batch(
    stub: Stub, invoices: list[SandboxInvoice], status: Any, openid: str, request_id: str = ""
):
    return await stub.UpdateStatusBatch(
        invoice_service_pb2.UpdateStatusBatchRequest(
            account="sandbox",
            request_id=request_id,
            openid=openid,
            status=status,
            invoices=[ref(i) for i in invoices],
        )
    )


def behind_the_back(sandbox: Sandbox, invoice: SandboxInvoice, status: Any) -> None:
    """Changes the invoice at WeChat without the gateway (another system with the same
    account, say), so the ledger is stale and WeChat's own refusal is what is tested."""
    held = sandbox.emulator.invoices[(invoice.card_id, invoice.encrypt_code)]
    held.status = ReimburseStatus(NAMES[status])
    held.lock_owner = seed.PRIMARY.appid if held.status is ReimburseStatus.LOCK else ""


async def imported(stub: Stub, *invoices: SandboxInvoice, lock: bool = False) -> None:
    await stub.ImportInvoices(
        invoice_service_pb2.ImportInvoicesRequest(
            account="sandbox", biz_code="EXP-STATUS", invoices=[ref(i) for i in invoices], lock=lock
        )
    )


async def ledger_status(stub: Stub, invoice: SandboxInvoice) -> int:
    found = await stub.SearchInvoices(
        invoice_service_pb2.SearchInvoicesRequest(
            account="sandbox", invoice_number=invoice.payload["user_info"]["billing_no"]
        )
    )
    (row,) = [r for r in found.invoices if r.invoice.ref.encrypt_code == invoice.encrypt_code]
    return row.invoice.reimburse_status


async def openid_of(stub: Stub, invoice: SandboxInvoice) -> str:
    reply = await stub.GetInvoice(
        invoice_service_pb2.GetInvoiceRequest(account="sandbox", invoice=ref(invoice))
    )
    return reply.invoice.openid


async def test_lock_unlock_and_write_off(stub: Stub, sandbox: Sandbox) -> None:
    invoice = SYNTHETIC[0]
    await imported(stub, invoice)
    for step, previous in [(LOCK, INIT), (INIT, LOCK), (LOCK, INIT), (CLOSURE, LOCK)]:
        change = (await set_status(stub, invoice, step)).change
        assert change.status == step
        assert change.previous_status == previous
        assert change.ref.card_id == invoice.card_id and change.HasField("change_time")
        assert at_wechat(sandbox, invoice) == NAMES[step]
        assert await ledger_status(stub, invoice) == step


async def test_an_invoice_no_report_holds_is_not_locked(stub: Stub, sandbox: Sandbox) -> None:
    """A lock belongs to a report: locking an invoice never imported would leave a lock at
    WeChat that no report in the ledger owns."""
    invoice = SYNTHETIC[2]
    failure = await failure_of(set_status(stub, invoice, LOCK))
    assert failure.code is grpc.StatusCode.FAILED_PRECONDITION
    assert failure.info.reason == "INVOICE_NOT_IMPORTED"
    (violation,) = failure.details["PreconditionFailure"].violations
    assert violation.subject == f"{invoice.card_id}/{invoice.encrypt_code}"
    assert sandbox.emulator.stats.count("updateinvoicestatus") == 0
    await imported(stub, invoice)
    assert (await set_status(stub, invoice, LOCK)).change.status == LOCK


@pytest.mark.parametrize("in_ledger", [False, True], ids=["wechat-refuses", "ledger-refuses"])
@pytest.mark.parametrize(
    ("start", "target", "reason"),
    [
        ([], CLOSURE, "INVOICE_NOT_LOCKED"),
        ([], INIT, "INVOICE_STATUS_CONFLICT"),
        ([LOCK], LOCK, "INVOICE_STATUS_CONFLICT"),
        ([LOCK, CLOSURE], INIT, "INVOICE_STATUS_CONFLICT"),
        ([LOCK, CLOSURE], LOCK, "INVOICE_STATUS_CONFLICT"),
    ],
    ids=["init-closure", "init-init", "lock-lock", "closure-init", "closure-lock"],
)
async def test_refused_transitions_change_nothing(
    stub: Stub, sandbox: Sandbox, in_ledger: bool, start: list[int], target: int, reason: str
) -> None:
    invoice = SYNTHETIC[1]
    if in_ledger:  # the ledger knows where the invoice is, and refuses
        await imported(stub, invoice)
        for step in start:
            await set_status(stub, invoice, step)
    else:  # the ledger believes the move is fine; WeChat moved behind the gateway's back
        await imported(stub, invoice, lock=target != LOCK)
        behind_the_back(sandbox, invoice, (start or [INIT])[-1])
    before = at_wechat(sandbox, invoice)
    writes = sandbox.emulator.stats.count("updateinvoicestatus")

    failure = await failure_of(set_status(stub, invoice, target))
    assert failure.code is grpc.StatusCode.FAILED_PRECONDITION
    assert failure.info.reason == reason
    (violation,) = failure.details["PreconditionFailure"].violations
    assert (
        violation.type == reason
        and violation.subject == f"{invoice.card_id}/{invoice.encrypt_code}"
    )
    assert at_wechat(sandbox, invoice) == before
    if in_ledger:  # refused from the ledger (confirmed by a read): no write reached WeChat
        assert sandbox.emulator.stats.count("updateinvoicestatus") == writes
    else:
        assert failure.info.metadata["wechat_errcode"] in ("72024", "72039")


async def test_a_lock_held_by_another_account_is_refused(stub: Stub, sandbox: Sandbox) -> None:
    for target in (INIT, CLOSURE):
        failure = await failure_of(set_status(stub, LOCKED_BY_PARTNER, target))
        assert failure.code is grpc.StatusCode.FAILED_PRECONDITION
        assert failure.info.reason == "INVOICE_LOCKED_BY_OTHER_ACCOUNT"
        assert "ResourceInfo" in failure.detail_types
    assert at_wechat(sandbox, LOCKED_BY_PARTNER) == "INVOICE_REIMBURSE_LOCK"


@pytest.mark.parametrize("invoice", [CLOSED, CANCELLED], ids=["closure", "cancel"])
async def test_nothing_leaves_closure_or_cancel(stub: Stub, invoice: SandboxInvoice) -> None:
    for target in (INIT, LOCK, CLOSURE):
        failure = await failure_of(set_status(stub, invoice, target))
        assert failure.code is grpc.StatusCode.FAILED_PRECONDITION


@pytest.mark.parametrize(
    "status", [invoice_pb2.REIMBURSE_STATUS_CANCEL, invoice_pb2.REIMBURSE_STATUS_UNSPECIFIED, 42]
)
async def test_cancel_and_unspecified_are_not_targets(
    stub: Stub, sandbox: Sandbox, status: int
) -> None:
    failure = await failure_of(set_status(stub, SYNTHETIC[0], status))
    assert failure.code is grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in failure.details["BadRequest"].field_violations] == ["status"]
    assert sandbox.emulator.stats.count("updateinvoicestatus") == 0


async def test_a_batch_moves_every_invoice(stub: Stub, sandbox: Sandbox) -> None:
    batch = SYNTHETIC[:5]
    await imported(stub, *batch)
    openid = await openid_of(stub, batch[0])
    changes = (await set_batch(stub, batch, LOCK, openid)).changes
    assert [c.ref.card_id for c in changes] == [i.card_id for i in batch]
    assert [c.previous_status for c in changes] == [INIT] * 5
    assert {at_wechat(sandbox, i) for i in batch} == {"INVOICE_REIMBURSE_LOCK"}
    assert await ledger_status(stub, batch[0]) == LOCK
    changes = (await set_batch(stub, batch, CLOSURE, openid)).changes
    assert {c.status for c in changes} == {CLOSURE}


@pytest.mark.parametrize("in_ledger", [False, True], ids=["wechat-refuses", "ledger-refuses"])
async def test_one_bad_invoice_fails_the_whole_batch(
    stub: Stub, sandbox: Sandbox, in_ledger: bool
) -> None:
    batch = SYNTHETIC[10:14]
    await imported(stub, *batch)
    # One of them is already locked, so LOCK->LOCK fails: known to the ledger, or not.
    if in_ledger:
        await set_status(stub, batch[2], LOCK)
    else:
        behind_the_back(sandbox, batch[2], LOCK)
    openid = await openid_of(stub, batch[0])
    failure = await failure_of(set_batch(stub, batch, LOCK, openid))
    assert failure.code is grpc.StatusCode.FAILED_PRECONDITION
    assert [at_wechat(sandbox, i) for i in batch] == [
        "INVOICE_REIMBURSE_INIT",
        "INVOICE_REIMBURSE_INIT",
        "INVOICE_REIMBURSE_LOCK",
        "INVOICE_REIMBURSE_INIT",
    ]
    assert [await ledger_status(stub, i) for i in batch] == [INIT, INIT, LOCK, INIT]


async def test_an_injected_failure_in_a_batch_changes_nothing_anywhere(
    stub: Stub, sandbox: Sandbox
) -> None:
    batch = SYNTHETIC[20:24]
    await imported(stub, *batch)
    openid = await openid_of(stub, batch[0])
    sandbox.inject("updatestatusbatch", FaultKind.ERRCODE, 72036, times=0)  # busy on every try
    failure = await failure_of(set_batch(stub, batch, LOCK, openid))
    assert failure.code is grpc.StatusCode.UNAVAILABLE
    assert {at_wechat(sandbox, i) for i in batch} == {"INVOICE_REIMBURSE_INIT"}
    assert [await ledger_status(stub, i) for i in batch] == [INIT] * 4


async def test_a_batch_for_another_users_invoices_is_refused(stub: Stub, sandbox: Sandbox) -> None:
    someone_else = next(
        i
        for i in seed.invoices()
        if i.holder == seed.LI
        and i.status is ReimburseStatus.INIT
        and "user_card_status" not in i.payload  # not the expired card: imports refuse it
    )
    await imported(stub, SYNTHETIC[0], someone_else)
    openid = await openid_of(stub, SYNTHETIC[0])
    failure = await failure_of(set_batch(stub, [SYNTHETIC[0], someone_else], LOCK, openid))
    assert failure.code is grpc.StatusCode.FAILED_PRECONDITION
    assert failure.info.reason == "INVOICE_OWNER_MISMATCH"
    assert at_wechat(sandbox, SYNTHETIC[0]) == "INVOICE_REIMBURSE_INIT"


async def test_batches_are_capped_not_split(stub: Stub, sandbox: Sandbox) -> None:
    failure = await failure_of(set_batch(stub, SYNTHETIC[:51], LOCK, "o"))
    assert failure.code is grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in failure.details["BadRequest"].field_violations] == ["invoices"]


async def test_a_replayed_write_off_from_two_clients_reaches_wechat_once(
    stub: Stub, sandbox: Sandbox
) -> None:
    invoice = SYNTHETIC[30]
    await imported(stub, invoice, lock=True)
    sandbox.inject("updateinvoicestatus", FaultKind.LATENCY, 200)  # keep the first one in flight
    writes = sandbox.emulator.stats.count("updateinvoicestatus")
    first, second = await asyncio.gather(
        set_status(stub, invoice, CLOSURE, request_id="7d9f6a52-write-off"),
        set_status(stub, invoice, CLOSURE, request_id="7d9f6a52-write-off"),
    )
    assert sandbox.emulator.stats.count("updateinvoicestatus") - writes == 1
    assert first.SerializeToString() == second.SerializeToString()
    again = await set_status(stub, invoice, CLOSURE, request_id="7d9f6a52-write-off")
    assert again.SerializeToString() == first.SerializeToString()
    assert sandbox.emulator.stats.count("updateinvoicestatus") - writes == 1


async def test_a_lost_reply_is_resolved_by_the_retry_without_a_second_write(
    stub: Stub, sandbox: Sandbox
) -> None:
    invoice = SYNTHETIC[31]
    await imported(stub, invoice)
    sandbox.inject("updateinvoicestatus", FaultKind.APPLY_THEN_DROP, times=1)
    failure = await failure_of(set_status(stub, invoice, LOCK, request_id="lost-reply-1"))
    assert failure.code is grpc.StatusCode.UNAVAILABLE
    assert at_wechat(sandbox, invoice) == "INVOICE_REIMBURSE_LOCK"  # WeChat did it
    writes = sandbox.emulator.stats.count("updateinvoicestatus")

    retried = await set_status(stub, invoice, LOCK, request_id="lost-reply-1")
    assert retried.change.status == LOCK
    assert sandbox.emulator.stats.count("updateinvoicestatus") == writes  # no second write


async def test_a_lost_request_is_written_again_on_retry(stub: Stub, sandbox: Sandbox) -> None:
    invoice = SYNTHETIC[32]
    await imported(stub, invoice)
    sandbox.inject("updateinvoicestatus", FaultKind.DROP, times=1)  # dropped before acting
    await failure_of(set_status(stub, invoice, LOCK, request_id="lost-request-1"))
    assert at_wechat(sandbox, invoice) == "INVOICE_REIMBURSE_INIT"
    assert (
        await set_status(stub, invoice, LOCK, request_id="lost-request-1")
    ).change.status == LOCK
    assert at_wechat(sandbox, invoice) == "INVOICE_REIMBURSE_LOCK"


async def test_without_a_request_id_a_maybe_applied_write_is_never_retried(
    stub: Stub, sandbox: Sandbox
) -> None:
    await imported(stub, SYNTHETIC[33])
    sandbox.inject("updateinvoicestatus", FaultKind.HTTP_STATUS, 503, times=0)
    failure = await failure_of(set_status(stub, SYNTHETIC[33], LOCK))
    assert failure.code is grpc.StatusCode.UNAVAILABLE
    assert sandbox.emulator.stats.count("updateinvoicestatus") == 1


async def test_a_request_id_reused_for_another_request_is_refused(
    stub: Stub, sandbox: Sandbox
) -> None:
    await imported(stub, SYNTHETIC[34], SYNTHETIC[35])
    await set_status(stub, SYNTHETIC[34], LOCK, request_id="reused-id")
    failure = await failure_of(set_status(stub, SYNTHETIC[35], LOCK, request_id="reused-id"))
    assert failure.code is grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in failure.details["BadRequest"].field_violations] == ["request_id"]
    assert at_wechat(sandbox, SYNTHETIC[35]) == "INVOICE_REIMBURSE_INIT"


async def test_a_refused_request_may_be_retried_with_its_id_once_the_state_allows(
    stub: Stub, sandbox: Sandbox
) -> None:
    invoice = SYNTHETIC[36]
    await imported(stub, invoice)
    await failure_of(set_status(stub, invoice, CLOSURE, request_id="retry-later"))  # not locked yet
    await set_status(stub, invoice, LOCK)
    assert (
        await set_status(stub, invoice, CLOSURE, request_id="retry-later")
    ).change.status == CLOSURE


async def _has_outcome(entries: Awaitable[list[AuditEntry]], outcome: str) -> bool:
    return any(e.outcome == outcome for e in await entries)


async def test_the_audit_trail_records_every_attempt(
    stub: Stub, sandbox: Sandbox, gateway: Gateway, database_url: str
) -> None:
    invoice = SYNTHETIC[40]
    await imported(stub, invoice)
    await set_status(stub, invoice, LOCK, request_id="audit-1")
    await set_status(stub, invoice, LOCK, request_id="audit-1")  # replay
    await failure_of(set_status(stub, invoice, LOCK))  # LOCK -> LOCK refused (ledger, read)
    sandbox.inject("updateinvoicestatus", FaultKind.APPLY_THEN_DROP, times=1)
    await failure_of(set_status(stub, invoice, INIT, request_id="audit-2"))

    # The write whose answer was lost is settled by recovery, by reading WeChat: applied.
    db = Database(create_engine(database_url))
    trail_of = AuditTrail(db, wall_clock_us).trail
    try:
        await eventually(lambda: _has_outcome(trail_of(accounts=[seed.PRIMARY.appid]), "RESOLVED"))
        trail = await trail_of(accounts=[seed.PRIMARY.appid])
    finally:
        await db.close()
    assert [
        (e.request_id, e.outcome, e.to_status and e.to_status.value, e.wechat_errcode)
        for e in reversed(trail)
    ] == [
        ("audit-1", "OK", "INVOICE_REIMBURSE_LOCK", None),
        ("audit-1", "REPLAYED", "INVOICE_REIMBURSE_LOCK", None),
        ("", "INVOICE_STATUS_CONFLICT", "INVOICE_REIMBURSE_LOCK", None),
        ("audit-2", "OUTCOME_UNKNOWN", "INVOICE_REIMBURSE_INIT", None),
        ("audit-2", "RESOLVED", "INVOICE_REIMBURSE_INIT", None),
    ]
    assert {e.caller for e in trail} == {"sandbox-developer"}
    assert trail[-1].invoices[0][0].card_id == invoice.card_id

    code, out, err = await run(
        "audit", "--limit", "10", env={**os.environ, "FAPIAO_DATABASE_URL": database_url}
    )
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["outcome"] for line in lines] == [
        "RESOLVED",
        "OUTCOME_UNKNOWN",
        "INVOICE_STATUS_CONFLICT",
        "REPLAYED",
        "OK",
    ]


async def test_the_ledger_follows_wechat_on_reads(stub: Stub, sandbox: Sandbox) -> None:
    invoice = SYNTHETIC[50]
    await imported(stub, invoice)
    # Someone changes it outside the gateway.
    stored = sandbox.emulator.invoices[(invoice.card_id, invoice.encrypt_code)]
    stored.status, stored.lock_owner = ReimburseStatus.LOCK, seed.PARTNER.appid
    assert await ledger_status(stub, invoice) == INIT
    await stub.GetInvoice(
        invoice_service_pb2.GetInvoiceRequest(account="sandbox", invoice=ref(invoice))
    )
    # The read answers at once; the ledger follows it in the background (read_follower.py).
    await eventually(lambda: _is(ledger_status(stub, invoice), LOCK), within=5)


async def _is(value: Awaitable[Any], expected: Any) -> bool:
    return bool(await value == expected)


async def test_get_invoices_keeps_order_and_reports_what_wechat_dropped(
    stub: Stub, sandbox: Sandbox
) -> None:
    wanted = SYNTHETIC[:500]
    sandbox.inject("getinvoicebatch", FaultKind.SHORT_REPLY, 7, times=0)  # every 7th item vanishes
    reply = await stub.GetInvoices(
        invoice_service_pb2.GetInvoicesRequest(account="sandbox", invoices=[ref(i) for i in wanted])
    )
    assert [r.ref.encrypt_code for r in reply.results] == [i.encrypt_code for i in wanted]
    returned = [r for r in reply.results if r.HasField("invoice")]
    dropped = [r for r in reply.results if r.HasField("failure")]
    assert len(returned) + len(dropped) == 500
    assert len(dropped) == 70  # 10 batches of 50, 7 dropped from each
    assert {r.failure.reason for r in dropped} == {"INVOICE_NOT_RETURNED"}
    assert all(r.invoice.ref.card_id == r.ref.card_id for r in returned)
    assert sandbox.emulator.stats.count("getinvoicebatch") == 10


async def test_get_invoices_reports_a_failed_batch_on_its_refs(
    stub: Stub, sandbox: Sandbox
) -> None:
    sandbox.inject("getinvoicebatch", FaultKind.ERRCODE, 45009, skip=1, times=1)
    reply = await stub.GetInvoices(
        invoice_service_pb2.GetInvoicesRequest(
            account="sandbox", invoices=[ref(i) for i in SYNTHETIC[:100]]
        )
    )
    failures = [r.failure for r in reply.results if r.HasField("failure")]
    assert len(failures) == 50
    assert {(f.reason, f.wechat_errcode) for f in failures} == {
        ("WECHAT_DAILY_QUOTA_EXCEEDED", 45009)
    }


async def test_get_invoices_fails_when_every_batch_fails(stub: Stub, sandbox: Sandbox) -> None:
    sandbox.inject("getinvoicebatch", FaultKind.ERRCODE, 45009, times=0)
    failure = await failure_of(
        stub.GetInvoices(
            invoice_service_pb2.GetInvoicesRequest(
                account="sandbox", invoices=[ref(i) for i in SYNTHETIC[:60]]
            )
        )
    )
    assert failure.code is grpc.StatusCode.RESOURCE_EXHAUSTED


@pytest.mark.parametrize(
    ("invoices", "fields"),
    [
        ([], ["invoices"]),
        (
            [ref(SYNTHETIC[0]), invoice_pb2.InvoiceRef(card_id="x"), ref(SYNTHETIC[0])],
            ["invoices[1].encrypt_code", "invoices[2]"],
        ),
        ([ref(i) for i in SYNTHETIC[:501]], ["invoices"]),
    ],
    ids=["empty", "incomplete-and-duplicate", "too-many"],
)
async def test_get_invoices_validates_each_ref(
    stub: Stub, sandbox: Sandbox, invoices, fields: list[str]
) -> None:
    failure = await failure_of(
        stub.GetInvoices(
            invoice_service_pb2.GetInvoicesRequest(account="sandbox", invoices=invoices)
        )
    )
    assert failure.code is grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in failure.details["BadRequest"].field_violations] == fields
    assert sandbox.emulator.stats.count("getinvoicebatch") == 0
