"""Nobody acts where they don't belong: authentication, permissions, rotation, secure defaults."""

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from fapiao.v1 import invoice_pb2, invoice_service_pb2
from fapiao_gateway.bootstrap import Gateway, StartupRefused, start_gateway
from fapiao_gateway.config import Settings
from fapiao_gateway.sandbox import seed
from fapiao_gateway.sandbox.app import Sandbox

from tests.conftest import gateway_settings
from tests.rpc import Failure, Stub, failure_of
from tests.support import auth
from tests.support.processes import run, started

INVOICE = seed.invoices()[0]
ERP_KEY, ERP_STORED = auth.new_key()
ERP_NEW_KEY, ERP_NEW_STORED = auth.new_key()
AUDIT_KEY, AUDIT_STORED = auth.new_key()
ERP = auth.caller("erp", ["sandbox"], ["read", "import"], ERP_STORED)
AUDITOR = auth.caller("auditor", [seed.PARTNER.appid], ["read"], AUDIT_STORED)


def settings(*callers: dict) -> Settings:
    return gateway_settings(auth_secret=auth.TEST_AUTH_SECRET, callers=list(callers))


def get(account: str = "sandbox") -> invoice_service_pb2.GetInvoiceRequest:
    return invoice_service_pb2.GetInvoiceRequest(
        account=account,
        invoice=invoice_pb2.InvoiceRef(card_id=INVOICE.card_id, encrypt_code=INVOICE.encrypt_code),
    )


@pytest.fixture
async def gateway(sandbox: Sandbox) -> AsyncIterator[Gateway]:
    running = await start_gateway(settings(ERP, AUDITOR), sandbox=sandbox)
    yield running
    await running.stop(0)


async def call_as(
    gateway: Gateway, key: str | None, request=None, rpc: str = "GetInvoice", metadata=None
):
    async with auth.channel(gateway.address, key) as channel:
        return await getattr(Stub(channel), rpc)(request or get(), metadata=metadata)


async def refused_as(
    gateway: Gateway, key: str | None, request=None, rpc: str = "GetInvoice", metadata=None
) -> Failure:
    return await failure_of(call_as(gateway, key, request, rpc, metadata))


def assert_unauthenticated(failure: Failure) -> None:
    assert failure.code is grpc.StatusCode.UNAUTHENTICATED
    assert failure.detail_types == ["ErrorInfo"]
    assert failure.info.reason == "CREDENTIAL_INVALID"
    assert dict(failure.info.metadata) == {}  # no hint of which keys or callers exist


async def test_a_configured_caller_reads(gateway: Gateway) -> None:
    reply = await call_as(gateway, ERP_KEY)
    assert reply.invoice.invoice_number == "14869350"


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer",
        "Bearer fpk_000000000000_" + "0" * 64,  # well formed, unknown
        "Basic dXNlcjpwYXNz",
        f"Bearer {ERP_KEY[:-1]}0"
        if not ERP_KEY.endswith("0")
        else f"Bearer {ERP_KEY[:-1]}1",  # one digit off
        f"Token {ERP_KEY}",
        "Bearer " + "x" * 5000,
    ],
    ids=["none", "bearer-alone", "unknown-key", "basic", "one-digit-off", "wrong-scheme", "huge"],
)
async def test_missing_or_bad_credentials_are_unauthenticated_and_change_nothing(
    gateway: Gateway, sandbox: Sandbox, authorization: str | None
) -> None:
    metadata = (("authorization", authorization),) if authorization is not None else None
    assert_unauthenticated(await refused_as(gateway, None, metadata=metadata))
    assert sandbox.emulator.stats.calls == {}  # WeChat never heard of it


async def test_the_same_refusal_for_every_rpc_even_malformed_ones(
    gateway: Gateway, sandbox: Sandbox
) -> None:
    for rpc, message in [
        ("UpdateStatus", invoice_service_pb2.UpdateStatusRequest(account="sandbox")),
        ("ImportInvoices", invoice_service_pb2.ImportInvoicesRequest()),
        ("SearchInvoices", invoice_service_pb2.SearchInvoicesRequest(account="nope")),
    ]:
        assert_unauthenticated(await refused_as(gateway, None, message, rpc))
    assert sandbox.emulator.stats.calls == {}


