"""The browser endpoint: InvoiceService over the Connect protocol, the same calls, keys,
import tickets and errors as gRPC; curl works; CORS only for the configured origins."""

import asyncio
import base64
import json
import shutil
import struct
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fapiao_gateway.bootstrap import Gateway
from fapiao_gateway.ledger.engine import create_engine
from fapiao_gateway.sandbox import seed
from google.rpc import error_details_pb2
from sqlalchemy import text

from tests.conftest import GatewayFactory

SERVICE = "/fapiao.v1.InvoiceService"
PAGE_ORIGIN = "https://reimburse.example.com"
INVOICE = seed.invoices()[0]
REF = {"cardId": INVOICE.card_id, "encryptCode": INVOICE.encrypt_code}


@pytest.fixture
async def gateway(make_gateway: GatewayFactory) -> Gateway:
    return await make_gateway(
        browser_listen="127.0.0.1:0", browser_cors_origins=["https://expense.example.com"]
    )


@pytest.fixture
async def http(gateway: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    base = f"http://127.0.0.1:{gateway.browser_port}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        yield client


def key(gateway: Gateway) -> dict[str, str]:
    return {"authorization": f"Bearer {gateway.callers.development_key}"}


async def call(
    http: httpx.AsyncClient, method: str, body: dict[str, Any], headers: dict[str, str]
) -> httpx.Response:
    return await http.post(f"{SERVICE}/{method}", json=body, headers=headers)


def error_info(answer: httpx.Response) -> error_details_pb2.ErrorInfo:
    (detail,) = [d for d in answer.json()["details"] if d["type"] == "google.rpc.ErrorInfo"]
    value = detail["value"] + "=" * (-len(detail["value"]) % 4)
    return error_details_pb2.ErrorInfo.FromString(base64.b64decode(value))


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
async def test_curl_reads_an_invoice(gateway: Gateway) -> None:
    process = await asyncio.create_subprocess_exec(
        "curl",
        "-sS",
        "-H",
        "content-type: application/json",
        "-H",
        f"authorization: Bearer {gateway.callers.development_key}",
        "-d",
        json.dumps({"account": "sandbox", "invoice": REF}),
        f"http://127.0.0.1:{gateway.browser_port}{SERVICE}/GetInvoice",
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    assert process.returncode == 0
    invoice = json.loads(out)["invoice"]
    assert invoice["ref"]["cardId"] == INVOICE.card_id
    assert invoice["reimburseStatus"] == "REIMBURSE_STATUS_INIT"


async def test_errors_keep_their_code_reason_and_details(
    http: httpx.AsyncClient, gateway: Gateway
) -> None:
    unknown = {"cardId": "pNoSuchCard", "encryptCode": "eA=="}
    answer = await call(
        http, "GetInvoice", {"account": "sandbox", "invoice": unknown}, key(gateway)
    )
    assert answer.status_code == 404
    body = answer.json()
    assert body["code"] == "not_found"
    assert error_info(answer).reason == "INVOICE_NOT_FOUND"
    resource = next(d for d in body["details"] if d["type"] == "google.rpc.ResourceInfo")
    assert resource["debug"]["resourceName"] == "pNoSuchCard/eA=="

    missing = await call(http, "GetInvoice", {"account": "sandbox"}, key(gateway))
    assert (missing.status_code, missing.json()["code"]) == (400, "invalid_argument")
    bad_request = next(d for d in missing.json()["details"] if d["type"] == "google.rpc.BadRequest")
    assert bad_request["debug"]["fieldViolations"][0]["field"] == "invoice"

    anonymous = await call(http, "GetInvoice", {"account": "sandbox", "invoice": REF}, {})
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "unauthenticated")

    garbled = await http.post(
        f"{SERVICE}/GetInvoice",
        content=b'{"account": 5, "nope": 1}',
        headers={"content-type": "application/json", **key(gateway)},
    )
    assert garbled.status_code == 400 and error_info(garbled).reason == "MALFORMED_REQUEST"

    wrong_type = await http.post(
        f"{SERVICE}/GetInvoice", content=b"x", headers={"content-type": "text/plain"}
    )
    assert wrong_type.status_code == 415


async def test_a_ticket_works_through_the_browser_endpoint_within_its_scope_only(
    http: httpx.AsyncClient, gateway: Gateway
) -> None:
    issued = await call(
        http,
        "IssueImportQr",
        {"account": "sandbox", "requestId": str(uuid.uuid4()), "bizCode": "CONNECT-1"},
        key(gateway),
    )
    assert issued.status_code == 200, issued.text
    ticket = {"authorization": f"Ticket {issued.json()['importTicket']}"}
    # Sandbox mode points QR codes at this endpoint's own /import/h5: the ticket's origin.
    page = issued.json()["url"].split("#")[0]
    assert page.startswith(f"http://127.0.0.1:{gateway.browser_port}/import/h5?")
    signed = await call(
        http,
        "SignJsapi",
        {
            "account": "sandbox",
            "purposes": ["SIGN_PURPOSE_WX_CONFIG", "SIGN_PURPOSE_CHOOSE_INVOICE"],
            "url": page,
        },
        ticket,
    )
    assert signed.status_code == 200 and signed.json()["wxConfig"]["signature"]
    other_origin = await call(
        http,
        "SignJsapi",
        {"account": "sandbox", "purposes": ["SIGN_PURPOSE_WX_CONFIG"], "url": PAGE_ORIGIN + "/h5"},
        ticket,
    )
    assert other_origin.status_code == 403
    imported = await call(
        http,
        "ImportInvoices",
        {"account": "sandbox", "bizCode": "CONNECT-1", "invoices": [REF]},
        ticket,
    )
    assert imported.status_code == 200 and imported.json()["bizCode"] == "CONNECT-1"
    elsewhere = await call(
        http, "ImportInvoices", {"account": "sandbox", "bizCode": "X-2", "invoices": [REF]}, ticket
    )
    assert elsewhere.status_code == 403
    assert error_info(elsewhere).reason == "IMPORT_TICKET_OUT_OF_SCOPE"


def frames(raw: bytes) -> list[tuple[int, Any]]:
    """The (flags, JSON) messages of a Connect stream."""
    found = []
    while raw:
        flags, size = struct.unpack(">BI", raw[:5])
        found.append((flags, json.loads(raw[5 : 5 + size])))
        raw = raw[5 + size :]
    return found


async def test_watch_import_streams_over_connect(http: httpx.AsyncClient, gateway: Gateway) -> None:
    await call(http, "IssueImportQr", {"account": "sandbox", "bizCode": "CONNECT-W"}, key(gateway))
    await call(
        http,
        "ImportInvoices",
        {"account": "sandbox", "bizCode": "CONNECT-W", "invoices": [REF]},
        key(gateway),
    )
    engine = create_engine(gateway.settings.database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE import_sessions SET expire_us = 0 WHERE biz_code = 'CONNECT-W'")
            )
    finally:
        await engine.dispose()
    request = json.dumps({"account": "sandbox", "bizCode": "CONNECT-W"}).encode()
    answer = await http.post(
        f"{SERVICE}/WatchImport",
        content=struct.pack(">BI", 0, len(request)) + request,
        headers={"content-type": "application/connect+json", **key(gateway)},
    )
    assert answer.status_code == 200
    messages = frames(answer.content)
    assert [flags for flags, _ in messages] == [0, 0, 2]
    assert messages[0][1]["invoice"]["invoice"]["ref"]["cardId"] == INVOICE.card_id
    assert messages[1][1]["end"]["reason"] == "IMPORT_SESSION_END_REASON_EXPIRED"
    assert messages[2][1] == {}

    unknown = json.dumps({"account": "sandbox", "bizCode": "NO-SESSION"}).encode()
    refused = await http.post(
        f"{SERVICE}/WatchImport",
        content=struct.pack(">BI", 0, len(unknown)) + unknown,
        headers={"content-type": "application/connect+json", **key(gateway)},
    )
    ((flags, end),) = frames(refused.content)
    assert flags == 2 and end["error"]["code"] == "not_found"


async def test_cors_allows_only_the_configured_origins(http: httpx.AsyncClient) -> None:
    preflight = {
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type",
    }
    allowed = await http.options(
        f"{SERVICE}/GetInvoice", headers={"origin": "https://expense.example.com", **preflight}
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://expense.example.com"
    refused = await http.options(
        f"{SERVICE}/GetInvoice", headers={"origin": "https://evil.example.com", **preflight}
    )
    assert "access-control-allow-origin" not in refused.headers
