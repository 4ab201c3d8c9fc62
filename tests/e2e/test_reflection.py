"""Reflection as operators use it: grpcurl and buf curl show the contract with its comments."""

import json
import re
from pathlib import Path

import pytest
from fapiao.v1 import invoice_service_pb2
from fapiao_gateway.api.reflection import SERVICE_NAMES
from fapiao_gateway.bootstrap import Gateway
from fapiao_gateway.sandbox import seed

from tests.support.tools import buf_curl, grpcurl

ROOT = Path(__file__).resolve().parents[2]
SERVICE = invoice_service_pb2.DESCRIPTOR.services_by_name["InvoiceService"]
INVOICE = seed.invoices()[0]


def leading_comment(declaration: str) -> list[str]:
    """The `//` lines right above the line matching `declaration` in the contract's sources."""
    for source in sorted((ROOT / "proto").rglob("*.proto")):
        lines = source.read_text().splitlines()
        for number, line in enumerate(lines):
            if re.match(rf"\s*{declaration}\b", line):
                above: list[str] = []
                while number > 0 and lines[number - 1].strip().startswith("//"):
                    number -= 1
                    above.insert(0, lines[number].strip())
                return above
    raise AssertionError(f"{declaration} is not in proto/")


def key_header(gateway: Gateway) -> list[str]:
    return ["-H", f"authorization: Bearer {gateway.callers.development_key}"]


@pytest.mark.parametrize("method", [m.name for m in SERVICE.methods])
async def test_grpcurl_describes_every_method_with_its_comment(
    gateway: Gateway, method: str
) -> None:
    code, out = await grpcurl(
        "-plaintext", gateway.address, "describe", f"{SERVICE.full_name}.{method}"
    )
    assert code == 0, out
    comment = "\n".join(leading_comment(f"rpc {method}"))
    assert f"is a method:\n{comment}\nrpc {method} (" in out


@pytest.mark.parametrize(
    ("symbol", "declaration"),
    [
        ("fapiao.v1.InvoiceService", "service InvoiceService"),
        ("fapiao.v1.InvoiceRef", "message InvoiceRef"),
        ("fapiao.v1.InvoiceRef.card_id", "string card_id"),
        ("fapiao.v1.ReimburseStatus", "enum ReimburseStatus"),
    ],
)
async def test_grpcurl_shows_the_comments_of_services_messages_fields_and_enums(
    gateway: Gateway, symbol: str, declaration: str
) -> None:
    code, out = await grpcurl("-plaintext", gateway.address, "describe", symbol)
    assert code == 0, out
    comment = leading_comment(declaration)
    assert comment and "\n".join(comment) in out


async def test_grpcurl_resolves_the_error_detail_types_and_refuses_unknown_symbols(
    gateway: Gateway,
) -> None:
    code, out = await grpcurl("-plaintext", gateway.address, "describe", "google.rpc.BadRequest")
    assert code == 0 and "field_violations" in out, out
    code, out = await grpcurl("-plaintext", gateway.address, "describe", "fapiao.v1.NoSuchThing")
    assert code != 0 and "not found" in out.lower(), out


async def test_reflection_lists_what_the_gateway_serves(gateway: Gateway) -> None:
    code, out = await grpcurl("-plaintext", gateway.address, "list")
    assert code == 0, out
    assert set(out.split()) == {SERVICE.full_name, "grpc.health.v1.Health", SERVICE_NAMES[1]}


@pytest.mark.parametrize("protocol", ["grpc-v1", "grpc-v1alpha"])
async def test_buf_curl_calls_through_either_reflection_version(
    gateway: Gateway, protocol: str
) -> None:
    body = {
        "account": "sandbox",
        "invoice": {"card_id": INVOICE.card_id, "encrypt_code": INVOICE.encrypt_code},
    }
    url = f"http://{gateway.address}/{SERVICE.full_name}/GetInvoice"
    code, out = await buf_curl(
        "--reflect-protocol", protocol, *key_header(gateway), "-d", json.dumps(body), url
    )
    assert code == 0, out
    assert json.loads(out)["invoice"]["ref"]["cardId"] == INVOICE.card_id


async def test_buf_curl_prints_a_rich_error_with_its_detail_types(gateway: Gateway) -> None:
    body = {"account": "sandbox", "invoice": {"card_id": "", "encrypt_code": "x"}}
    url = f"http://{gateway.address}/{SERVICE.full_name}/GetInvoice"
    code, out = await buf_curl(*key_header(gateway), "-d", json.dumps(body), url)
    assert code != 0
    error = json.loads(out)
    assert error["code"] == "invalid_argument"
    assert [d["type"] for d in error["details"]] == [
        "google.rpc.ErrorInfo",
        "google.rpc.BadRequest",
    ]
