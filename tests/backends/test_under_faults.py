"""The gateway under the faults issue 10 found it breaking under, on SQLite and PostgreSQL:
a process killed between locking at WeChat and recording the lock, a stop with calls in
flight, a hundred concurrent replays of a request whose answer was lost, and the database
and Redis going away and coming back. Real processes where the fault is a process's death."""

import asyncio
import random
import sqlite3
import time
import uuid
from collections.abc import Awaitable, Callable

import grpc
import pytest
from fapiao.v1 import invoice_pb2, invoice_service_pb2
from fapiao_gateway.bootstrap import start_gateway
from fapiao_gateway.config import LedgerSettings, Settings
from fapiao_gateway.sandbox import seed
from fapiao_gateway.sandbox.app import Sandbox
from fapiao_gateway.sandbox.emulator import SandboxInvoice
from fapiao_gateway.sandbox.faults import FaultKind

from tests.conftest import gateway_settings
from tests.rpc import Stub, decode, failure_of
from tests.support import auth
from tests.support.fleet import SandboxProcess, gateway_env, gateway_process, sandbox_process
from tests.support.proxy import proxied
from tests.support.waiting import eventually

LOCK = invoice_pb2.REIMBURSE_STATUS_LOCK
INIT = invoice_pb2.REIMBURSE_STATUS_INIT
SYNTHETIC = seed.synthetic(40)
Step = Callable[[], Awaitable[None]]
#: The stop test's settle time (see it).
SETTLE = "7"


def ref(invoice: SandboxInvoice) -> invoice_pb2.InvoiceRef:
    return invoice_pb2.InvoiceRef(card_id=invoice.card_id, encrypt_code=invoice.encrypt_code)


def import_request(
    invoices: list[SandboxInvoice], biz_code: str, request_id: str = "", lock: bool = True
) -> invoice_service_pb2.ImportInvoicesRequest:
    return invoice_service_pb2.ImportInvoicesRequest(
        account="sandbox",
        request_id=request_id,
        biz_code=biz_code,
        invoices=[ref(i) for i in invoices],
        lock=lock,
    )


async def ledger_locked(stub: Stub) -> set[str]:
    """card_ids the ledger holds in LOCK (the synthetic invoices' card_ids are unique)."""
    found, token = set(), ""
    while True:
        page = await stub.SearchInvoices(
            invoice_service_pb2.SearchInvoicesRequest(
                account="sandbox", status=LOCK, page_size=500, page_token=token
            )
        )
        found |= {i.invoice.ref.card_id for i in page.invoices}
        if not (token := page.next_page_token):
            return found


def wechat_locked(statuses: dict[tuple[str, str], tuple[str, str]]) -> set[str]:
    return {
        card
        for (card, _), (status, owner) in statuses.items()
        if status == "INVOICE_REIMBURSE_LOCK" and owner == seed.PRIMARY.appid
    }


async def test_a_gateway_killed_between_locking_and_recording_is_recovered(
    database_url: str,
) -> None:
    """SIGKILL while WeChat has applied an import's locks and the gateway has not recorded
    them: the next gateway releases them, and the import retried with its request_id
    succeeds (it used to be refused INVOICE_NOT_LOCKABLE, the locks left forever)."""
    picked = SYNTHETIC[:6]
    key, stored = auth.new_key()
    async with sandbox_process() as wechat:
        await wechat.add_synthetic(40)
        env = gateway_env(wechat.url, stored, database_url)
        await wechat.fault(endpoint="updatestatusbatch", kind="apply_then_delay", value=4000)
        async with gateway_process(env, key) as first, first.channel() as channel:
            call = asyncio.ensure_future(
                first.stub(channel).ImportInvoices(import_request(picked, "EXP-KILL", "kill-1"))
            )
            await eventually(
                lambda: _all_locked(wechat, picked), within=20
            )  # WeChat applied; the answer is on hold
            first.kill()
            with pytest.raises(grpc.aio.AioRpcError):
                await call
        await wechat.clear_faults()
        assert wechat_locked(await wechat.statuses()) >= {i.card_id for i in picked}

        async with gateway_process(env, key) as second, second.channel() as channel:
            stub = second.stub(channel)

            async def released() -> bool:
                return not wechat_locked(await wechat.statuses()) & {i.card_id for i in picked}

            await eventually(released, within=20)
            retried = await stub.ImportInvoices(import_request(picked, "EXP-KILL", "kill-1"))
            assert {i.invoice.reimburse_status for i in retried.invoices} == {LOCK}
            again = await stub.ImportInvoices(import_request(picked, "EXP-KILL", "kill-1"))
            assert again.SerializeToString() == retried.SerializeToString()
            assert await ledger_locked(stub) == wechat_locked(await wechat.statuses())


