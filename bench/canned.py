"""What the benchmark asks and what its stand-in WeChat answers, designed together.

The upstream (bench/upstream.py: nginx serving files) cannot look at a request, so every
request here is built to get exactly the reply on file:
- getinvoiceinfo answers the first seeded sandbox invoice: GetInvoice asks for that one.
- getinvoicebatch answers BATCH synthetic invoices (distinct card_ids, so one upstream batch):
  GetInvoices and ImportInvoices ask for exactly those, in that order.
- updateinvoicestatus and updatestatusbatch answer errcode 0.
h2load sends one body for every call, so each request is one fixed message. That decides
how the mutating calls are measured (docs/benchmarks.md says so next to the figures):
ImportInvoices leaves biz_code empty, so each call gets a new bizCode and moves the same
INIT invoices to it (a real fetch, lookup and 50-row write every time). UpdateStatus is not
here: a lock needs an imported INIT invoice and leaves it LOCK (and a fixed request_id would
make every later call a replay), so no one fixed message can be sent twice with the same effect.
"""

import json
from dataclasses import dataclass
from typing import Any

from fapiao.v1 import invoice_pb2, invoice_service_pb2
from fapiao_gateway.sandbox import seed
from fapiao_gateway.sandbox.emulator import Emulator
from google.protobuf.message import Message

#: The WeChat account every request acts for (the sandbox's primary appid and its secret).
APPID = seed.PRIMARY.appid
SECRET = seed.PRIMARY.secret
#: The alias the gateway's configuration gives that account; requests name it.
ALIAS = "bench"
#: The access token the upstream hands out (the gateway puts it in every query string).
ACCESS_TOKEN = "SBX_bench_token"
#: How many invoices GetInvoices and ImportInvoices ask for (one upstream batch).
BATCH = 50

SERVICE = "/fapiao.v1.InvoiceService/"
WECHAT_PATHS = {
    "stable_token": "/cgi-bin/stable_token",
    "getinvoiceinfo": "/card/invoice/reimburse/getinvoiceinfo",
    "getinvoicebatch": "/card/invoice/reimburse/getinvoicebatch",
    "updateinvoicestatus": "/card/invoice/reimburse/updateinvoicestatus",
    "updatestatusbatch": "/card/invoice/reimburse/updatestatusbatch",
}

_EMULATOR = Emulator(seed.ACCOUNTS, [])
_SINGLE = seed.invoices()[0]
_BATCH = seed.synthetic(BATCH)


def _reply(**fields: Any) -> bytes:
    return json.dumps({"errcode": 0, "errmsg": "ok", **fields}, ensure_ascii=False).encode()


def wechat_replies() -> dict[str, bytes]:
    """The upstream's reply body for each WeChat path."""
    return {
        WECHAT_PATHS["stable_token"]: json.dumps(
            {"access_token": ACCESS_TOKEN, "expires_in": 7200}
        ).encode(),
        WECHAT_PATHS["getinvoiceinfo"]: _reply(**_EMULATOR.render(_SINGLE, APPID)),
        WECHAT_PATHS["getinvoicebatch"]: _reply(
            item_list=[_EMULATOR.render(invoice, APPID) for invoice in _BATCH]
        ),
        WECHAT_PATHS["updateinvoicestatus"]: _reply(),
        WECHAT_PATHS["updatestatusbatch"]: _reply(),
    }


def _ref(card_id: str, encrypt_code: str) -> invoice_pb2.InvoiceRef:
    return invoice_pb2.InvoiceRef(card_id=card_id, encrypt_code=encrypt_code)


def _ref_json(card_id: str, encrypt_code: str) -> dict[str, str]:
    return {"card_id": card_id, "encrypt_code": encrypt_code}


@dataclass(frozen=True)
class Upstream:
    """The one WeChat call a gateway RPC makes: its path and the JSON body the gateway sends.
    Baseline (b) makes this call per RPC; baseline (c) makes it directly."""

    path: str
    body: bytes


@dataclass(frozen=True)
class Scenario:
    """One RPC as the benchmark drives it."""

    name: str
    rpc: str
    request: Message
    #: None where the RPC makes no WeChat call (SearchInvoices reads the ledger only).
    upstream: Upstream | None
    #: Timestamps in the reply that differ from call to call (change or update times): each
    #: makes the reply's size vary by a few bytes (protobuf varints).
    fresh_timestamps: int = 0

    @property
    def method(self) -> str:
        """The gRPC path, e.g. /fapiao.v1.InvoiceService/GetInvoice."""
        return SERVICE + self.rpc

    def grpc_frame(self) -> bytes:
        """The request as one length-prefixed gRPC message (what h2load posts)."""
        return grpc_frame(self.request.SerializeToString())


def grpc_frame(message: bytes) -> bytes:
    """gRPC's framing: uncompressed flag, 4-byte big-endian length, the message."""
    return b"\x00" + len(message).to_bytes(4, "big") + message


def _upstream(api: str, body: dict[str, Any]) -> Upstream:
    return Upstream(WECHAT_PATHS[api], json.dumps(body, ensure_ascii=False).encode())


#: The buyer whose invoices SearchInvoices lists (bench/ledger_seed.py seeds the ledger so
#: that this first page is full: 50 rows of a larger total).
SEARCH_BUYER = "91310000BUYER00007"


def scenarios() -> dict[str, Scenario]:
    """Every scenario, by name."""
    pb = invoice_service_pb2
    single = _ref(_SINGLE.card_id, _SINGLE.encrypt_code)
    batch = [_ref(i.card_id, i.encrypt_code) for i in _BATCH]
    batch_json = {"item_list": [_ref_json(i.card_id, i.encrypt_code) for i in _BATCH]}
    found = [
        Scenario(
            "GetInvoice",
            "GetInvoice",
            pb.GetInvoiceRequest(account=ALIAS, invoice=single),
            _upstream("getinvoiceinfo", _ref_json(_SINGLE.card_id, _SINGLE.encrypt_code)),
        ),
        Scenario(
            f"GetInvoices({BATCH})",
            "GetInvoices",
            pb.GetInvoicesRequest(account=ALIAS, invoices=batch),
            _upstream("getinvoicebatch", batch_json),
        ),
        Scenario(
            f"ImportInvoices({BATCH})",
            "ImportInvoices",
            pb.ImportInvoicesRequest(account=ALIAS, invoices=batch),
            _upstream("getinvoicebatch", batch_json),
            fresh_timestamps=2 * BATCH,
        ),
        Scenario(
            "SearchInvoices",
            "SearchInvoices",
            pb.SearchInvoicesRequest(
                account=ALIAS, buyer_tax_numbers=[SEARCH_BUYER], page_size=BATCH
            ),
            None,
        ),
    ]
    return {scenario.name: scenario for scenario in found}
