"""The server around the service: health, reflection (driven with grpcurl), limits, shutdown."""

import asyncio
import json
import os
import re
import signal
from pathlib import Path

import grpc
import pytest
from fapiao.v1 import invoice_pb2, invoice_service_pb2
from fapiao_gateway.bootstrap import Gateway
from fapiao_gateway.sandbox import seed
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.rpc import Stub, failure_of
from tests.support.processes import run, started
from tests.support.tools import grpcurl

DAIRY = seed.invoices()[0]


def bearer(gateway: Gateway) -> tuple[str, str]:
    return "-H", f"authorization: Bearer {gateway.callers.development_key}"


async def test_health_reports_serving(channel: grpc.aio.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", "fapiao.v1.InvoiceService"):
        reply = await health.Check(health_pb2.HealthCheckRequest(service=service))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_health_turns_not_serving_when_shutdown_begins(gateway: Gateway) -> None:
    async with grpc.aio.insecure_channel(gateway.address) as channel:
        watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service=""))
        first = await watch.read()
        assert first.status == health_pb2.HealthCheckResponse.SERVING
        stopping = asyncio.ensure_future(gateway.stop(1.0))
        second = await watch.read()
        assert second.status == health_pb2.HealthCheckResponse.NOT_SERVING
        await stopping


async def test_grpcurl_lists_and_describes_through_reflection(gateway: Gateway) -> None:
    code, out = await grpcurl("-plaintext", gateway.address, "list")
    assert code == 0, out
    assert set(out.split()) >= {"fapiao.v1.InvoiceService", "grpc.health.v1.Health"}

    code, out = await grpcurl("-plaintext", gateway.address, "describe", "fapiao.v1.InvoiceService")
    assert code == 0, out
    for rpc in (
        "GetInvoice",
        "GetInvoices",
        "UpdateStatus",
        "UpdateStatusBatch",
        "SignJsapi",
        "IssueImportQr",
        "ImportInvoices",
        "SearchInvoices",
    ):
        assert f"rpc {rpc} (" in out

    code, out = await grpcurl("-plaintext", gateway.address, "describe", "fapiao.v1.Invoice")
    assert code == 0 and "total_fen" in out, out


async def test_grpcurl_health_and_get_invoice(gateway: Gateway) -> None:
    code, out = await grpcurl("-plaintext", gateway.address, "grpc.health.v1.Health/Check")
    assert code == 0 and '"SERVING"' in out, out

    body = {
        "account": "sandbox",
        "invoice": {"card_id": DAIRY.card_id, "encrypt_code": DAIRY.encrypt_code},
    }
    code, out = await grpcurl(
        "-plaintext",
        *bearer(gateway),
        "-d",
        json.dumps(body),
        gateway.address,
        "fapiao.v1.InvoiceService/GetInvoice",
    )
    assert code == 0, out
    reply = json.loads(out)
    assert reply["invoice"]["invoiceNumber"] == "14869350"
    assert reply["invoice"]["totalFen"] == "5085"


async def test_grpcurl_decodes_error_details(gateway: Gateway) -> None:
    missing = {"account": "sandbox", "invoice": {"card_id": "pNoSuchCard", "encrypt_code": "x"}}
    code, out = await grpcurl(
        "-plaintext",
        *bearer(gateway),
        "-d",
        json.dumps(missing),
        gateway.address,
        "fapiao.v1.InvoiceService/GetInvoice",
    )
    assert code != 0
    assert "Code: NotFound" in out
    assert "google.rpc.ResourceInfo" in out and "INVOICE_NOT_FOUND" in out

    empty = {"account": "sandbox", "invoice": {"card_id": "", "encrypt_code": "x"}}
    code, out = await grpcurl(
        "-plaintext",
        *bearer(gateway),
        "-d",
        json.dumps(empty),
        gateway.address,
        "fapiao.v1.InvoiceService/GetInvoice",
    )
    assert code != 0
    assert "Code: InvalidArgument" in out
    assert "google.rpc.BadRequest" in out and '"field":"invoice.card_id"' in out.replace(" ", "")


