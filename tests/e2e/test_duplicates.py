"""The company-wide duplicate guard end to end: one fapiao imported through the Official
Account, then offered again through the Weixin Work app or the second Official Account, is
refused (ALREADY_EXISTS naming the holder) before anything is locked at WeChat; and a search
across accounts finds it, for callers who may read there."""

import uuid
from collections.abc import AsyncIterator

import grpc
import pytest
from fapiao.v1 import invoice_pb2, invoice_service_pb2
from fapiao_gateway.bootstrap import Gateway, start_gateway
from fapiao_gateway.sandbox import seed
from fapiao_gateway.sandbox.app import Sandbox
from fapiao_gateway.sandbox.emulator import SandboxInvoice

from tests.conftest import gateway_settings
from tests.rpc import Stub, failure_of
from tests.support import auth

INVOICE = seed.invoices()[0]  # code 012001800211, number 14869350
ONE_KEY, ONE_STORED = auth.new_key()
ALL_KEY, ALL_STORED = auth.new_key()
#: May read the partner account only; everything, everywhere.
PARTNER_READER = auth.caller("partner-reader", [seed.PARTNER.appid], ["read"], ONE_STORED)
EVERYONE = auth.caller("finance", ["*"], ["*"], ALL_STORED)


def ref(invoice: SandboxInvoice) -> invoice_pb2.InvoiceRef:
    return invoice_pb2.InvoiceRef(card_id=invoice.card_id, encrypt_code=invoice.encrypt_code)


def import_request(
    account: str, biz_code: str, *, lock: bool
) -> invoice_service_pb2.ImportInvoicesRequest:
    return invoice_service_pb2.ImportInvoicesRequest(
        account=account,
        request_id=str(uuid.uuid4()),
        biz_code=biz_code,
        invoices=[ref(INVOICE)],
        lock=lock,
    )


@pytest.fixture
async def gateway(sandbox: Sandbox) -> AsyncIterator[Gateway]:
    settings = gateway_settings(
        auth_secret=auth.TEST_AUTH_SECRET, callers=[PARTNER_READER, EVERYONE]
    )
    running = await start_gateway(settings, sandbox=sandbox)
    yield running
    await running.stop(0)


@pytest.fixture
async def stub(gateway: Gateway) -> AsyncIterator[Stub]:
    async with auth.channel(gateway.address, ALL_KEY) as channel:
        yield Stub(channel)


@pytest.mark.parametrize("second", ["sandbox-corp", "sandbox-partner"])
async def test_the_same_fapiao_through_another_account_is_refused_unlocked(
    stub: Stub, sandbox: Sandbox, second: str
) -> None:
    first = await stub.ImportInvoices(import_request("sandbox", "EXP-OA", lock=True))
    holder = first.invoices[0]
    writes = sandbox.emulator.stats.count("updatestatusbatch")
    assert writes == 1

    failure = await failure_of(stub.ImportInvoices(import_request(second, "EXP-2", lock=True)))

    assert failure.code is grpc.StatusCode.ALREADY_EXISTS
    assert failure.info.reason == "INVOICE_DUPLICATE"
    assert (
        dict(failure.info.metadata).items()
        >= {
            "biz_code": "EXP-OA",
            "holder_account": seed.PRIMARY.appid,
            "holder_import_time": holder.import_time.ToDatetime().isoformat() + "+00:00",
            "tax_identity": "012001800211:14869350",
        }.items()
    )
    assert failure.details["ResourceInfo"].owner == "bizCode:EXP-OA"
    assert sandbox.emulator.stats.count("updatestatusbatch") == writes  # no lock written
    lock_owner = sandbox.emulator.invoices[(INVOICE.card_id, INVOICE.encrypt_code)].lock_owner
    assert lock_owner == seed.PRIMARY.appid
    # Without a lock, too: the ledger never stores the fapiao twice.
    again = await failure_of(stub.ImportInvoices(import_request(second, "EXP-3", lock=False)))
    assert again.info.reason == "INVOICE_DUPLICATE"


async def test_a_search_across_accounts_finds_the_fapiao_where_the_caller_may_read(
    gateway: Gateway, stub: Stub
) -> None:
    await stub.ImportInvoices(import_request("sandbox", "EXP-OA", lock=False))
    find = invoice_service_pb2.SearchInvoicesRequest(
        all_accounts=True, invoice_code="012001800211", invoice_number="14869350"
    )
    found = await stub.SearchInvoices(find)
    assert [(i.account, i.biz_code) for i in found.invoices] == [(seed.PRIMARY.appid, "EXP-OA")]
    assert found.total_size == 1
    async with auth.channel(gateway.address, ONE_KEY) as channel:
        elsewhere = await Stub(channel).SearchInvoices(find)
    assert list(elsewhere.invoices) == []  # the partner reader may not see the primary's

    no_code = await failure_of(
        stub.SearchInvoices(
            invoice_service_pb2.SearchInvoicesRequest(all_accounts=True, invoice_number="1486")
        )
    )
    assert no_code.code is grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in no_code.details["BadRequest"].field_violations] == ["invoice_code"]
    named = await failure_of(
        stub.SearchInvoices(
            invoice_service_pb2.SearchInvoicesRequest(
                account="sandbox", all_accounts=True, invoice_number="14869350"
            )
        )
    )
    assert named.code is grpc.StatusCode.INVALID_ARGUMENT
