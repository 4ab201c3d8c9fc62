"""fapiao_client against a real gateway: a typed exception for every error family, with the
details as attributes, and the channel factory's key, deadline and retry policy."""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import grpc
import pytest
from fapiao.v1 import invoice_pb2, invoice_service_pb2, invoice_service_pb2_grpc
from fapiao_client import RetryPolicy, aio_channel, channel, errors
from fapiao_client.channel import SERVICE, is_write
from fapiao_gateway.bootstrap import Gateway
from fapiao_gateway.sandbox import seed
from fapiao_gateway.sandbox.app import Sandbox
from fapiao_gateway.sandbox.emulator import SandboxInvoice
from fapiao_gateway.sandbox.faults import FaultKind

from tests.conftest import FAST_UPSTREAM, GatewayFactory
from tests.rpc import Stub
from tests.support import auth

INIT = seed.invoices()[0]
SECOND_INIT = seed.invoices()[5]
THIRD_INIT = seed.invoices()[6]
LOCKED_BY_PARTNER = next(i for i in seed.invoices() if i.lock_owner)
INIT_STATUS = invoice_pb2.ReimburseStatus.REIMBURSE_STATUS_INIT
TRIES = RetryPolicy(max_attempts=3, initial_backoff_seconds=0.01, max_backoff_seconds=0.02)


def ref(invoice: SandboxInvoice) -> invoice_pb2.InvoiceRef:
    return invoice_pb2.InvoiceRef(card_id=invoice.card_id, encrypt_code=invoice.encrypt_code)


def get(invoice: SandboxInvoice = INIT) -> invoice_service_pb2.GetInvoiceRequest:
    return invoice_service_pb2.GetInvoiceRequest(account="sandbox", invoice=ref(invoice))


def unlock(invoice: SandboxInvoice) -> invoice_service_pb2.UpdateStatusRequest:
    """An unlock: allowed for an invoice the gateway has not imported (a lock is not)."""
    return invoice_service_pb2.UpdateStatusRequest(
        account="sandbox", request_id="", invoice=ref(invoice), status=INIT_STATUS
    )


@pytest.fixture
async def client(gateway: Gateway) -> AsyncIterator[Stub]:
    key = gateway.callers.development_key
    async with aio_channel(gateway.address, api_key=key, insecure=True, retry=TRIES) as opened:
        yield invoice_service_pb2_grpc.InvoiceServiceStub(opened)


async def raised(call: object) -> errors.GatewayError:
    with pytest.raises(errors.GatewayError) as caught:
        await call  # type: ignore[misc]
    return caught.value


async def test_invalid_argument_names_the_violated_fields(client: Stub) -> None:
    error = await raised(
        client.GetInvoice(
            invoice_service_pb2.GetInvoiceRequest(
                account="sandbox", invoice=invoice_pb2.InvoiceRef(card_id="", encrypt_code="x")
            )
        )
    )
    assert type(error) is errors.InvalidArgument
    assert (error.reason, error.domain) == ("INVALID_REQUEST_FIELDS", errors.GATEWAY_DOMAIN)
    assert [v.field for v in error.field_violations] == ["invoice.card_id"]
    assert error.field_violations[0].description
    assert error.retry_delay is None and error.wechat_errcode is None
    assert str(error).startswith("INVALID_ARGUMENT INVALID_REQUEST_FIELDS: ")


async def test_not_found_names_the_invoice_and_the_wechat_errcode(client: Stub) -> None:
    missing = invoice_pb2.InvoiceRef(card_id="pNoSuchCard", encrypt_code="x")
    error = await raised(
        client.GetInvoice(invoice_service_pb2.GetInvoiceRequest(account="sandbox", invoice=missing))
    )
    assert type(error) is errors.NotFound
    assert error.reason == "INVOICE_NOT_FOUND"
    assert error.wechat_errcode is not None and error.wechat_errcode > 0
    assert error.resource is not None
    assert error.resource.resource_name == "pNoSuchCard/x"


