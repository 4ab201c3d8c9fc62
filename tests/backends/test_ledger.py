"""ImportInvoices and SearchInvoices through the generated client, on SQLite and PostgreSQL."""

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest
from fapiao.v1 import invoice_pb2, invoice_service_pb2
from fapiao_gateway.bootstrap import Gateway, start_gateway
from fapiao_gateway.ledger import counting
from fapiao_gateway.ledger.engine import create_engine, migrate
from fapiao_gateway.sandbox import seed
from fapiao_gateway.sandbox.app import Sandbox, create_sandbox
from fapiao_gateway.sandbox.emulator import SandboxInvoice
from fapiao_gateway.sandbox.faults import FaultKind
from google.protobuf import timestamp_pb2
from sqlalchemy import inspect, text

from tests.conftest import FAST_UPSTREAM, gateway_settings
from tests.rpc import Stub, failure_of
from tests.support import auth
from tests.support.waiting import eventually

SYNTHETIC = seed.synthetic(400)
INIT, LOCK = invoice_pb2.REIMBURSE_STATUS_INIT, invoice_pb2.REIMBURSE_STATUS_LOCK


def refs(*invoices: SandboxInvoice) -> list[invoice_pb2.InvoiceRef]:
    return [
        invoice_pb2.InvoiceRef(card_id=i.card_id, encrypt_code=i.encrypt_code) for i in invoices
    ]


def status_at_wechat(sandbox: Sandbox, invoice: SandboxInvoice) -> str:
    return sandbox.emulator.status_of(invoice.card_id, invoice.encrypt_code).value


@pytest.fixture
def sandbox() -> Sandbox:
    made = create_sandbox()
    for invoice in seed.synthetic(400):
        made.emulator.add_invoice(invoice)
    return made


@pytest.fixture
async def gateway(sandbox: Sandbox, database_url: str) -> AsyncIterator[Gateway]:
    small_batches = FAST_UPSTREAM.model_copy(update={"batch_size": 10})
    running = await start_gateway(
        gateway_settings(database_url=database_url, upstream=small_batches), sandbox=sandbox
    )
    yield running
    await running.stop(0)


async def import_(
    stub: Stub,
    *invoices: SandboxInvoice,
    biz_code: str = "",
    lock: bool = False,
    account: str = "sandbox",
):
    return await stub.ImportInvoices(
        invoice_service_pb2.ImportInvoicesRequest(
            account=account, biz_code=biz_code, invoices=refs(*invoices), lock=lock
        )
    )


async def search(stub: Stub, **filters) -> invoice_service_pb2.SearchInvoicesResponse:
    return await stub.SearchInvoices(
        invoice_service_pb2.SearchInvoicesRequest(
            account=filters.pop("account", "sandbox"), **filters
        )
    )