async def test_oversized_requests_are_refused_and_the_server_keeps_serving(
    stub: Stub,
) -> None:
    huge = invoice_service_pb2.GetInvoiceRequest(
        account="sandbox",
        invoice=invoice_pb2.InvoiceRef(card_id="x" * (5 * 1024 * 1024), encrypt_code="y"),
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.GetInvoice(huge)
    assert refused.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED

    ok = invoice_service_pb2.GetInvoiceRequest(
        account="sandbox",
        invoice=invoice_pb2.InvoiceRef(card_id=DAIRY.card_id, encrypt_code=DAIRY.encrypt_code),
    )
    assert (await stub.GetInvoice(ok)).invoice.invoice_number == "14869350"


async def test_an_unexpected_exception_is_internal_with_a_correlation_id(
    stub: Stub,
    gateway: Gateway,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from fapiao_gateway.services.invoices import InvoiceReader

    async def explode(*_args: object) -> None:
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(InvoiceReader, "get_invoice", explode)
    ok = invoice_service_pb2.GetInvoiceRequest(
        account="sandbox", invoice=invoice_pb2.InvoiceRef(card_id="a", encrypt_code="b")
    )
    failure = await failure_of(stub.GetInvoice(ok))

    assert failure.code is grpc.StatusCode.INTERNAL
    assert failure.info.reason == "INTERNAL_ERROR"
    correlation_id = failure.info.metadata["correlation_id"]
    assert correlation_id in failure.message
    assert "hunter2" not in failure.message and "Traceback" not in failure.message
    assert correlation_id in caplog.text  # the operator can find the stack trace


async def test_serve_sandbox_prints_working_commands_and_stops_on_sigterm(tmp_path: Path) -> None:
    """The README's main job: `fapiao-gateway serve --sandbox`, then SIGTERM."""
    env = {**os.environ, "FAPIAO_LISTEN": "127.0.0.1:0"}
    process, banner = await started("serve", "--sandbox", env=env, ready="Ctrl-C")
    address = re.search(r"listening on (127\.0\.0\.1:\d+)", banner)
    assert address, banner
    assert "SANDBOX MODE" in banner

    # Every command the banner prints works as printed.
    commands = [
        line.strip() for line in banner.splitlines() if "grpcurl" in line and "-plaintext" in line
    ]
    assert len(commands) == 4
    for command in commands:
        shell = await asyncio.create_subprocess_shell(
            command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        out, _ = await asyncio.wait_for(shell.communicate(), 30)
        assert shell.returncode == 0, (command, out.decode())

    async with grpc.aio.insecure_channel(address.group(1)) as channel:
        watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service=""))
        assert (await watch.read()).status == health_pb2.HealthCheckResponse.SERVING
        process.send_signal(signal.SIGTERM)
        assert (await watch.read()).status == health_pb2.HealthCheckResponse.NOT_SERVING
    rest, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0
    assert "stopped" in rest.decode()


async def test_a_busy_port_is_a_clear_error_not_a_traceback(gateway: Gateway) -> None:
    code, _, err = await run(
        "serve", "--sandbox", env={**os.environ, "FAPIAO_LISTEN": gateway.address}
    )
    assert code == 2
    assert f"cannot listen on {gateway.address}" in err
    assert "Traceback" not in err


async def test_grpcurl_without_a_key_is_unauthenticated_but_health_is_open(
    gateway: Gateway,
) -> None:
    body = {"account": "sandbox", "invoice": {"card_id": DAIRY.card_id, "encrypt_code": "x"}}
    code, out = await grpcurl(
        "-plaintext", "-d", json.dumps(body), gateway.address, "fapiao.v1.InvoiceService/GetInvoice"
    )
    assert code != 0
    assert "Code: Unauthenticated" in out and "CREDENTIAL_INVALID" in out
    code, out = await grpcurl("-plaintext", gateway.address, "grpc.health.v1.Health/Check")
    assert code == 0, out


async def test_migrate_command_creates_the_ledger_schema(tmp_path: Path) -> None:
    database = tmp_path / "ledger.db"
    code, out, err = await run(
        "migrate", env={**os.environ, "FAPIAO_DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    )
    assert code == 0, out + err
    import sqlite3

    with sqlite3.connect(database) as db:
        tables = {
            row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
    assert {"imported_invoices", "alembic_version"} <= tables
