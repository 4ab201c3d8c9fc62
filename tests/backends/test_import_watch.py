"""WatchImport on both ledgers: the invoices already imported, then each one as it is imported,
then the end of an expired session; across two replicas through PostgreSQL LISTEN/NOTIFY and
through Redis pub/sub."""

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from fapiao.v1 import import_watch_pb2, invoice_pb2, invoice_service_pb2, invoice_service_pb2_grpc
from fapiao_gateway.bootstrap import Gateway, start_gateway
from fapiao_gateway.ledger.engine import create_engine
from fapiao_gateway.sandbox import seed
from fapiao_gateway.sandbox.app import Sandbox
from sqlalchemy import text

from tests.backends.conftest import POSTGRES_URL, postgres_database
from tests.conftest import gateway_settings
from tests.rpc import Stub

pb = invoice_service_pb2
watch_pb = import_watch_pb2


def ref(index: int) -> invoice_pb2.InvoiceRef:
    invoice = seed.invoices()[index]
    return invoice_pb2.InvoiceRef(card_id=invoice.card_id, encrypt_code=invoice.encrypt_code)


def key_of(gateway: Gateway) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {gateway.callers.development_key}"),)


async def open_session(stub: Stub, biz_code: str) -> None:
    await stub.IssueImportQr(
        pb.IssueImportQrRequest(account="sandbox", request_id=str(uuid.uuid4()), biz_code=biz_code)
    )


async def import_one(stub: Stub, biz_code: str, index: int) -> None:
    await stub.ImportInvoices(
        pb.ImportInvoicesRequest(account="sandbox", biz_code=biz_code, invoices=[ref(index)])
    )


async def next_event(watch: Any) -> watch_pb.WatchImportResponse:
    """The stream's next message (not its end)."""
    event = await watch.read()
    assert isinstance(event, watch_pb.WatchImportResponse), event
    return event


def card_of(event: watch_pb.WatchImportResponse) -> str:
    assert event.WhichOneof("event") == "invoice", event
    return event.invoice.invoice.ref.card_id


async def test_the_watch_reports_what_was_imported_then_each_import_as_it_lands(
    stub: Stub, gateway: Gateway
) -> None:
    await open_session(stub, "WATCH-LIVE")
    await import_one(stub, "WATCH-LIVE", 0)
    watch = stub.WatchImport(
        watch_pb.WatchImportRequest(account="sandbox", biz_code="WATCH-LIVE"),
        metadata=key_of(gateway),
    )
    try:
        assert card_of(await next_event(watch)) == seed.invoices()[0].card_id
        await import_one(stub, "WATCH-LIVE", 5)
        arrived = await next_event(watch)
        assert card_of(arrived) == seed.invoices()[5].card_id
        assert arrived.invoice.biz_code == "WATCH-LIVE"
        assert arrived.invoice.invoice.total_fen == seed.invoices()[5].payload["user_info"]["fee"]
        await import_one(stub, "WATCH-ELSEWHERE", 6)  # another bizCode: not reported
        await import_one(stub, "WATCH-LIVE", 0)  # again: already reported, not repeated
        await import_one(stub, "WATCH-LIVE", 6)  # moved here (INIT): reported
        assert card_of(await next_event(watch)) == seed.invoices()[6].card_id
    finally:
        watch.cancel()


async def test_an_expired_session_ends_the_stream_after_its_invoices(
    stub: Stub, gateway: Gateway, database_url: str
) -> None:
    await open_session(stub, "WATCH-EXPIRED")
    await import_one(stub, "WATCH-EXPIRED", 0)
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE import_sessions SET expire_us = 0 WHERE biz_code = 'WATCH-EXPIRED'")
            )
    finally:
        await engine.dispose()
    events = [
        event
        async for event in stub.WatchImport(
            watch_pb.WatchImportRequest(account="sandbox", biz_code="WATCH-EXPIRED"),
            metadata=key_of(gateway),
        )
    ]
    assert [e.WhichOneof("event") for e in events] == ["invoice", "end"]
    end = events[1].end
    assert end.reason == watch_pb.IMPORT_SESSION_END_REASON_EXPIRED
    assert end.invoice_count == 1 and end.end_time.ToMicroseconds() == 0


async def test_a_biz_code_without_a_session_is_not_found(stub: Stub, gateway: Gateway) -> None:
    watch = stub.WatchImport(
        watch_pb.WatchImportRequest(account="sandbox", biz_code="NO-SUCH-SESSION"),
        metadata=key_of(gateway),
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await next_event(watch)
    assert refused.value.code() is grpc.StatusCode.NOT_FOUND


@pytest.fixture(params=["postgresql", "redis"])
async def replicas(
    request: pytest.FixtureRequest, sandbox: Sandbox, tmp_path, prefix: str
) -> AsyncIterator[tuple[Gateway, Gateway]]:
    """Two gateways sharing one ledger, announcing imports through PostgreSQL or Redis."""
    async with contextlib.AsyncExitStack() as stack:
        if request.param == "postgresql":
            if not POSTGRES_URL:
                pytest.skip("set FAPIAO_TEST_POSTGRES_URL to watch across PostgreSQL replicas")
            database_url = await stack.enter_async_context(postgres_database())
            options: dict[str, object] = {"import_signals": "postgresql"}
        else:
            database_url = f"sqlite+aiosqlite:///{tmp_path}/shared.db"
            redis_url = request.getfixturevalue("redis_url")
            options = {"import_signals": "redis", "redis_url": redis_url, "redis_prefix": prefix}
        started = []
        for _ in range(2):
            running = await start_gateway(
                gateway_settings(database_url=database_url, **options), sandbox=sandbox
            )
            stack.push_async_callback(running.stop, 0)
            started.append(running)
        yield started[0], started[1]


async def test_an_import_on_one_replica_reaches_a_watch_on_another(
    replicas: tuple[Gateway, Gateway],
) -> None:
    watching, importing = replicas
    async with (
        grpc.aio.insecure_channel(watching.address) as left,
        grpc.aio.insecure_channel(importing.address) as right,
    ):
        watcher = invoice_service_pb2_grpc.InvoiceServiceStub(left)
        importer = invoice_service_pb2_grpc.InvoiceServiceStub(right)
        await importer.IssueImportQr(
            pb.IssueImportQrRequest(account="sandbox", biz_code="WATCH-FLEET"),
            metadata=key_of(importing),
        )
        watch = watcher.WatchImport(
            watch_pb.WatchImportRequest(account="sandbox", biz_code="WATCH-FLEET"),
            metadata=key_of(watching),
        )
        try:
            await importer.ImportInvoices(
                pb.ImportInvoicesRequest(
                    account="sandbox", biz_code="WATCH-FLEET", invoices=[ref(0)]
                ),
                metadata=key_of(importing),
            )
            assert card_of(await next_event(watch)) == seed.invoices()[0].card_id
        finally:
            watch.cancel()
