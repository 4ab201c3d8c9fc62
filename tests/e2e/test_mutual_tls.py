"""Mutual TLS: the client certificate's subject names the caller."""

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from fapiao.v1 import invoice_pb2, invoice_service_pb2
from fapiao_gateway.bootstrap import Gateway, start_gateway
from fapiao_gateway.sandbox import seed
from fapiao_gateway.sandbox.app import Sandbox

from tests.conftest import gateway_settings
from tests.rpc import Stub, failure_of
from tests.support import auth
from tests.support.certs import Authority, Issued

INVOICE = seed.invoices()[0]
REQUEST = invoice_service_pb2.GetInvoiceRequest(
    account="sandbox",
    invoice=invoice_pb2.InvoiceRef(card_id=INVOICE.card_id, encrypt_code=INVOICE.encrypt_code),
)
CA = Authority()
BEARER_KEY, BEARER_STORED = auth.new_key()


@pytest.fixture
async def gateway(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[Gateway]:
    server = CA.issue("fapiao-gateway", server=True)
    files = {
        "cert_file": server.cert_pem,
        "key_file": server.key_pem,
        "client_ca_file": CA.cert_pem,
    }
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    callers = [
        auth.caller("erp-mtls", ["sandbox"], ["read"], tls_common_names=["erp-mtls"]),
        auth.caller("bearer-only", ["sandbox"], ["read"], BEARER_STORED),
    ]
    settings = gateway_settings(
        tls={name: str(tmp_path / name) for name in files},
        callers=callers,
        auth_secret=auth.TEST_AUTH_SECRET,
    )
    running = await start_gateway(settings, sandbox=sandbox)
    yield running
    await running.stop(0)


def tls_channel(
    gateway: Gateway, client: Issued | None, key: str | None = None
) -> grpc.aio.Channel:
    credentials = grpc.ssl_channel_credentials(
        root_certificates=CA.cert_pem,
        private_key=client.key_pem if client else None,
        certificate_chain=client.cert_pem if client else None,
    )
    interceptors = [auth.BearerAuth(key)] if key else None
    return grpc.aio.secure_channel(gateway.address, credentials, interceptors=interceptors)  # type: ignore[arg-type]


async def test_a_known_certificate_is_the_caller(gateway: Gateway) -> None:
    async with tls_channel(gateway, CA.issue("erp-mtls")) as channel:
        assert (await Stub(channel).GetInvoice(REQUEST)).invoice.invoice_number == "14869350"


async def test_an_unknown_subject_is_unauthenticated(gateway: Gateway) -> None:
    async with tls_channel(gateway, CA.issue("stranger")) as channel:
        failure = await failure_of(Stub(channel).GetInvoice(REQUEST))
    assert failure.code is grpc.StatusCode.UNAUTHENTICATED


async def test_an_unknown_subject_with_a_valid_key_is_the_keys_caller(gateway: Gateway) -> None:
    async with tls_channel(gateway, CA.issue("stranger"), BEARER_KEY) as channel:
        assert (await Stub(channel).GetInvoice(REQUEST)).invoice.invoice_number


async def test_a_certificate_and_a_key_naming_different_callers_are_refused(
    gateway: Gateway,
) -> None:
    async with tls_channel(gateway, CA.issue("erp-mtls"), BEARER_KEY) as channel:
        failure = await failure_of(Stub(channel).GetInvoice(REQUEST))
    assert failure.code is grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize("client", ["none", "other-ca"])
async def test_no_or_a_foreign_certificate_cannot_even_connect(
    gateway: Gateway, client: str
) -> None:
    issued = None if client == "none" else Authority("Someone Else").issue("erp-mtls")
    async with tls_channel(gateway, issued) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await Stub(channel).GetInvoice(REQUEST, timeout=5)
    assert failed.value.code() is grpc.StatusCode.UNAVAILABLE
