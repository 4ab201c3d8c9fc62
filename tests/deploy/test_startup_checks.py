"""What the gateway tells its operator as it starts: risky settings, and accounts that cannot
fetch a token (checked in the background, through the same cache calls use)."""

import asyncio
import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from fapiao.v1 import invoice_pb2, invoice_service_pb2
from fapiao_gateway.bootstrap import start_gateway
from fapiao_gateway.sandbox import seed

from tests.conftest import gateway_settings
from tests.deploy.conftest import clean_environment
from tests.rpc import Stub
from tests.support import auth
from tests.support.processes import standalone_sandbox, started

KEY, STORED = auth.new_key()
CALLERS = {
    "auth_secret": auth.TEST_AUTH_SECRET,
    "callers": [auth.caller("erp", ["*"], ["read"], STORED)],
}


@pytest.fixture
async def sandbox_url() -> AsyncIterator[str]:
    async for url in standalone_sandbox():
        yield url


async def _logged(caplog: pytest.LogCaptureFixture, text: str) -> logging.LogRecord:
    """The first record containing `text`, waiting for the background check to log it."""
    for _ in range(400):
        for record in caplog.records:
            if text in record.getMessage():
                return record
        await asyncio.sleep(0.025)
    raise AssertionError(f"never logged: {text!r}; got {[r.getMessage() for r in caplog.records]}")


async def test_serve_warns_about_callers_without_credentials_and_unreachable_accounts() -> None:
    env = {
        **clean_environment(),
        "FAPIAO_LISTEN": "127.0.0.1:0",
        "FAPIAO_DATABASE_URL": "sqlite+aiosqlite:///:memory:",
        "FAPIAO_UPSTREAM__BACKOFF_BASE_SECONDS": "0.001",
        "FAPIAO_ACCOUNTS": json.dumps(
            [{"appid": "wxdead", "secret": "s", "alias": "hq", "base_url": "http://127.0.0.1:9"}]
        ),
        "FAPIAO_CALLERS": json.dumps(
            [
                auth.caller("erp", ["hq"], ["read"]),  # no key, no certificate name
                auth.caller("ok", ["hq"], ["read"], STORED),
            ]
        ),
        "FAPIAO_AUTH_SECRET": auth.TEST_AUTH_SECRET,
    }
    process, seen = await started("serve", env=env, ready="cannot fetch an access token")
    process.terminate()
    await process.wait()
    # Its standard error is no terminal: log lines are JSON (log_format = "auto").
    warnings = [
        line["event"]
        for line in map(json.loads, filter(lambda text: text.startswith("{"), seen.splitlines()))
        if (line["level"], line["logger"]) == ("warning", "fapiao_gateway.startup")
    ]
    assert any(w.startswith("config callers[0]: caller 'erp' has no API key") for w in warnings)
    (unreachable,) = [w for w in warnings if w.startswith("account wxdead (hq)")]
    assert unreachable.startswith(
        "account wxdead (hq) cannot fetch an access token, so its calls will fail"
    )
    assert "(WECHAT_UNREACHABLE)" in unreachable
    assert "Fapiao gateway listening on" in seen  # start-up went on regardless


async def test_an_account_wechat_refuses_is_named_and_a_good_one_is_ready(
    sandbox_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="fapiao_gateway.startup")
    accounts = [
        {
            "appid": seed.PRIMARY.appid,
            "secret": seed.PRIMARY.secret,
            "alias": "good",
            "base_url": sandbox_url,
        },
        {"appid": seed.PARTNER.appid, "secret": "wrong", "alias": "bad", "base_url": sandbox_url},
    ]
    gateway = await start_gateway(gateway_settings(sandbox=False, accounts=accounts, **CALLERS))
    try:
        good = await _logged(caplog, f"account {seed.PRIMARY.appid} (good): access token ok")
        bad = await _logged(caplog, f"account {seed.PARTNER.appid} (bad) cannot fetch")
        assert (good.levelno, bad.levelno) == (logging.INFO, logging.WARNING)
        assert "wrong" not in bad.getMessage()  # the secret never shows

        # The token the check fetched is the one the first call uses.
        invoice = seed.invoices()[0]
        async with auth.channel(gateway.address, KEY) as channel:
            await Stub(channel).GetInvoice(
                invoice_service_pb2.GetInvoiceRequest(
                    account="good",
                    invoice=invoice_pb2.InvoiceRef(
                        card_id=invoice.card_id, encrypt_code=invoice.encrypt_code
                    ),
                )
            )
        async with httpx.AsyncClient() as http:
            calls = (await http.get(f"{sandbox_url}/sandbox/stats")).json()["calls"]
        assert calls["stable_token"][seed.PRIMARY.appid] == 1
    finally:
        await gateway.stop(0)


@pytest.fixture
async def silent_wechat() -> AsyncIterator[str]:
    """A base URL on loopback that accepts connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_stopping_during_the_check_cancels_it(
    silent_wechat: str, caplog: pytest.LogCaptureFixture
) -> None:
    accounts = [{"appid": "wxslow", "secret": "s", "base_url": silent_wechat}]
    gateway = await start_gateway(gateway_settings(sandbox=False, accounts=accounts, **CALLERS))
    await gateway.stop(0)
    # Stopping did not wait the check out (it would have logged the account as unreachable).
    assert not [r for r in caplog.records if "wxslow" in r.getMessage()]
