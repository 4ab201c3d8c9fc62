"""GetInvoice through the generated client against a real server and the sandbox."""

import grpc
import pytest
from fapiao.v1 import invoice_pb2, invoice_service_pb2
from fapiao_gateway.sandbox import seed

from tests.rpc import Stub, failure_of

DAIRY = seed.invoices()[0]
DIGITAL = next(i for i in seed.invoices() if i.payload["user_info"].get("billing_code") == "")
MINIMAL = next(i for i in seed.invoices() if "info" not in i.payload["user_info"])
SAMPLE = next(i for i in seed.invoices() if i.status_key != "reimburse_status")


def request(invoice=DAIRY, account="sandbox") -> invoice_service_pb2.GetInvoiceRequest:
    return invoice_service_pb2.GetInvoiceRequest(
        account=account,
        invoice=invoice_pb2.InvoiceRef(card_id=invoice.card_id, encrypt_code=invoice.encrypt_code),
    )


async def test_reads_a_seeded_invoice_with_every_field(stub: Stub) -> None:
    invoice = (await stub.GetInvoice(request())).invoice

    assert invoice.ref.card_id == DAIRY.card_id
    assert invoice.ref.encrypt_code == DAIRY.encrypt_code
    assert invoice.reimburse_status == invoice_pb2.REIMBURSE_STATUS_INIT
    assert invoice.invoice_type == "增值税电子普通发票"
    assert invoice.payee == "天津瑞佳讯贸易有限公司"
    assert (invoice.total_fen, invoice.amount_without_tax_fen, invoice.tax_fen) == (5085, 4384, 701)
    assert (invoice.invoice_code, invoice.invoice_number) == ("012001800211", "14869350")
    assert invoice.billing_date == "2018-11-09"
    assert invoice.billing_time.ToSeconds() == 1541728800
    assert invoice.valid_from.ToSeconds() == 1541692800
    assert invoice.check_code == "46851097412677946076"
    assert invoice.seller_tax_number == "91120222079642398Y"
    assert invoice.buyer_tax_number == ""
    assert invoice.trip_pdf_url == "" and invoice.remarks == ""  # null upstream
    assert [line.unit_price_fen for line in invoice.lines] == [9483, -5099]
    assert not invoice.lines[0].HasField("quantity")  # null upstream
    assert invoice.openid.startswith("o") and len(invoice.openid) == 28


async def test_reads_a_fully_digital_invoice(stub: Stub) -> None:
    invoice = (await stub.GetInvoice(request(DIGITAL))).invoice

    assert len(invoice.invoice_number) == 20
    assert invoice.invoice_code == "" and invoice.check_code == ""
    assert [(line.unit_price_fen, line.amount_fen) for line in invoice.lines] == [
        (33774, 33774),
        (0, 0),
    ]
    assert invoice.lines[1].HasField("amount_fen")  # zero, not absent


async def test_reads_an_invoice_with_every_optional_field_absent(
    stub: Stub,
) -> None:
    invoice = (await stub.GetInvoice(request(MINIMAL))).invoice

    assert invoice.total_fen == 2000
    assert list(invoice.lines) == []
    assert not invoice.HasField("valid_from")
    assert invoice.payee == "" and invoice.seller_tax_number == ""


async def test_reads_wechats_own_sample_with_its_quirky_status_key(
    stub: Stub,
) -> None:
    invoice = (await stub.GetInvoice(request(SAMPLE))).invoice

    assert invoice.reimburse_status == invoice_pb2.REIMBURSE_STATUS_INIT
    assert invoice.total_fen == 1100


async def test_the_account_can_be_named_by_appid(stub: Stub) -> None:
    invoice = (await stub.GetInvoice(request(account=seed.PRIMARY.appid))).invoice
    assert invoice.ref.card_id == DAIRY.card_id