async def test_migrations_bring_an_empty_database_to_head(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate(engine)
        await migrate(engine)  # a second run is a no-op
        async with engine.connect() as conn:
            version = (
                await conn.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar_one()
            tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
            indexes = await conn.run_sync(
                lambda sync: {i["name"] for i in inspect(sync).get_indexes("imported_invoices")}
            )
    finally:
        await engine.dispose()
    assert version == "0006"
    assert {
        "imported_invoices",
        "status_audit",
        "audit_invoices",
        "reconcile_calls",
        "intents",
        "invoice_claims",
        "import_sessions",
    } <= set(tables)
    assert {
        "ix_imported_biz_code",
        "ix_imported_buyer",
        "ix_imported_seller",
        "ix_imported_status",
    } <= indexes


async def test_import_stores_every_invoice_and_search_finds_them(
    stub: Stub, sandbox: Sandbox
) -> None:
    picked = SYNTHETIC[:25]
    reply = await import_(stub, *picked, biz_code="EXP-2026-0001")
    assert reply.biz_code == "EXP-2026-0001"
    assert [i.invoice.ref.card_id for i in reply.invoices] == [i.card_id for i in picked]
    first = reply.invoices[0]
    assert first.biz_code == "EXP-2026-0001" and first.imported_by == "sandbox-developer"
    assert first.account == seed.PRIMARY.appid
    assert first.invoice.total_fen == 1000 and first.invoice.reimburse_status == INIT
    assert sandbox.emulator.stats.count("getinvoicebatch") == 3  # 25 invoices, batches of 10

    found = await search(stub, biz_code="EXP-2026-0001")
    assert found.total_size == 25
    assert {i.invoice.ref.encrypt_code for i in found.invoices} == {i.encrypt_code for i in picked}
    assert status_at_wechat(sandbox, picked[0]) == "INVOICE_REIMBURSE_INIT"


async def test_import_without_biz_code_generates_an_unguessable_one(stub: Stub) -> None:
    first, second = await import_(stub, SYNTHETIC[0]), await import_(stub, SYNTHETIC[1])
    assert first.biz_code != second.biz_code
    assert first.biz_code.startswith("biz-") and len(first.biz_code) >= 20


async def test_import_with_lock_locks_at_wechat_and_in_the_ledger(
    stub: Stub, sandbox: Sandbox
) -> None:
    picked = SYNTHETIC[:23]
    reply = await import_(stub, *picked, biz_code="EXP-LOCK", lock=True)
    assert {i.invoice.reimburse_status for i in reply.invoices} == {LOCK}
    assert {status_at_wechat(sandbox, i) for i in picked} == {"INVOICE_REIMBURSE_LOCK"}
    assert sandbox.emulator.stats.count("updatestatusbatch") == 3
    found = await search(stub, biz_code="EXP-LOCK", status=LOCK)
    assert found.total_size == 23


async def test_reimporting_under_the_same_biz_code_is_a_no_op(stub: Stub, sandbox: Sandbox) -> None:
    first = await import_(stub, *SYNTHETIC[:5], biz_code="EXP-SAME", lock=True)
    again = await import_(stub, *SYNTHETIC[:5], biz_code="EXP-SAME", lock=True)
    assert [i.SerializeToString() for i in again.invoices] == [
        i.SerializeToString() for i in first.invoices
    ]
    assert sandbox.emulator.stats.count("updatestatusbatch") == 1  # nothing locked twice
    assert (await search(stub, biz_code="EXP-SAME")).total_size == 5


async def test_an_invoice_in_another_reimbursement_is_already_exists(
    stub: Stub, sandbox: Sandbox
) -> None:
    await import_(stub, *SYNTHETIC[:3], biz_code="EXP-FIRST", lock=True)
    failure = await failure_of(import_(stub, SYNTHETIC[5], SYNTHETIC[2], biz_code="EXP-SECOND"))

    assert failure.code is grpc.StatusCode.ALREADY_EXISTS
    assert failure.detail_types == ["ErrorInfo", "ResourceInfo"]
    assert failure.info.reason == "INVOICE_ALREADY_IMPORTED"
    assert failure.info.metadata["biz_code"] == "EXP-FIRST"
    assert failure.info.metadata["card_id"] == SYNTHETIC[2].card_id
    resource = failure.details["ResourceInfo"]
    assert resource.owner == "bizCode:EXP-FIRST" and "EXP-FIRST" in resource.description
    assert (await search(stub, biz_code="EXP-SECOND")).total_size == 0  # nothing of it stored
    assert status_at_wechat(sandbox, SYNTHETIC[5]) == "INVOICE_REIMBURSE_INIT"


async def test_an_unlocked_invoice_may_move_to_a_new_biz_code(stub: Stub) -> None:
    await import_(stub, SYNTHETIC[0], biz_code="EXP-REJECTED")
    moved = await import_(stub, SYNTHETIC[0], biz_code="EXP-RESUBMITTED")
    assert moved.invoices[0].biz_code == "EXP-RESUBMITTED"
    assert (await search(stub, biz_code="EXP-REJECTED")).total_size == 0


async def test_a_fault_after_the_first_batch_stores_nothing_and_locks_nothing(
    stub: Stub, sandbox: Sandbox
) -> None:
    sandbox.inject("getinvoicebatch", FaultKind.ERRCODE, 45009, skip=1, times=0)
    failure = await failure_of(import_(stub, *SYNTHETIC[:25], biz_code="EXP-HALF", lock=True))
    assert failure.code is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert (await search(stub, biz_code="EXP-HALF")).total_size == 0
    assert {status_at_wechat(sandbox, i) for i in SYNTHETIC[:25]} == {"INVOICE_REIMBURSE_INIT"}
    assert sandbox.emulator.stats.count("updatestatusbatch") == 0


@pytest.mark.parametrize(
    ("kind", "value"),
    [(FaultKind.ERRCODE, 72024), (FaultKind.DROP, 0), (FaultKind.HTTP_STATUS, 503)],
    ids=["refused", "dropped", "http-503"],
)
async def test_a_lock_failing_halfway_releases_every_lock_taken(
    stub: Stub, sandbox: Sandbox, kind: FaultKind, value: int
) -> None:
    # Locks go in batches of 10: the first succeeds, the second fails (refused, or unknown).
    # A refusal is released by the call itself; a lock whose answer was lost by recovery,
    # once it could no longer land late.
    sandbox.inject("updatestatusbatch", kind, value, skip=1, times=1)
    failure = await failure_of(import_(stub, *SYNTHETIC[:25], biz_code="EXP-LOCKFAIL", lock=True))
    assert failure.code in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.UNAVAILABLE)
    assert (await search(stub, biz_code="EXP-LOCKFAIL")).total_size == 0
    if kind is FaultKind.ERRCODE:
        assert {status_at_wechat(sandbox, i) for i in SYNTHETIC[:25]} == {"INVOICE_REIMBURSE_INIT"}
    await eventually(
        lambda: {status_at_wechat(sandbox, i) for i in SYNTHETIC[:25]} == {"INVOICE_REIMBURSE_INIT"}
    )
    assert (await search(stub, biz_code="EXP-LOCKFAIL")).total_size == 0


async def test_a_ledger_failure_after_locking_releases_the_locks(
    stub: Stub, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fapiao_gateway.ledger import intents

    async def broken(*_args, **_kwargs):
        raise ConnectionError("database went away")

    monkeypatch.setattr(intents, "write_import", broken)
    failure = await failure_of(import_(stub, *SYNTHETIC[:12], biz_code="EXP-DBFAIL", lock=True))
    assert failure.code is grpc.StatusCode.UNAVAILABLE
    assert failure.info.reason == "LEDGER_UNAVAILABLE"
    assert {status_at_wechat(sandbox, i) for i in SYNTHETIC[:12]} == {"INVOICE_REIMBURSE_INIT"}


async def test_an_unknown_invoice_fails_the_whole_import(stub: Stub, sandbox: Sandbox) -> None:
    ghost = SandboxInvoice("pGhost0000000000000000000000", "Z2hvc3Q=", seed.ZHANG, {})
    failure = await failure_of(import_(stub, SYNTHETIC[0], ghost, biz_code="EXP-GHOST", lock=True))
    assert failure.code is grpc.StatusCode.NOT_FOUND
    assert failure.info.metadata["card_id"] == ghost.card_id
    assert (await search(stub, biz_code="EXP-GHOST")).total_size == 0
    assert status_at_wechat(sandbox, SYNTHETIC[0]) == "INVOICE_REIMBURSE_INIT"


async def test_locking_an_invoice_that_is_not_init_is_refused_before_wechat(
    stub: Stub, sandbox: Sandbox
) -> None:
    closed = next(i for i in seed.invoices() if i.status.value == "INVOICE_REIMBURSE_CLOSURE")
    failure = await failure_of(
        import_(stub, SYNTHETIC[0], closed, biz_code="EXP-CLOSED", lock=True)
    )
    assert failure.code is grpc.StatusCode.FAILED_PRECONDITION
    assert failure.info.reason == "INVOICE_NOT_LOCKABLE"
    (violation,) = failure.details["PreconditionFailure"].violations
    assert violation.subject == f"{closed.card_id}/{closed.encrypt_code}"
    assert sandbox.emulator.stats.count("updatestatusbatch") == 0


@pytest.mark.parametrize(
    ("request_", "fields"),
    [
        (invoice_service_pb2.ImportInvoicesRequest(account="sandbox"), ["invoices"]),
        (
            invoice_service_pb2.ImportInvoicesRequest(
                account="sandbox", invoices=refs(SYNTHETIC[0], SYNTHETIC[1], SYNTHETIC[0])
            ),
            ["invoices[2]"],
        ),
        (
            invoice_service_pb2.ImportInvoicesRequest(
                account="sandbox",
                biz_code="bad code!",
                invoices=[invoice_pb2.InvoiceRef(card_id="a"), *refs(SYNTHETIC[0])],
            ),
            ["invoices[0].encrypt_code", "biz_code"],
        ),
        (
            invoice_service_pb2.ImportInvoicesRequest(
                account="sandbox", invoices=refs(*SYNTHETIC[:101])
            ),
            ["invoices"],
        ),
    ],
    ids=["empty", "duplicate", "incomplete-and-bad-biz-code", "too-many"],
)
async def test_bad_imports_name_every_bad_field(
    stub: Stub, sandbox: Sandbox, request_, fields: list[str]
) -> None:
    failure = await failure_of(stub.ImportInvoices(request_))
    assert failure.code is grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in failure.details["BadRequest"].field_violations] == fields
    assert sandbox.emulator.stats.calls == {}


async def test_every_filter_and_their_combination(stub: Stub) -> None:
    picked = SYNTHETIC[:60]
    for start in range(0, 60, 20):
        await import_(stub, *picked[start : start + 20], biz_code=f"EXP-{start}")
    n7 = picked[7]
    by_code = await search(stub, invoice_code="011001900131", page_size=500)
    assert by_code.total_size == 15  # n % 4 == 3
    by_number = await search(stub, invoice_number=f"{7:08d}")
    assert [i.invoice.ref.card_id for i in by_number.invoices] == [n7.card_id]
    assert (
        await search(stub, buyer_tax_numbers=["91310000MA1BUYER0", "91310000MA1BUYER1"])
    ).total_size == 40
    assert (await search(stub, seller_tax_numbers=["91440300MA5SELLER4"])).total_size == 12
    assert (
        await search(stub, biz_code="EXP-20", seller_tax_numbers=["91440300MA5SELLER4"])
    ).total_size == 4
    billing_start = timestamp_pb2.Timestamp(seconds=1700000000 + 3600 * 10)
    billing_end = timestamp_pb2.Timestamp(seconds=1700000000 + 3600 * 20)
    assert (
        await search(stub, billing_time_start=billing_start, billing_time_end=billing_end)
    ).total_size == 10
    everything = await search(stub, page_size=500)
    assert everything.total_size == 60
    newest = everything.invoices[0].update_time
    assert (await search(stub, update_time_start=newest)).total_size == 20  # the last import
    assert (await search(stub, update_time_end=newest)).total_size == 40
    assert (await search(stub, status=LOCK)).total_size == 0
    assert (
        await search(stub, account="sandbox-partner")
    ).total_size == 0  # another account's ledger


async def test_pages_see_every_row_exactly_once_while_rows_are_inserted(stub: Stub) -> None:
    originals = SYNTHETIC[:300]
    for start in range(0, 300, 100):
        await import_(stub, *originals[start : start + 100], biz_code="EXP-PAGING")
    seen: list[str] = []
    token, inserted = "", 0
    while True:
        page = await search(stub, biz_code="EXP-PAGING", page_size=40, page_token=token)
        seen += [i.invoice.ref.card_id for i in page.invoices]
        if inserted < 80:  # new rows arrive between pages
            await import_(stub, *SYNTHETIC[300 + inserted : 320 + inserted], biz_code="EXP-PAGING")
            inserted += 20
        token = page.next_page_token
        if not token:
            break
    assert len(seen) == len(set(seen))  # nothing twice
    assert {i.card_id for i in originals} <= set(seen)  # every original once


async def test_paging_rules(stub: Stub) -> None:
    await import_(stub, *SYNTHETIC[:30], biz_code="EXP-RULES")
    first = await search(stub, biz_code="EXP-RULES", page_size=10)
    assert len(first.invoices) == 10 and first.next_page_token and first.total_size == 30
    second = await search(
        stub, biz_code="EXP-RULES", page_size=10, page_token=first.next_page_token
    )
    assert len(second.invoices) == 10 and second.total_size == 0  # counted on the first page only
    assert (
        len((await search(stub, biz_code="EXP-RULES", page_size=100_000)).invoices) == 30
    )  # capped, not refused
    assert len((await search(stub, biz_code="EXP-RULES")).invoices) == 30  # default 50

    changed = await failure_of(search(stub, biz_code="EXP-OTHER", page_token=first.next_page_token))
    assert changed.code is grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in changed.details["BadRequest"].field_violations] == ["page_token"]
    garbage = await failure_of(search(stub, biz_code="EXP-RULES", page_token="not-a-token"))
    assert garbage.code is grpc.StatusCode.INVALID_ARGUMENT
    negative = await failure_of(search(stub, page_size=-1))
    assert [v.field for v in negative.details["BadRequest"].field_violations] == ["page_size"]


