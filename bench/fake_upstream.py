"""A small WeChat stand-in that answers what it is asked: for benchmarks that need fresh
invoices on every call (nginx, bench/upstream.py, can only answer files).

    python -m bench.fake_upstream PORT

Answers stable_token, getinvoiceinfo (always the first seeded invoice: bench/transport.py),
getinvoicebatch (every requested card_id/encrypt_code as a plain INIT invoice of one holder,
each a fapiao of its own: a fully digital invoice number derived from the ref, so the
company-wide duplicate guard lets each in; bench/ledger_search.py imports new invoices with
it) and the status updates (errcode 0).
Prints "ready" once it serves.
"""

import hashlib
import json
import sys
from typing import Any

from aiohttp import web
from fapiao_gateway.sandbox import seed
from fapiao_gateway.sandbox.emulator import Emulator, SandboxInvoice

_EMULATOR = Emulator(seed.ACCOUNTS, seed.invoices())
_INVOICE = seed.invoices()[0]
_TEMPLATE = seed.synthetic(1)[0]


def _body(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode()


def _json(body: bytes) -> web.Response:
    return web.Response(body=body, content_type="application/json")


_INFO = _body({"errcode": 0, "errmsg": "ok", **_EMULATOR.render(_INVOICE, seed.PRIMARY.appid)})
_TOKEN = _body({"access_token": "SBX_bench_token", "expires_in": 7200})
_OK = _body({"errcode": 0, "errmsg": "ok"})


async def token(_: web.Request) -> web.Response:
    return _json(_TOKEN)


async def invoice(_: web.Request) -> web.Response:
    return _json(_INFO)


def _fapiao_of(card_id: str, encrypt_code: str) -> dict[str, Any]:
    """The template with a 20-digit invoice number of this ref's own (a tax identity)."""
    digest = hashlib.sha256(f"{card_id}\n{encrypt_code}".encode()).digest()
    number = "9" + str(int.from_bytes(digest[:8]) % 10**19).zfill(19)
    user_info = {**_TEMPLATE.payload["user_info"], "billing_no": number, "billing_code": ""}
    return {**_TEMPLATE.payload, "user_info": user_info}


async def batch(request: web.Request) -> web.Response:
    """Every requested invoice, as the synthetic template with the requested card_id."""
    items = (await request.json()).get("item_list") or []
    rendered = [
        _EMULATOR.render(
            SandboxInvoice(
                item["card_id"],
                item["encrypt_code"],
                seed.ZHANG,
                _fapiao_of(item["card_id"], item["encrypt_code"]),
            ),
            seed.PRIMARY.appid,
        )
        for item in items
    ]
    return _json(_body({"errcode": 0, "errmsg": "ok", "item_list": rendered}))


async def ok(_: web.Request) -> web.Response:
    return _json(_OK)


def app() -> web.Application:
    application = web.Application()
    application.router.add_post("/cgi-bin/stable_token", token)
    application.router.add_post("/card/invoice/reimburse/getinvoiceinfo", invoice)
    application.router.add_post("/card/invoice/reimburse/getinvoicebatch", batch)
    application.router.add_post("/card/invoice/reimburse/updateinvoicestatus", ok)
    application.router.add_post("/card/invoice/reimburse/updatestatusbatch", ok)
    return application


def main() -> None:
    web.run_app(
        app(), host="127.0.0.1", port=int(sys.argv[1]), print=lambda *_: print("ready", flush=True)
    )


if __name__ == "__main__":
    main()