async def test_a_lock_held_by_another_account_is_a_failed_precondition(client: Stub) -> None:
    error = await raised(client.UpdateStatus(unlock(LOCKED_BY_PARTNER)))
    assert type(error) is errors.FailedPrecondition
    assert (error.reason, error.wechat_errcode) == ("INVOICE_LOCKED_BY_OTHER_ACCOUNT", 72023)
    (violation,) = error.precondition_violations
    assert violation.type == "INVOICE_LOCKED_BY_OTHER_ACCOUNT"
    assert violation.subject == f"{LOCKED_BY_PARTNER.card_id}/{LOCKED_BY_PARTNER.encrypt_code}"
    assert error.resource is not None and error.resource.resource_type == "fapiao.v1.Invoice"
    assert error.holder is None  # WeChat does not say which account holds it


async def test_an_invoice_another_report_holds_names_its_holder(client: Stub) -> None:
    def importing(biz_code: str) -> invoice_service_pb2.ImportInvoicesRequest:
        return invoice_service_pb2.ImportInvoicesRequest(
            account="sandbox", biz_code=biz_code, invoices=[ref(INIT)], lock=True
        )

    await client.ImportInvoices(importing("EXP-1001"))
    error = await raised(client.ImportInvoices(importing("EXP-1002")))
    assert type(error) is errors.AlreadyExists
    assert error.reason == "INVOICE_ALREADY_IMPORTED"
    assert error.holder == "bizCode:EXP-1001"


async def test_unavailable_carries_the_retry_delay_after_the_channel_retried_the_read(
    client: Stub, sandbox: Sandbox
) -> None:
    sandbox.inject("getinvoiceinfo", FaultKind.ERRCODE, -1, times=0)
    error = await raised(client.GetInvoice(get()))
    assert type(error) is errors.Unavailable
    assert (error.reason, error.wechat_errcode) == ("WECHAT_BUSY", -1)
    assert error.retry_delay == timedelta(seconds=1)
    # Every client attempt made the gateway's own bounded attempts upstream.
    calls = sandbox.emulator.stats.count("getinvoiceinfo")
    assert calls == TRIES.max_attempts * FAST_UPSTREAM.max_attempts


async def test_the_channel_retries_a_read_into_success(client: Stub, sandbox: Sandbox) -> None:
    sandbox.inject("getinvoiceinfo", FaultKind.ERRCODE, -1, times=FAST_UPSTREAM.max_attempts)
    reply = await client.GetInvoice(get())
    assert reply.invoice.ref.card_id == INIT.card_id


async def test_the_channel_never_retries_a_write(gateway: Gateway, sandbox: Sandbox) -> None:
    sandbox.inject("updateinvoicestatus", FaultKind.ERRCODE, -1, times=0)
    key = gateway.callers.development_key
    counts = []
    # Two invoices: a write whose answer was lost keeps its invoice claimed until recovery
    # has settled it, so the second channel's write is of another invoice.
    for retry, invoice in ((TRIES, SECOND_INIT), (None, THIRD_INIT)):
        async with aio_channel(gateway.address, api_key=key, insecure=True, retry=retry) as ch:
            before = sandbox.emulator.stats.count("updateinvoicestatus")
            stub = invoice_service_pb2_grpc.InvoiceServiceStub(ch)
            error = await raised(stub.UpdateStatus(unlock(invoice)))
            assert type(error) is errors.Unavailable
            counts.append(sandbox.emulator.stats.count("updateinvoicestatus") - before)
    assert counts[0] == counts[1] > 0


async def test_resource_exhausted_carries_the_quota_and_when_it_refills(
    client: Stub, sandbox: Sandbox
) -> None:
    sandbox.inject("getinvoiceinfo", FaultKind.ERRCODE, 45011, times=0)
    error = await raised(client.GetInvoice(get()))
    assert type(error) is errors.ResourceExhausted
    assert error.reason == "WECHAT_RATE_LIMITED"
    (violation,) = error.quota_violations
    assert violation.subject == f"wechat-account:{seed.PRIMARY.appid}"
    assert error.retry_delay == timedelta(seconds=60)