async def _all_locked(wechat: SandboxProcess, picked: list[SandboxInvoice]) -> bool:
    return {i.card_id for i in picked} <= wechat_locked(await wechat.statuses())


async def test_a_stop_with_calls_in_flight_exits_in_time_and_leaves_no_orphan_lock(
    database_url: str,
) -> None:
    """SIGTERM while imports wait on WeChat: the process exits within its grace period (it
    used to hang on SQLite, and to close its HTTP client before releasing the locks of the
    calls it cut off); whatever it had locked is owned by the ledger or released by the
    next gateway."""
    key, stored = auth.new_key()
    async with sandbox_process() as wechat:
        await wechat.add_synthetic(40)
        # WeChat takes 6 s to lock: longer than the 2 s grace, so the stop cuts the calls
        # off, and their locks land after the next gateway has started. Recovery must not
        # conclude before they can have landed: settle_seconds covers WeChat's delay (as the
        # production defaults cover the 5 s request timeout). With 0.3 s, this test fails.
        env = gateway_env(wechat.url, stored, database_url, FAPIAO_INTENTS__SETTLE_SECONDS=SETTLE)
        await wechat.fault(endpoint="updatestatusbatch", kind="slow_apply", value=6000, times=0)
        async with gateway_process(env, key) as first, first.channel() as channel:
            stub = first.stub(channel)
            calls = [
                asyncio.ensure_future(
                    stub.ImportInvoices(
                        import_request(SYNTHETIC[n : n + 3], f"EXP-STOP-{n}", f"stop-{n}")
                    )
                )
                for n in range(0, 30, 3)
            ]

            # Stop once every call is at WeChat (each import reads, checks and arms its
            # intent first: how long that takes depends on the machine's load).
            async def all_at_wechat() -> bool:
                return await wechat.calls("updatestatusbatch") >= len(calls)

            await eventually(all_at_wechat, within=20)
            arrived = time.monotonic()
            code, took = await first.stop(timeout=15)
            assert code == 0, "".join(first.output[-30:])
            assert took < 2 + 3, f"took {took:.1f} s to stop with a 2 s grace"
            outcomes = await asyncio.gather(*calls, return_exceptions=True)
            assert all(isinstance(o, grpc.aio.AioRpcError) for o in outcomes)  # all cut off
        await wechat.clear_faults()

        async with gateway_process(env, key) as second, second.channel() as channel:
            stub = second.stub(channel)
            # Only once WeChat has processed every request the first gateway sent is there
            # anything to compare: before, both sides could agree on nothing locked.
            await asyncio.sleep(max(0.0, arrived + 6.5 - time.monotonic()))
            assert wechat_locked(await wechat.statuses()), "no lock ever reached WeChat"

            async def agree() -> bool:
                return await ledger_locked(stub) == wechat_locked(await wechat.statuses())

            await eventually(agree, within=20)
            await asyncio.sleep(1)  # and it stays so
            assert await agree()


async def test_a_hundred_replays_of_a_lost_answer_write_once(stub: Stub, sandbox: Sandbox) -> None:
    """An unlock whose answer was lost, then replayed by a hundred callers at once: all get
    the same answer, and WeChat sees the write exactly once."""
    invoice = SYNTHETIC[10]
    sandbox.emulator.add_invoice(
        SandboxInvoice(invoice.card_id, invoice.encrypt_code, invoice.holder, invoice.payload)
    )
    await stub.ImportInvoices(import_request([invoice], "EXP-REPLAY"))
    request = invoice_service_pb2.UpdateStatusRequest(
        account="sandbox", request_id=str(uuid.uuid4()), invoice=ref(invoice), status=INIT
    )
    sandbox.inject("updateinvoicestatus", FaultKind.APPLY_THEN_DROP, times=1)
    lost = await failure_of(stub.UpdateStatus(request))
    assert lost.code is grpc.StatusCode.UNAVAILABLE
    writes = sandbox.emulator.stats.count("updateinvoicestatus")
    replies = await asyncio.gather(*(stub.UpdateStatus(request, timeout=30) for _ in range(100)))
    assert len({r.SerializeToString() for r in replies}) == 1
    assert replies[0].change.status == INIT
    assert sandbox.emulator.stats.count("updateinvoicestatus") == writes == 1


