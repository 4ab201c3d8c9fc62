"""The archive end to end: an invoice imported in the sandbox has its PDF downloaded in the
background, checked and kept by SHA-256; GetInvoiceDocument streams back the very bytes the
sandbox served. A corrupt or failing download is retried, reported, and never archived."""

import hashlib
import uuid
from collections.abc import AsyncIterator

import grpc
import pytest
from fapiao.v1 import invoice_pb2, invoice_service_pb2
from fapiao_gateway.bootstrap import Gateway
from fapiao_gateway.config import ArchiveSettings
from fapiao_gateway.sandbox import seed
from fapiao_gateway.sandbox.app import Sandbox
from fapiao_gateway.sandbox.emulator import SandboxInvoice
from fapiao_gateway.sandbox.faults import FaultKind
from fapiao_gateway.sandbox.pdfs import invoice_pdf

from tests.conftest import GatewayFactory
from tests.rpc import Stub, decode, failure_of
from tests.support import auth, scratch
from tests.support.metrics import scrape
from tests.support.waiting import eventually

INVOICE = seed.invoices()[0]  # pdf_url ...&media_id=sandbox-14869350
SERVED = invoice_pdf("sandbox-14869350")
C = grpc.StatusCode


def ref(invoice: SandboxInvoice) -> invoice_pb2.InvoiceRef:
    return invoice_pb2.InvoiceRef(card_id=invoice.card_id, encrypt_code=invoice.encrypt_code)


def archive(**overrides: object) -> ArchiveSettings:
    options: dict[str, object] = {
        "directory": str(scratch.directory() / "archive"),
        "interval_seconds": 0.05,
        "retry_base_seconds": 0.05,
        "retry_max_seconds": 0.1,
        "chunk_bytes": 1024,
    }
    return ArchiveSettings(**(options | overrides))


@pytest.fixture
async def archiving(make_gateway: GatewayFactory) -> Gateway:
    return await make_gateway(archive=archive(max_attempts=3), http_listen="127.0.0.1:0")


@pytest.fixture
async def stub(archiving: Gateway) -> AsyncIterator[Stub]:
    async with auth.channel(archiving.address, archiving.callers.development_key) as channel:
        yield Stub(channel)


async def imported(stub: Stub, invoice: SandboxInvoice = INVOICE) -> None:
    await stub.ImportInvoices(
        invoice_service_pb2.ImportInvoicesRequest(
            account="sandbox",
            request_id=str(uuid.uuid4()),
            biz_code="EXP-ARCHIVE",
            invoices=[ref(invoice)],
        )
    )


def document_request(
    invoice: SandboxInvoice = INVOICE,
) -> invoice_service_pb2.GetInvoiceDocumentRequest:
    return invoice_service_pb2.GetInvoiceDocumentRequest(account="sandbox", invoice=ref(invoice))


async def read_document(
    stub: Stub, invoice: SandboxInvoice = INVOICE
) -> tuple[invoice_service_pb2.InvoiceDocumentInfo, bytes]:
    messages = [m async for m in stub.GetInvoiceDocument(document_request(invoice))]
    return messages[0].document, b"".join(m.data for m in messages)


async def reason_now(stub: Stub) -> str:
    """ARCHIVED, or the reason GetInvoiceDocument gives for not streaming it."""
    try:
        await read_document(stub)
    except grpc.aio.AioRpcError as error:
        return decode(error).info.reason
    return "ARCHIVED"


async def test_an_imported_invoice_pdf_reads_back_byte_for_byte(
    stub: Stub, sandbox: Sandbox
) -> None:
    await imported(stub)

    async def archived() -> bool:
        return await reason_now(stub) == "ARCHIVED"

    await eventually(archived)
    info, data = await read_document(stub)

    assert data == SERVED
    assert info.sha256 == hashlib.sha256(data).hexdigest() == hashlib.sha256(SERVED).hexdigest()
    assert info.size_bytes == len(SERVED)
    assert info.content_type == "application/pdf"
    assert info.kind == invoice_service_pb2.INVOICE_DOCUMENT_KIND_INVOICE
    assert info.fetch_time.seconds > 0
    messages = [m async for m in stub.GetInvoiceDocument(document_request())]
    assert len(messages) == -(-len(SERVED) // 1024)  # in chunks of the configured size
    assert [m.HasField("document") for m in messages] == [True] + [False] * (len(messages) - 1)
    assert sandbox.emulator.stats.count("getpdf") == 1


async def test_the_archive_shows_in_the_metrics(stub: Stub, archiving: Gateway) -> None:
    await imported(stub)

    async def counted() -> bool:
        return (await scrape(archiving.http_port)).value(
            "fapiao_archive_documents", state="ARCHIVED"
        ) == 1

    await eventually(counted)
    metrics = await scrape(archiving.http_port)
    assert metrics.value("fapiao_archive_bytes") == len(SERVED)
    assert metrics.value("fapiao_archive_downloads_total", outcome="archived") == 1
    assert metrics.value("fapiao_archive_documents", state="PENDING") == 0


async def test_a_corrupt_download_is_retried_reported_and_never_archived(
    stub: Stub, sandbox: Sandbox
) -> None:
    sandbox.inject("getpdf", FaultKind.MALFORMED, times=0)  # every download cut in half
    await imported(stub)

    async def failed() -> bool:
        return await reason_now(stub) == "DOCUMENT_FETCH_FAILED"

    await eventually(failed)
    failure = await failure_of(read_document(stub))
    assert failure.code is C.NOT_FOUND
    assert failure.info.metadata["fetch_error"] == "PDF_TRUNCATED"
    assert sandbox.emulator.stats.count("getpdf") == 3  # max_attempts, then reported
    assert not list(scratch.directory().glob("archive/??/??/*"))  # nothing stored


async def test_a_download_failing_once_is_retried_and_archived(
    stub: Stub, sandbox: Sandbox
) -> None:
    sandbox.inject("getpdf", FaultKind.HTTP_STATUS, 502, times=1)
    await imported(stub)

    async def archived() -> bool:
        return await reason_now(stub) == "ARCHIVED"

    await eventually(archived)
    assert (await read_document(stub))[1] == SERVED
    assert sandbox.emulator.stats.count("getpdf") == 2


async def test_what_is_not_archived_says_why(stub: Stub) -> None:
    never = await failure_of(read_document(stub, seed.invoices()[5]))
    assert (never.code, never.info.reason) == (C.NOT_FOUND, "DOCUMENT_NOT_ARCHIVED")
    trip = await failure_of(
        _collect(
            stub.GetInvoiceDocument(
                invoice_service_pb2.GetInvoiceDocumentRequest(
                    account="sandbox",
                    invoice=ref(INVOICE),
                    kind=invoice_service_pb2.INVOICE_DOCUMENT_KIND_TRIP,
                )
            )
        )
    )
    assert trip.info.reason == "DOCUMENT_NOT_ARCHIVED"  # it has no trip attachment


async def _collect(stream: object) -> list[object]:
    return [m async for m in stream]  # type: ignore[attr-defined]
