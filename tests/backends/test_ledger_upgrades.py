"""Ledgers written by earlier releases read through today's gateway, on SQLite and PostgreSQL.

Each test builds the schema of an earlier migration (0003: no document column; 0004: invoice
documents v1, integer quantities and prices), writes rows as that release wrote them, then
starts a gateway on it: the migrations run, the document backfill parses 0003's stored WeChat
JSON, and SearchInvoices reads every row with exact decimal lines.
"""

import json
from typing import Any

from fapiao.v1 import invoice_service_pb2
from fapiao_gateway.bootstrap import start_gateway
from fapiao_gateway.ledger.engine import create_engine, migrate
from fapiao_gateway.sandbox import seed
from fapiao_gateway.sandbox.app import Sandbox
from fapiao_gateway.sandbox.emulator import SandboxInvoice
from sqlalchemy import text

from tests.conftest import gateway_settings
from tests.rpc import Stub
from tests.support import auth

SNACKS = seed.invoices()[1]  # a line with num 2, price 677, fee 1354
DAIRY = seed.invoices()[0]  # two lines without quantity, one negative price
NOW_US = 1_731_000_000_000_000


def v1_document(sandbox: Sandbox, invoice: SandboxInvoice) -> dict[str, Any]:
    """The invoice document as release 0004 wrote it (version 1: integer quantities)."""
    user = invoice.payload["user_info"]
    return {
        "v": 1,
        "card_id": invoice.card_id,
        "encrypt_code": invoice.encrypt_code,
        "openid": sandbox.emulator.openid(invoice.holder, seed.PRIMARY.appid),
        "reimburse_status": invoice.status.value,
        "invoice_type": invoice.payload.get("type", ""),
        "valid_from_us": None,
        "valid_until_us": None,
        "payee": invoice.payload.get("payee", ""),
        "card_detail": invoice.payload.get("detail", ""),
        "title": user["title"],
        "total_fen": user["fee"],
        "amount_without_tax_fen": user.get("fee_without_tax", 0),
        "tax_fen": user.get("tax", 0),
        "billing_time_us": user["billing_time"] * 1_000_000,
        "invoice_number": user["billing_no"],
        "invoice_code": user["billing_code"],
        "check_code": user.get("check_code", ""),
        "lines": [
            {
                "name": line["name"],
                "unit_price_fen": line["price"],
                "quantity": line.get("num"),
                "unit": line.get("unit") or "",
                "amount_fen": line.get("fee"),
            }
            for line in user.get("info", [])
        ],
        **{
            key: ""
            for key in (
                "invoice_detail",
                "pdf_url",
                "trip_pdf_url",
                "order_id",
                "buyer_tax_number",
                "buyer_address_and_phone",
                "buyer_bank_account",
                "seller_tax_number",
                "seller_address_and_phone",
                "seller_bank_account",
                "remarks",
                "cashier",
                "maker",
            )
        },
    }


def ref_json(invoice: SandboxInvoice) -> dict[str, str]:
    return {"card_id": invoice.card_id, "encrypt_code": invoice.encrypt_code}


def row(sandbox: Sandbox, invoice: SandboxInvoice, biz_code: str, **more: Any) -> dict[str, Any]:
    user = invoice.payload["user_info"]
    return {
        "account": seed.PRIMARY.appid,
        "card_id": invoice.card_id,
        "encrypt_code": invoice.encrypt_code,
        "openid": sandbox.emulator.openid(invoice.holder, seed.PRIMARY.appid),
        "biz_code": biz_code,
        "status": invoice.status.value,
        "invoice_code": user["billing_code"],
        "invoice_number": user["billing_no"],
        "buyer_tax_number": "",
        "seller_tax_number": "",
        "billing_time_us": user["billing_time"] * 1_000_000,
        "total_fen": user["fee"],
        "payload": json.dumps(sandbox.emulator.render(invoice, seed.PRIMARY.appid)),
        "imported_by": "expense-service",
        "import_time_us": NOW_US,
        "update_time_us": NOW_US,
        **more,
    }


async def write_old_ledger(database_url: str, revision: str, rows: list[dict[str, Any]]) -> None:
    engine = create_engine(database_url)
    try:
        await migrate(engine, revision)
        async with engine.begin() as conn:
            for values in rows:
                columns = ", ".join(values)
                params = ", ".join(f":{name}" for name in values)
                await conn.execute(
                    text(f"INSERT INTO imported_invoices ({columns}) VALUES ({params})"), values
                )
            await conn.execute(
                text(
                    "INSERT INTO status_audit (account, caller, request_id, rpc, invoices, "
                    "to_status, outcome, wechat_errcode, created_us) VALUES (:a, 'erp', 'r-1', "
                    "'UpdateStatus', :i, 'INVOICE_REIMBURSE_LOCK', 'OK', NULL, :t)"
                ),
                {
                    "a": seed.PRIMARY.appid,
                    "i": json.dumps([{**ref_json(SNACKS), "from": "INVOICE_REIMBURSE_INIT"}]),
                    "t": NOW_US,
                },
            )
    finally:
        await engine.dispose()


async def lines_found(sandbox: Sandbox, database_url: str, biz_code: str) -> list[list[tuple]]:
    running = await start_gateway(gateway_settings(database_url=database_url), sandbox=sandbox)
    try:
        async with auth.channel(running.address, running.callers.development_key) as channel:
            found = await Stub(channel).SearchInvoices(
                invoice_service_pb2.SearchInvoicesRequest(account="sandbox", biz_code=biz_code)
            )
    finally:
        await running.stop(0)
    by_ref = {(i.invoice.ref.card_id, i.invoice.ref.encrypt_code): i for i in found.invoices}
    return [
        [
            (ln.quantity_decimal, ln.unit_price_fen_decimal, ln.amount_fen)
            for ln in by_ref[(invoice.card_id, invoice.encrypt_code)].invoice.lines
        ]
        for invoice in (SNACKS, DAIRY)
    ]


EXPECTED = [[("2", "677", 1354)], [("", "9483", 0), ("", "-5099", 0)]]


async def test_rows_of_release_0004_read_with_exact_lines(
    sandbox: Sandbox, database_url: str
) -> None:
    rows = [
        row(sandbox, invoice, "OLD-4", document=json.dumps(v1_document(sandbox, invoice)))
        for invoice in (SNACKS, DAIRY)
    ]
    await write_old_ledger(database_url, "0004", rows)
    assert await lines_found(sandbox, database_url, "OLD-4") == EXPECTED


async def test_rows_of_release_0003_are_converted_from_their_wechat_json(
    sandbox: Sandbox, database_url: str
) -> None:
    rows = [row(sandbox, invoice, "OLD-3") for invoice in (SNACKS, DAIRY)]
    await write_old_ledger(database_url, "0003", rows)
    assert await lines_found(sandbox, database_url, "OLD-3") == EXPECTED