async def test_openid_is_per_account(stub: Stub) -> None:
    primary = (await stub.GetInvoice(request(account="sandbox"))).invoice
    partner = (await stub.GetInvoice(request(account="sandbox-partner"))).invoice
    assert primary.openid != partner.openid


async def test_unknown_invoice_is_not_found_with_the_resource(
    stub: Stub,
) -> None:
    bad = invoice_service_pb2.GetInvoiceRequest(
        account="sandbox",
        invoice=invoice_pb2.InvoiceRef(card_id=DAIRY.card_id, encrypt_code="bm8tc3VjaC1pbnZvaWNl"),
    )
    failure = await failure_of(stub.GetInvoice(bad))

    assert failure.code is grpc.StatusCode.NOT_FOUND
    assert failure.detail_types == ["ErrorInfo", "ResourceInfo"]
    assert failure.info.reason == "INVOICE_NOT_FOUND"
    assert failure.info.metadata["wechat_errcode"] == "40056"
    assert failure.info.metadata["account"] == seed.PRIMARY.appid
    assert failure.info.metadata["card_id"] == DAIRY.card_id
    assert failure.details["ResourceInfo"].resource_type == "fapiao.v1.Invoice"
    assert failure.details["ResourceInfo"].resource_name == f"{DAIRY.card_id}/bm8tc3VjaC1pbnZvaWNl"


async def test_unknown_card_id_is_not_found(stub: Stub) -> None:
    bad = invoice_service_pb2.GetInvoiceRequest(
        account="sandbox", invoice=invoice_pb2.InvoiceRef(card_id="pNoSuchCard", encrypt_code="x")
    )
    failure = await failure_of(stub.GetInvoice(bad))
    assert failure.code is grpc.StatusCode.NOT_FOUND
    assert failure.info.metadata["wechat_errcode"] == "40073"


@pytest.mark.parametrize(
    ("account", "ref", "fields"),
    [
        ("sandbox", invoice_pb2.InvoiceRef(card_id="", encrypt_code="x"), ["invoice.card_id"]),
        (
            "sandbox",
            invoice_pb2.InvoiceRef(card_id="x", encrypt_code=" "),
            ["invoice.encrypt_code"],
        ),
        # The account decides what the caller may do: without it nothing else is judged.
        ("", invoice_pb2.InvoiceRef(card_id="", encrypt_code=""), ["account"]),
        (
            "sandbox",
            invoice_pb2.InvoiceRef(card_id="", encrypt_code=""),
            ["invoice.card_id", "invoice.encrypt_code"],
        ),
        ("sandbox", None, ["invoice"]),
        (
            "sandbox",
            invoice_pb2.InvoiceRef(card_id="c" * 129, encrypt_code="x"),
            ["invoice.card_id"],
        ),
        ("no-such-account", invoice_pb2.InvoiceRef(card_id="x", encrypt_code="y"), ["account"]),
    ],
)
async def test_bad_fields_are_invalid_argument_naming_every_field(
    stub: Stub,
    account: str,
    ref: invoice_pb2.InvoiceRef | None,
    fields: list[str],
) -> None:
    bad = invoice_service_pb2.GetInvoiceRequest(account=account, invoice=ref)
    failure = await failure_of(stub.GetInvoice(bad))

    assert failure.code is grpc.StatusCode.INVALID_ARGUMENT
    assert failure.detail_types == ["ErrorInfo", "BadRequest"]
    assert failure.info.reason == "INVALID_REQUEST_FIELDS"
    violations = failure.details["BadRequest"].field_violations
    assert [v.field for v in violations] == fields
    assert all(v.description for v in violations)


async def test_invalid_requests_never_reach_wechat(stub: Stub, sandbox) -> None:
    bad = invoice_service_pb2.GetInvoiceRequest(account="sandbox", invoice=invoice_pb2.InvoiceRef())
    await failure_of(stub.GetInvoice(bad))
    assert sandbox.emulator.stats.count("getinvoiceinfo") == 0
    assert sandbox.emulator.stats.count("stable_token") == 0