async def test_a_caller_sees_only_its_accounts_ledger(
    gateway: Gateway, sandbox: Sandbox, database_url: str
) -> None:
    key, stored = auth.new_key()
    settings = gateway_settings(
        database_url=database_url,
        auth_secret=auth.TEST_AUTH_SECRET,
        callers=[auth.caller("partner-erp", ["sandbox-partner"], ["read", "import"], stored)],
    )
    gateway.reload_callers(settings)
    async with auth.channel(gateway.address, key) as channel:
        partner = Stub(channel)
        await import_(partner, SYNTHETIC[0], biz_code="EXP-P", account="sandbox-partner")
        denied = await failure_of(search(partner, account="sandbox"))
        assert denied.code is grpc.StatusCode.PERMISSION_DENIED
        assert (await search(partner, account="sandbox-partner")).total_size == 1


async def test_imported_invoices_survive_a_restart(sandbox: Sandbox, database_url: str) -> None:
    settings = gateway_settings(database_url=database_url)
    first = await start_gateway(settings, sandbox=sandbox)
    async with auth.channel(first.address, first.callers.development_key) as channel:
        await import_(Stub(channel), *SYNTHETIC[:3], biz_code="EXP-DURABLE")
    await first.stop(0)
    second = await start_gateway(settings, sandbox=sandbox)
    try:
        async with auth.channel(second.address, second.callers.development_key) as channel:
            assert (await search(Stub(channel), biz_code="EXP-DURABLE")).total_size == 3
    finally:
        await second.stop(0)