async def test_the_database_going_away_and_coming_back(
    sandbox: Sandbox, database_url: str, tmp_path
) -> None:
    """While the ledger is unreachable: UNAVAILABLE with RetryInfo (never INTERNAL), nothing
    sent to WeChat; a write WeChat applied just before the ledger went away is settled when
    it comes back; then everything works, nothing lost."""
    for invoice in SYNTHETIC[20:24]:
        sandbox.emulator.add_invoice(
            SandboxInvoice(invoice.card_id, invoice.encrypt_code, invoice.holder, invoice.payload)
        )
    fast = LedgerSettings(
        connect_timeout_seconds=1, statement_timeout_seconds=2, pool_timeout_seconds=1
    )
    if database_url.startswith("sqlite"):
        outage = _SqliteOutage(database_url)
        settings = gateway_settings(database_url=database_url, ledger=fast)
        await _outage_scenario(sandbox, settings, outage.begin, outage.end)
        return
    async with proxied(database_url.replace("+asyncpg", "")) as proxy:
        url = proxy.url(database_url)
        settings = gateway_settings(database_url=url, ledger=fast)

        async def begin() -> None:
            proxy.cut()

        async def end() -> None:
            proxy.restore()

        await _outage_scenario(sandbox, settings, begin, end)


class _SqliteOutage:
    """SQLite cannot be unplugged; another process holding its write lock is what an
    unusable embedded ledger looks like to the gateway (writes time out)."""

    def __init__(self, url: str) -> None:
        self._path = url.split("///", 1)[1]
        self._holder: sqlite3.Connection | None = None

    async def begin(self) -> None:
        # From a thread: the gateway shares this event loop and may be mid-write, and must be
        # able to finish for the lock to be had.
        def take() -> sqlite3.Connection:
            holder = sqlite3.connect(
                self._path, isolation_level=None, timeout=30, check_same_thread=False
            )
            holder.execute("BEGIN EXCLUSIVE")
            return holder

        self._holder = await asyncio.to_thread(take)

    async def end(self) -> None:
        holder = self._holder
        assert holder is not None
        await asyncio.to_thread(holder.execute, "ROLLBACK")
        holder.close()


async def _outage_scenario(sandbox: Sandbox, settings: Settings, begin: Step, end: Step) -> None:
    gateway = await start_gateway(settings, sandbox=sandbox)
    try:
        async with auth.channel(gateway.address, gateway.callers.development_key) as channel:
            stub = auth_stub(channel)
            first, second, third = SYNTHETIC[20], SYNTHETIC[21], SYNTHETIC[22]
            await stub.ImportInvoices(import_request([first, second, third], "EXP-OUTAGE"))
            writes = sandbox.emulator.stats.count("updateinvoicestatus")

            await begin()
            down = await failure_of(
                stub.UpdateStatus(_unlock_request(first, "outage-1"), timeout=20)
            )
            assert down.code is grpc.StatusCode.UNAVAILABLE, down
            assert down.info.reason == "LEDGER_UNAVAILABLE"
            assert "RetryInfo" in down.detail_types
            assert sandbox.emulator.stats.count("updateinvoicestatus") == writes  # nothing sent
            await end()

            # Comes back: the same request goes through.
            changed = await stub.UpdateStatus(_unlock_request(first, "outage-1"), timeout=20)
            assert changed.change.status == INIT

            # WeChat applies a write, then the ledger goes away before it is recorded.
            sandbox.inject("updateinvoicestatus", FaultKind.APPLY_THEN_DELAY, 4000, times=1)
            pending = asyncio.ensure_future(
                stub.UpdateStatus(_unlock_request(second, "outage-2"), timeout=30)
            )
            await eventually(
                lambda: (
                    sandbox.emulator.status_of(second.card_id, second.encrypt_code).value
                    == "INVOICE_REIMBURSE_INIT"
                )
            )
            await begin()
            try:
                stuck = await failure_of(pending)
            finally:
                await end()
            assert stuck.code is grpc.StatusCode.UNAVAILABLE, stuck
            writes = sandbox.emulator.stats.count("updateinvoicestatus")
            settled = await stub.UpdateStatus(_unlock_request(second, "outage-2"), timeout=30)
            assert settled.change.status == INIT
            assert sandbox.emulator.stats.count("updateinvoicestatus") == writes  # no 2nd write
            found = await stub.SearchInvoices(
                invoice_service_pb2.SearchInvoicesRequest(account="sandbox", biz_code="EXP-OUTAGE")
            )
            assert {i.invoice.ref.card_id: i.invoice.reimburse_status for i in found.invoices} == {
                first.card_id: INIT,
                second.card_id: INIT,
                third.card_id: LOCK,
            }
    finally:
        await gateway.stop(0)


def auth_stub(channel: grpc.aio.Channel) -> Stub:
    from fapiao.v1 import invoice_service_pb2_grpc

    return invoice_service_pb2_grpc.InvoiceServiceStub(channel)


