"""Log lines as production writes them (JSON), across the whole error matrix: one access line
per call with its facts, every line valid JSON, and no secret in any line."""

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
import structlog
from fapiao.v1 import invoice_service_pb2
from fapiao_gateway.bootstrap import Gateway
from fapiao_gateway.sandbox import seed
from fapiao_gateway.sandbox.app import Sandbox
from fapiao_gateway.telemetry.log_format import formatter
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.e2e.test_error_matrix import MATRIX, REQUEST, TRANSPORT, run_case
from tests.rpc import Stub, failure_of
from tests.support import auth


class Lines:
    """What the root logger wrote, through the production formatter."""

    def __init__(self, stream: io.StringIO) -> None:
        self._stream = stream

    def all(self) -> list[str]:
        return self._stream.getvalue().splitlines()

    def parsed(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.all()]

    def access(self) -> list[dict[str, Any]]:
        return [line for line in self.parsed() if line.get("access")]


@pytest.fixture
def json_lines() -> Iterator[Lines]:
    """Every record of the process, at every level, as JSON lines (as `serve` writes them with
    log_format = "json")."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter(json_lines=True))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield Lines(stream)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def sandbox_secrets(sandbox: Sandbox, gateway: Gateway) -> list[str]:
    """Every credential there is: app secrets, the component's keys, refresh tokens, each
    token and ticket the sandbox ever issued, and the caller's API key."""
    emulator = sandbox.emulator
    found = [a.secret for a in seed.ACCOUNTS]
    found += [w.secret for w in seed.WORK_APPS]
    for component in seed.COMPONENTS:
        found += [component.secret, component.token, component.encoding_aes_key]
        found += [m.refresh_token for m in component.merchants]
    found += list(emulator._tokens)
    found += [ticket.value for ticket in emulator._tickets.values()]
    found.append(str(gateway.callers.development_key))
    return [s for s in found if s]


async def test_one_json_access_line_per_call_and_no_secret_in_any_line(
    gateway: Gateway, stub: Stub, sandbox: Sandbox, json_lines: Lines
) -> None:
    cases = MATRIX + TRANSPORT
    for case in cases:
        await run_case(stub, sandbox, case)
    sandbox.faults.clear()
    await stub.GetInvoice(REQUEST)
    signed = await stub.SignJsapi(
        invoice_service_pb2.SignJsapiRequest(
            account="sandbox",
            purposes=[
                invoice_service_pb2.SIGN_PURPOSE_WX_CONFIG,
                invoice_service_pb2.SIGN_PURPOSE_CHOOSE_INVOICE,
            ],
            url="https://reimburse.example.com/h5",
        )
    )
    assert signed.wx_config.signature
    async with auth.channel(gateway.address, "fpk_not-a-key-at-all") as stranger:
        refused = await failure_of(Stub(stranger).GetInvoice(REQUEST))
        assert refused.code is grpc.StatusCode.UNAUTHENTICATED
        await health_pb2_grpc.HealthStub(stranger).Check(health_pb2.HealthCheckRequest())
    calls = len(cases) + 4

    lines = json_lines.parsed()  # every line is one JSON object
    assert len(lines) == len(json_lines.all())
    access = json_lines.access()
    assert len(access) == calls, [a["event"] for a in access]
    matrix_lines = access[: len(cases)]
    for line, case in zip(matrix_lines, cases, strict=True):
        assert line["rpc"] == "GetInvoice"
        assert line["code"] == case.code.name
        assert line["reason"] == case.reason
        assert line["caller"] == "sandbox-developer"
        assert line["account"] == "sandbox"
        assert line["request_id"] and isinstance(line["latency_ms"], float)
        assert line["level"] == _LEVELS.get(case.code.name, "info"), case
        assert line["timestamp"].endswith("Z")
        if case.kind.value == "errcode":
            assert line["wechat_errcode"] == str(case.value)
    ok, sign, anonymous, health = access[len(cases) :]
    assert (ok["code"], ok["rpc"], sign["rpc"]) == ("OK", "GetInvoice", "SignJsapi")
    assert (anonymous["code"], anonymous["reason"], anonymous["caller"]) == (
        "UNAUTHENTICATED",
        "CREDENTIAL_INVALID",
        "-",
    )
    assert (health["service"], health["level"]) == ("grpc.health.v1.Health", "debug")
    # Lines written while a call ran carry its request id (upstream retries, for one).
    retries = [line for line in lines if line["event"].startswith("retrying getinvoiceinfo")]
    assert retries and all(line.get("request_id") for line in retries)
    assert any(line["level"] == "error" for line in lines), "account problems are errors"

    text = "\n".join(json_lines.all())
    for secret in sandbox_secrets(sandbox, gateway):
        assert secret not in text, secret
    assert "access_token=" not in text
    assert "fpk_" not in text


