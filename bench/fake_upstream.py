"""A minimal WeChat stand-in for benchmarks: fixed replies, as little server work as possible.

Run: python -m bench.fake_upstream PORT. Answers stable_token and getinvoiceinfo only, so the
benchmark measures the gateway's client side rather than the emulator's rules.
"""

import json
import sys

from aiohttp import web
from fapiao_gateway.sandbox import seed
from fapiao_gateway.sandbox.emulator import Emulator

_EMULATOR = Emulator(seed.ACCOUNTS, seed.invoices())
_INVOICE = seed.invoices()[0]
_INFO = json.dumps(
    {"errcode": 0, "errmsg": "ok", **_EMULATOR.render(_INVOICE, seed.PRIMARY.appid)},
    ensure_ascii=False,
).encode()
_TOKEN = json.dumps({"access_token": "SBX_bench_token", "expires_in": 7200}).encode()


async def token(_: web.Request) -> web.Response:
    return web.Response(body=_TOKEN, content_type="application/json")


async def invoice(_: web.Request) -> web.Response:
    return web.Response(body=_INFO, content_type="application/json")


def main() -> None:
    app = web.Application()
    app.router.add_post("/cgi-bin/stable_token", token)
    app.router.add_post("/card/invoice/reimburse/getinvoiceinfo", invoice)
    web.run_app(
        app, host="127.0.0.1", port=int(sys.argv[1]), print=lambda *_: print("ready", flush=True)
    )


if __name__ == "__main__":
    main()