def _unlock_request(
    invoice: SandboxInvoice, request_id: str
) -> invoice_service_pb2.UpdateStatusRequest:
    return invoice_service_pb2.UpdateStatusRequest(
        account="sandbox", request_id=request_id, invoice=ref(invoice), status=INIT
    )


async def test_redis_going_away_and_coming_back(
    sandbox: Sandbox, redis_url: str, prefix: str, tmp_path
) -> None:
    """Tokens are shared through Redis; with Redis gone, calls go on (each process fetches
    for itself, and says so in its log); when it is back, it is used again."""
    async with proxied(redis_url) as proxy:
        settings = gateway_settings(
            token_store="redis",
            redis_url=proxy.url(redis_url),
            redis_prefix=prefix,
            redis_timeout_seconds=0.5,
        )
        gateway = await start_gateway(settings, sandbox=sandbox)
        try:
            async with auth.channel(gateway.address, gateway.callers.development_key) as ch:
                stub = auth_stub(ch)
                get = invoice_service_pb2.GetInvoiceRequest(
                    account="sandbox", invoice=ref(seed.invoices()[0])
                )
                proxy.cut()
                began = time.monotonic()
                assert (await stub.GetInvoice(get, timeout=10)).invoice.total_fen > 0
                assert time.monotonic() - began < 5
                proxy.restore()
                sandbox.emulator.invalidate_tokens(seed.PRIMARY.appid)  # force a new fetch
                assert (await stub.GetInvoice(get, timeout=10)).invoice.total_fen > 0
        finally:
            await gateway.stop(0)


async def test_racing_imports_never_leave_an_invoice_held_by_two_reports(
    sandbox: Sandbox, database_url: str
) -> None:
    """Issue 10's race, end to end: import A's lock is applied but its answer lost while
    import B of the same invoice runs, then a third import C tries. Before intents, A's
    rollback released B's lock and C locked it too: two reports told OK. Now exactly one
    report holds each invoice, WeChat and the ledger agree, and callers retrying what they
    were told to retry (ABORTED with RetryInfo) get a definite answer."""
    rng = random.Random(7)
    picked = seed.synthetic(8, start=300)
    for invoice in picked:
        sandbox.emulator.add_invoice(invoice)
    settings = gateway_settings(database_url=database_url)
    gateway = await start_gateway(settings, sandbox=sandbox)
    try:
        async with auth.channel(gateway.address, gateway.callers.development_key) as channel:
            stub = auth_stub(channel)
            for trial, invoice in enumerate(picked):
                held_by: set[str] = set()
                sandbox.faults.clear()
                sandbox.inject("updatestatusbatch", FaultKind.APPLY_THEN_DROP, times=1)
                sandbox.inject(
                    "*", FaultKind.LATENCY, rng.randrange(1, 40), times=0, probability=0.5
                )

                async def importer(
                    report: str,
                    delay: float,
                    invoice: SandboxInvoice = invoice,
                    trial: int = trial,
                    held_by: set[str] = held_by,
                ) -> None:
                    await asyncio.sleep(delay)
                    request = import_request(
                        [invoice], f"EXP-{report}-{trial}", f"{report}-{trial}"
                    )
                    for _ in range(100):
                        try:
                            await stub.ImportInvoices(request, timeout=20)
                        except grpc.aio.AioRpcError as error:
                            failure = decode(error)
                            if failure.code in (
                                grpc.StatusCode.ABORTED,
                                grpc.StatusCode.UNAVAILABLE,
                            ):
                                await asyncio.sleep(0.1)  # what RetryInfo asks for, shortened
                                continue
                            assert failure.code is grpc.StatusCode.ALREADY_EXISTS, failure
                            return
                        held_by.add(report)
                        return
                    raise AssertionError(f"{report} never got a definite answer")

                await asyncio.gather(
                    importer("A", 0),
                    importer("B", rng.random() * 0.05),
                    importer("C", 0.2 + rng.random() * 0.2),
                )
                assert len(held_by) == 1, (trial, held_by)
                status, owner = (
                    sandbox.emulator.invoices[(invoice.card_id, invoice.encrypt_code)].status,
                    sandbox.emulator.invoices[(invoice.card_id, invoice.encrypt_code)].lock_owner,
                )
                found = await stub.SearchInvoices(
                    invoice_service_pb2.SearchInvoicesRequest(
                        account="sandbox", invoice_number=invoice.payload["user_info"]["billing_no"]
                    )
                )
                (row,) = found.invoices
                assert (status.value, owner) == ("INVOICE_REIMBURSE_LOCK", seed.PRIMARY.appid)
                assert row.invoice.reimburse_status == LOCK
                assert row.biz_code == f"EXP-{held_by.pop()}-{trial}"
    finally:
        await gateway.stop(0)