async def test_an_unknown_errcode_is_unknown_and_keeps_the_errcode(
    client: Stub, sandbox: Sandbox
) -> None:
    sandbox.inject("getinvoiceinfo", FaultKind.ERRCODE, 99999, times=0)
    error = await raised(client.GetInvoice(get()))
    assert type(error) is errors.Unknown
    assert (error.reason, error.wechat_errcode) == ("WECHAT_UNRECOGNIZED_ERRCODE", 99999)


async def test_deadline_exceeded_by_the_channel_deadline(
    gateway: Gateway, sandbox: Sandbox
) -> None:
    sandbox.inject("getinvoiceinfo", FaultKind.LATENCY, 2000, times=0)
    key = gateway.callers.development_key
    async with aio_channel(gateway.address, api_key=key, insecure=True, timeout_seconds=0.2) as ch:
        error = await raised(invoice_service_pb2_grpc.InvoiceServiceStub(ch).GetInvoice(get()))
    assert type(error) is errors.DeadlineExceeded


async def test_unauthenticated_without_a_key(gateway: Gateway) -> None:
    async with aio_channel(gateway.address, insecure=True) as anonymous:
        error = await raised(
            invoice_service_pb2_grpc.InvoiceServiceStub(anonymous).GetInvoice(get())
        )
    assert type(error) is errors.Unauthenticated
    assert error.reason == "CREDENTIAL_INVALID"


async def test_permission_denied_for_an_operation_the_caller_lacks(
    make_gateway: GatewayFactory,
) -> None:
    key, stored = auth.new_key()
    reader = auth.caller("reader", ["sandbox"], ["read"], stored)
    gateway = await make_gateway(auth_secret=auth.TEST_AUTH_SECRET, callers=[reader])
    async with aio_channel(gateway.address, api_key=key, insecure=True) as ch:
        stub = invoice_service_pb2_grpc.InvoiceServiceStub(ch)
        assert (await stub.GetInvoice(get())).invoice.ref.card_id == INIT.card_id
        error = await raised(stub.UpdateStatus(unlock(SECOND_INIT)))
    assert type(error) is errors.PermissionDenied
    assert error.reason == "PERMISSION_DENIED"
    assert error.metadata["operation"] == "unlock"


async def test_unimplemented_without_rich_details(gateway: Gateway) -> None:
    async with aio_channel(gateway.address, insecure=True) as ch:
        call = ch.unary_unary(f"/{SERVICE.full_name}/NoSuchMethod")(b"")  # type: ignore[call-arg]
        error = await raised(call)
    assert type(error) is errors.Unimplemented
    assert error.details == [] and error.reason == ""


async def test_the_sync_channel_raises_the_same_exceptions(gateway: Gateway) -> None:
    def calls() -> tuple[str, errors.GatewayError]:
        key = gateway.callers.development_key
        with channel(gateway.address, api_key=key, insecure=True) as opened:
            stub = invoice_service_pb2_grpc.InvoiceServiceStub(opened)
            card_id = stub.GetInvoice(get()).invoice.ref.card_id
            with pytest.raises(errors.GatewayError) as caught:
                stub.GetInvoice(invoice_service_pb2.GetInvoiceRequest(account="sandbox"))
            return card_id, caught.value

    card_id, error = await asyncio.to_thread(calls)  # the gateway runs on this event loop
    assert card_id == INIT.card_id
    assert type(error) is errors.InvalidArgument
    assert {v.field for v in error.field_violations} >= {"invoice"}


def test_every_status_code_but_ok_has_its_exception_class() -> None:
    assert set(errors.EXCEPTION_CLASSES) == set(grpc.StatusCode) - {grpc.StatusCode.OK}


def test_writes_are_the_methods_whose_requests_take_a_request_id() -> None:
    writes = {m.name for m in SERVICE.methods if is_write(m)}
    assert writes == {"UpdateStatus", "UpdateStatusBatch", "ImportInvoices", "IssueImportQr"}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"insecure": True, "credentials": grpc.ssl_channel_credentials()}, "either"),
        ({"insecure": True, "timeout_seconds": 0}, "positive"),
    ],
)
def test_contradictory_channel_settings_are_refused(arguments: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        channel("127.0.0.1:1", **arguments)