#: The access line's level when the call did not fail the caller's way (else info).
_LEVELS = {"UNAVAILABLE": "warning", "UNKNOWN": "warning", "INTERNAL": "error"}


def test_an_extra_field_or_an_exception_cannot_carry_a_secret_into_a_line() -> None:
    """The formatter scrubs every value, not only the message."""
    record = logging.getLogger("somewhere").makeRecord(
        "somewhere",
        logging.ERROR,
        __file__,
        1,
        "failed",
        (),
        None,
        extra={"url": "https://api.weixin.qq.com/cgi-bin/token?secret=s3cret&appid=wx1"},
    )
    try:
        raise RuntimeError("GET /x?access_token=T0KEN failed")
    except RuntimeError as exc:
        record.exc_info = (type(exc), exc, exc.__traceback__)
    for json_lines_ in (True, False):
        line = formatter(json_lines=json_lines_).format(record)
        assert "s3cret" not in line and "T0KEN" not in line, line
        assert "[redacted]" in line


def test_text_lines_are_for_people() -> None:
    record = logging.getLogger("fapiao_gateway.access").makeRecord(
        "fapiao_gateway.access",
        logging.INFO,
        __file__,
        1,
        "GetInvoice OK 1.0 ms",
        (),
        None,
        extra={"rpc": "GetInvoice", "caller": "erp"},
    )
    line = formatter(json_lines=False).format(record)
    assert "GetInvoice OK 1.0 ms" in line and "caller=erp" in line and "rpc=GetInvoice" in line
    assert not line.startswith("{")


def _record(extra: dict[str, Any]) -> logging.LogRecord:
    return logging.getLogger("fapiao_gateway.access").makeRecord(
        "fapiao_gateway.access",
        logging.INFO,
        __file__,
        1,
        "GetInvoice OK 1.0 ms",
        (),
        None,
        extra=extra,
    )


def test_json_lines_without_an_exception_say_what_the_processor_chain_says() -> None:
    """The one-pass path (log_format._JsonLines) writes the object structlog's chain would."""
    json_formatter = formatter(json_lines=True)
    assert isinstance(json_formatter, structlog.stdlib.ProcessorFormatter)
    assert type(json_formatter).format is not structlog.stdlib.ProcessorFormatter.format
    record = _record({"access": True, "rpc": "GetInvoice", "latency_ms": 1.0, "peer": object()})
    structlog.contextvars.bind_contextvars(request_id="r-1", rpc="GetInvoice")
    try:
        fast = json.loads(json_formatter.format(record))
        chain = json.loads(structlog.stdlib.ProcessorFormatter.format(json_formatter, record))
    finally:
        structlog.contextvars.clear_contextvars()
    fast.pop("timestamp"), chain.pop("timestamp")
    assert fast == chain
    assert fast["request_id"] == "r-1" and fast["access"] is True


def test_a_json_line_with_a_credential_in_a_field_is_scrubbed_field_by_field() -> None:
    record = _record({"url": "https://api.weixin.qq.com/cgi-bin/token?secret=s3cret&appid=wx1"})
    line = json.loads(formatter(json_lines=True).format(record))
    assert line["url"] == "https://api.weixin.qq.com/cgi-bin/token?secret=[redacted]&appid=wx1"
