"""What real reimbursements carry, through the generated client: fractional quantities, unit
prices with fractions of a fen, and the card's state (an expired card cannot be imported)."""

from decimal import Decimal

import grpc
from fapiao.v1 import invoice_pb2, invoice_service_pb2
from fapiao_gateway.domain.status import ReimburseStatus
from fapiao_gateway.sandbox import seed
from fapiao_gateway.sandbox.app import Sandbox
from fapiao_gateway.sandbox.emulator import SandboxInvoice

from tests.rpc import Stub, failure_of, seeded

FUEL = seeded("pFu3Lq7Pe2Tr0Ol5Ga9Sd4Zx6Cv1")
ELECTRICITY = seeded("pEl8Wa2Tt5Kw9Hh1Ss3Dd7Ff0Gg4")
EXPIRED = seeded("pjZ8Yt5crPbAouhFqFf6JFgZv4Lc")
SNACKS = seed.invoices()[1]
CANCELLED = next(i for i in seed.invoices() if i.status is ReimburseStatus.CANCEL)
WRITES = ("updateinvoicestatus", "updatestatusbatch")


def ref(invoice: SandboxInvoice) -> invoice_pb2.InvoiceRef:
    return invoice_pb2.InvoiceRef(card_id=invoice.card_id, encrypt_code=invoice.encrypt_code)


async def get(stub: Stub, invoice: SandboxInvoice) -> invoice_pb2.Invoice:
    reply = await stub.GetInvoice(
        invoice_service_pb2.GetInvoiceRequest(account="sandbox", invoice=ref(invoice))
    )
    return reply.invoice


def import_request(*invoices: SandboxInvoice, biz_code: str, lock: bool = False):
    return invoice_service_pb2.ImportInvoicesRequest(
        account="sandbox", biz_code=biz_code, invoices=[ref(i) for i in invoices], lock=lock
    )


def writes(sandbox: Sandbox) -> int:
    return sum(sandbox.emulator.stats.count(endpoint) for endpoint in WRITES)


async def test_a_fuel_invoice_reads_its_fractional_quantity_and_half_fen_price_exactly(
    stub: Stub,
) -> None:
    (line,) = (await get(stub, FUEL)).lines
    assert (line.quantity_decimal, line.unit_price_fen_decimal) == ("35.27", "650.5")
    assert line.unit == "升" and line.amount_fen == 22943
    assert Decimal(line.quantity_decimal) * Decimal(line.unit_price_fen_decimal) == Decimal(
        "22943.135"
    )
    # The deprecated integer fields: no integer quantity, the price rounded half up.
    assert not line.HasField("quantity") and line.unit_price_fen == 651


async def test_quantities_and_prices_sent_as_strings_read_the_same(stub: Stub) -> None:
    (line,) = (await get(stub, ELECTRICITY)).lines
    assert (line.quantity_decimal, line.unit_price_fen_decimal) == ("152.5", "53.2035")
    assert line.amount_fen == 8114


async def test_whole_quantities_fill_the_deprecated_fields_too(stub: Stub) -> None:
    (line,) = (await get(stub, SNACKS)).lines
    assert (line.quantity_decimal, line.unit_price_fen_decimal) == ("2", "677")
    assert (line.quantity, line.unit_price_fen) == (2, 677)


async def test_imported_and_searched_invoices_keep_the_exact_values(stub: Stub) -> None:
    imported = await stub.ImportInvoices(import_request(FUEL, ELECTRICITY, biz_code="FUEL-1"))
    found = await stub.SearchInvoices(
        invoice_service_pb2.SearchInvoicesRequest(account="sandbox", biz_code="FUEL-1")
    )
    for invoices in (imported.invoices, found.invoices):
        lines = {
            i.invoice.ref.card_id: (
                i.invoice.lines[0].quantity_decimal,
                i.invoice.lines[0].unit_price_fen_decimal,
            )
            for i in invoices
        }
        assert lines == {
            FUEL.card_id: ("35.27", "650.5"),
            ELECTRICITY.card_id: ("152.5", "53.2035"),
        }


async def test_the_card_status_is_part_of_the_invoice(stub: Stub) -> None:
    assert (await get(stub, EXPIRED)).card_status == invoice_pb2.CARD_STATUS_EXPIRED
    assert (await get(stub, FUEL)).card_status == invoice_pb2.CARD_STATUS_NORMAL
    assert (await get(stub, SNACKS)).card_status == invoice_pb2.CARD_STATUS_UNSPECIFIED


async def test_importing_an_expired_card_is_refused_with_no_upstream_write(
    stub: Stub, sandbox: Sandbox
) -> None:
    failure = await failure_of(
        stub.ImportInvoices(import_request(SNACKS, EXPIRED, biz_code="EXP-OLD", lock=True))
    )
    assert failure.code is grpc.StatusCode.FAILED_PRECONDITION
    assert failure.info.reason == "INVOICE_NOT_REIMBURSABLE"
    (violation,) = failure.details["PreconditionFailure"].violations
    assert violation.type == "CARD_EXPIRE"
    assert violation.subject == f"{EXPIRED.card_id}/{EXPIRED.encrypt_code}"
    assert writes(sandbox) == 0
    assert sandbox.emulator.status_of(SNACKS.card_id, SNACKS.encrypt_code) is ReimburseStatus.INIT
    found = await stub.SearchInvoices(
        invoice_service_pb2.SearchInvoicesRequest(account="sandbox", biz_code="EXP-OLD")
    )
    assert list(found.invoices) == []


async def test_a_card_deleted_by_its_user_and_a_red_flushed_invoice_are_refused(
    stub: Stub, sandbox: Sandbox
) -> None:
    sandbox.emulator.change_behind_the_back(
        SNACKS.card_id, SNACKS.encrypt_code, card_status="DELETE"
    )
    for invoice, kind in ((SNACKS, "CARD_DELETE"), (CANCELLED, "INVOICE_CANCELLED")):
        failure = await failure_of(stub.ImportInvoices(import_request(invoice, biz_code="EXP-X")))
        assert failure.code is grpc.StatusCode.FAILED_PRECONDITION
        assert [v.type for v in failure.details["PreconditionFailure"].violations] == [kind]
    assert writes(sandbox) == 0