async def test_concurrent_imports_of_one_invoice_leave_one_owner(
    stub: Stub, sandbox: Sandbox
) -> None:
    results = await asyncio.gather(
        *(import_(stub, SYNTHETIC[0], biz_code=f"EXP-RACE-{n}", lock=True) for n in range(5)),
        return_exceptions=True,
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) == 1
    owner = (await search(stub, invoice_number=f"{0:08d}")).invoices
    assert [i.biz_code for i in owner] == [winners[0].biz_code]
    assert status_at_wechat(sandbox, SYNTHETIC[0]) == "INVOICE_REIMBURSE_LOCK"


async def test_out_of_range_times_are_invalid_argument_naming_each(stub: Stub) -> None:
    beyond = timestamp_pb2.Timestamp(seconds=2**40)
    failure = await failure_of(search(stub, update_time_start=beyond, billing_time_end=beyond))
    assert failure.code is grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in failure.details["BadRequest"].field_violations] == [
        "update_time_start",
        "billing_time_end",
    ]


async def test_totals_are_exact_up_to_the_limit_then_estimated(
    stub: Stub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the limit the total is a sample's estimate, flagged, never below what was seen,
    the same for the same search; below it, exact."""
    monkeypatch.setattr(counting, "EXACT_LIMIT", 40)
    monkeypatch.setattr(counting, "SAMPLE", 150)
    for start in range(0, 400, 100):
        await import_(stub, *SYNTHETIC[start : start + 100], biz_code=f"EXP-EST{start}")
    exact = await search(stub, biz_code="EXP-EST0", seller_tax_numbers=["91440300MA5SELLER4"])
    assert (exact.total_size, exact.total_size_estimated) == (20, False)
    broad = await search(stub)
    assert broad.total_size_estimated
    assert broad.total_size >= 41 and abs(broad.total_size - 400) <= 80  # ~3 standard errors
    assert (await search(stub)).total_size == broad.total_size  # stable
    third = await search(stub, buyer_tax_numbers=["91310000MA1BUYER0"])  # n % 3 == 0
    assert third.total_size_estimated and abs(third.total_size - 134) <= 50
    later = await search(stub, page_token=broad.next_page_token)
    assert (later.total_size, later.total_size_estimated) == (0, False)