async def test_another_tenants_account_is_permission_denied(
    gateway: Gateway, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    for account in ("sandbox-partner", seed.PARTNER.appid):
        failure = await refused_as(gateway, ERP_KEY, get(account))
        assert failure.code is grpc.StatusCode.PERMISSION_DENIED
        assert failure.info.reason == "PERMISSION_DENIED"
        assert failure.info.metadata["caller"] == "erp"
        assert failure.info.metadata["operation"] == "read"
    assert sandbox.emulator.stats.calls == {}
    assert "permission denied caller=erp" in caplog.text
    assert ERP_KEY not in caplog.text and ERP_KEY.split("_")[2] not in caplog.text


async def test_an_account_is_allowed_by_appid_as_well_as_alias(gateway: Gateway) -> None:
    assert (await call_as(gateway, AUDIT_KEY, get("sandbox-partner"))).invoice.invoice_number
    assert (await call_as(gateway, AUDIT_KEY, get(seed.PARTNER.appid))).invoice.invoice_number


async def test_an_unknown_account_looks_like_a_forbidden_one(gateway: Gateway) -> None:
    unknown = await refused_as(gateway, ERP_KEY, get("no-such-account"))
    forbidden = await refused_as(gateway, ERP_KEY, get("sandbox-partner"))
    assert unknown.code is forbidden.code is grpc.StatusCode.PERMISSION_DENIED
    assert unknown.info.reason == forbidden.info.reason


async def test_a_forbidden_operation_is_permission_denied_before_validation(
    gateway: Gateway, sandbox: Sandbox
) -> None:
    # The auditor may only read: signing is refused, though the request is also invalid.
    request = invoice_service_pb2.SignJsapiRequest(account="sandbox-partner", url="ftp://nonsense")
    failure = await refused_as(gateway, AUDIT_KEY, request, "SignJsapi")
    assert failure.code is grpc.StatusCode.PERMISSION_DENIED
    assert failure.info.metadata["operation"] == "sign"
    assert sandbox.emulator.stats.calls == {}


async def test_a_rotated_key_works_beside_the_old_until_the_old_is_removed(
    gateway: Gateway, sandbox: Sandbox
) -> None:
    rotating = auth.caller("erp", ["sandbox"], ["read", "import"], ERP_STORED, ERP_NEW_STORED)
    gateway.reload_callers(settings(rotating, AUDITOR))
    assert (await call_as(gateway, ERP_KEY)).invoice.invoice_number
    assert (await call_as(gateway, ERP_NEW_KEY)).invoice.invoice_number

    gateway.reload_callers(
        settings(auth.caller("erp", ["sandbox"], ["read"], ERP_NEW_STORED), AUDITOR)
    )
    assert (await call_as(gateway, ERP_NEW_KEY)).invoice.invoice_number
    calls = sandbox.emulator.stats.count("getinvoiceinfo")
    assert_unauthenticated(await refused_as(gateway, ERP_KEY))  # revoked
    assert sandbox.emulator.stats.count("getinvoiceinfo") == calls


async def test_outside_sandbox_mode_no_callers_means_no_start() -> None:
    with pytest.raises(StartupRefused, match="no callers are configured"):
        await start_gateway(gateway_settings(sandbox=False))


def test_keys_in_the_config_need_the_server_secret() -> None:
    with pytest.raises(ValueError, match="auth_secret"):
        gateway_settings(callers=[ERP])


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("operations", ["read", "delete"], "unknown operations"),
        ("keys", ["plaintext-key"], "hmac-sha256"),
    ],
)
def test_bad_caller_config_is_refused(field: str, value: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        settings({**ERP, field: value})


async def test_serve_without_callers_exits_with_a_reason() -> None:
    code, _, err = await run("serve", env={**os.environ, "FAPIAO_LISTEN": "127.0.0.1:0"})
    assert code == 2
    assert "no callers are configured" in err and "Traceback" not in err


async def test_create_key_prints_a_key_and_a_stored_form_that_work(sandbox: Sandbox) -> None:
    code, out, _ = await run(
        "create-key", env={**os.environ, "FAPIAO_AUTH_SECRET": auth.TEST_AUTH_SECRET}
    )
    assert code == 0
    key = next(word for word in out.split() if word.startswith("fpk_"))
    stored = next(word for word in out.split() if word.startswith("hmac-sha256$"))
    running = await start_gateway(
        settings(auth.caller("new", ["*"], ["*"], stored)), sandbox=sandbox
    )
    try:
        assert (await call_as(running, key)).invoice.invoice_number
    finally:
        await running.stop(0)


async def test_create_key_without_a_secret_says_what_to_do() -> None:
    env = {k: v for k, v in os.environ.items() if k != "FAPIAO_AUTH_SECRET"}
    code, _, err = await run("create-key", env=env)
    assert code == 2 and "auth_secret" in err


async def test_sighup_reloads_callers_from_the_config_file(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """Rotation without downtime in a real process: edit the file, send SIGHUP."""
    config = tmp_path / "gateway.toml"

    def write(*stored: str) -> None:
        keys = ", ".join(f"'{s}'" for s in stored)
        config.write_text(
            f'sandbox = true\nlisten = "127.0.0.1:0"\nauth_secret = "{auth.TEST_AUTH_SECRET}"\n'
            f'[[callers]]\nname = "erp"\naccounts = ["*"]\noperations = ["read"]\nkeys = [{keys}]\n'
        )

    write(ERP_STORED)
    process, banner = await started("serve", "--config", str(config), ready="SIGHUP")
    assert "DEVELOPMENT KEY" not in banner  # configured callers: no development key
    address = banner.split("listening on ")[1].split()[0]

    async def status_with(key: str) -> grpc.StatusCode:
        async with auth.channel(address, key) as channel:
            try:
                await Stub(channel).GetInvoice(get())
            except grpc.aio.AioRpcError as error:
                return error.code()
            return grpc.StatusCode.OK

    try:
        assert await status_with(ERP_KEY) is grpc.StatusCode.OK
        assert await status_with(ERP_NEW_KEY) is grpc.StatusCode.UNAUTHENTICATED
        write(ERP_NEW_STORED)
        process.send_signal(1)  # SIGHUP
        for _ in range(100):
            if await status_with(ERP_NEW_KEY) is grpc.StatusCode.OK:
                break
            await asyncio.sleep(0.05)
        assert await status_with(ERP_NEW_KEY) is grpc.StatusCode.OK
        assert await status_with(ERP_KEY) is grpc.StatusCode.UNAUTHENTICATED
    finally:
        process.terminate()
        await process.wait()


@pytest.mark.parametrize(
    ("rpc", "request_", "operation"),
    [
        (
            "UpdateStatus",
            invoice_service_pb2.UpdateStatusRequest(
                account="sandbox", status=invoice_pb2.REIMBURSE_STATUS_LOCK
            ),
            "lock",
        ),
        (
            "UpdateStatus",
            invoice_service_pb2.UpdateStatusRequest(
                account="sandbox", status=invoice_pb2.REIMBURSE_STATUS_INIT
            ),
            "unlock",
        ),
        (
            "UpdateStatusBatch",
            invoice_service_pb2.UpdateStatusBatchRequest(
                account="sandbox", status=invoice_pb2.REIMBURSE_STATUS_CLOSURE
            ),
            "write_off",
        ),
        (
            "ImportInvoices",
            invoice_service_pb2.ImportInvoicesRequest(account="sandbox", lock=True),
            "lock",
        ),
        ("IssueImportQr", invoice_service_pb2.IssueImportQrRequest(account="sandbox"), "issue_qr"),
    ],
)
async def test_each_operation_needs_its_own_permission(
    gateway: Gateway, rpc: str, request_, operation: str
) -> None:
    # The erp caller may read and import on "sandbox", nothing else.
    failure = await refused_as(gateway, ERP_KEY, request_, rpc)
    assert failure.code is grpc.StatusCode.PERMISSION_DENIED
    assert failure.info.metadata["operation"] == operation
