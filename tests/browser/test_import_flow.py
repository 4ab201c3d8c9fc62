"""The import flow in a real browser (Debian's chromium, driven by Playwright; nothing is
downloaded): the PC page shows the QR code, a phone-sized page opens its URL, picks two
invoices in the sandbox's stand-in picker, and both appear live on the PC page; an expired
session and a refused import each show their message. Screenshots of each step go to the
test's tmp_path (FAPIAO_SCREENSHOTS=<dir> copies them there, e.g. for docs/)."""

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fapiao.v1 import invoice_pb2, invoice_service_pb2
from fapiao_gateway.bootstrap import Gateway
from fapiao_gateway.sandbox import seed
from fapiao_gateway.sandbox.emulator import SandboxInvoice

from tests.conftest import GatewayFactory
from tests.rpc import Stub

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
try:
    from playwright.async_api import Browser, Page, async_playwright
except ImportError:  # pragma: no cover - the dev extra installs it
    async_playwright = None  # type: ignore[assignment]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM),
        reason="needs Debian's chromium (make setup installs it: scripts/install-debian-packages)",
    ),
    pytest.mark.skipif(async_playwright is None, reason="needs the playwright package"),
]

DESKTOP = {"width": 1200, "height": 760}
PHONE = {"width": 390, "height": 780}
#: How long a page may take to show what the test waits for (a bound on hanging, not a
#: timing assertion).
WAIT_MS = 20_000


@pytest.fixture
async def gateway(make_gateway: GatewayFactory) -> Gateway:
    return await make_gateway(browser_listen="127.0.0.1:0")


@pytest.fixture
async def browser() -> AsyncIterator["Browser"]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM)
        yield launched
        await launched.close()


class Shots:
    """Screenshots of each step, in the test's tmp_path (and FAPIAO_SCREENSHOTS if set)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.taken: list[Path] = []

    async def take(self, page: "Page", name: str) -> None:
        path = self.directory / f"{name}.png"
        await page.screenshot(path=str(path), animations="disabled", full_page=True)
        self.taken.append(path)
        export = os.environ.get("FAPIAO_SCREENSHOTS")
        if export:
            shutil.copy(path, Path(export) / path.name)


@pytest.fixture
def shots(tmp_path: Path) -> Shots:
    return Shots(tmp_path)


def base(gateway: Gateway) -> str:
    return f"http://127.0.0.1:{gateway.browser_port}"


async def open_pc(browser: "Browser", gateway: Gateway, query: str = "") -> "Page":
    page = await browser.new_page(viewport=DESKTOP)  # type: ignore[arg-type]
    await page.goto(f"{base(gateway)}/sandbox/start{query}")
    await page.wait_for_selector("#qr svg", timeout=WAIT_MS)
    return page


async def open_phone(browser: "Browser", url: str) -> "Page":
    page = await browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)  # type: ignore[arg-type]
    await page.goto(url)
    return page


def choice(invoice: SandboxInvoice) -> str:
    """The sandbox picker's checkbox of an invoice."""
    return f'.sbx-list li[data-encrypt-code="{invoice.encrypt_code}"] input'


async def pick(phone: "Page", *invoices: SandboxInvoice) -> None:
    await phone.wait_for_selector("#pick:not([disabled])", timeout=WAIT_MS)
    await phone.click("#pick")
    for invoice in invoices:
        await phone.check(choice(invoice), timeout=WAIT_MS)
    await phone.click(".sbx-ok")


async def test_two_invoices_picked_on_the_phone_appear_on_the_pc(
    browser: "Browser", gateway: Gateway, shots: Shots
) -> None:
    pc = await open_pc(browser, gateway)
    await shots.take(pc, "1-pc-qr")
    url = await pc.get_attribute("#qr", "data-url")
    assert url and "#ticket=fit1." in url and url.startswith(base(gateway) + "/import/h5?")
    phone = await open_phone(browser, url)
    first, second = seed.invoices()[0], seed.invoices()[1]
    await phone.wait_for_selector("#pick:not([disabled])", timeout=WAIT_MS)
    await shots.take(phone, "2-phone-ready")
    await phone.click("#pick")
    for invoice in (first, second):
        await phone.check(choice(invoice))
    await shots.take(phone, "3-phone-picker")
    await phone.click(".sbx-ok")
    # Locators, not wait_for_function: the pages' CSP forbids evaluating strings.
    await phone.locator("#imported .invoice").nth(1).wait_for(timeout=WAIT_MS)
    await shots.take(phone, "4-phone-imported")
    await pc.locator("#invoices .invoice").nth(1).wait_for(timeout=WAIT_MS)
    await shots.take(pc, "5-pc-invoices")
    cards = await pc.eval_on_selector_all(
        "#invoices .invoice", "items => items.map(i => [i.dataset.encryptCode, i.innerText])"
    )
    shown = dict(cards)
    assert set(shown) == {first.encrypt_code, second.encrypt_code}
    assert "¥50.85" in shown[first.encrypt_code] and "14869350" in shown[first.encrypt_code]
    assert first.payload["payee"] in shown[first.encrypt_code]
    assert await pc.inner_text("#sum") == "¥66.55"
    assert all(path.stat().st_size > 0 for path in shots.taken)


async def test_an_expired_session_shows_its_state_on_both_pages(
    browser: "Browser", gateway: Gateway, shots: Shots
) -> None:
    pc = await open_pc(browser, gateway, "?validFor=5")
    url = await pc.get_attribute("#qr", "data-url")
    assert url
    await pc.wait_for_selector("#ended:not([hidden])", timeout=WAIT_MS)
    assert "二维码已过期" in await pc.inner_text("#qr")
    assert "expired" in (await pc.inner_text("#qr")).lower()
    await shots.take(pc, "6-pc-expired")
    phone = await open_phone(browser, url)
    await phone.wait_for_selector("#error:not([hidden])", timeout=WAIT_MS)
    message = await phone.inner_text("#error")
    assert "过期" in message and "expired" in message and "IMPORT_TICKET_EXPIRED" in message
    await shots.take(phone, "7-phone-expired")


async def test_a_refused_import_shows_why_in_chinese_and_english(
    browser: "Browser", gateway: Gateway, shots: Shots, stub: Stub
) -> None:
    # Another expense report has imported and locked this invoice.
    taken = seed.invoices()[5]
    await stub.ImportInvoices(
        invoice_service_pb2.ImportInvoicesRequest(
            account="sandbox",
            biz_code="OTHER-REPORT",
            lock=True,
            invoices=[
                invoice_pb2.InvoiceRef(card_id=taken.card_id, encrypt_code=taken.encrypt_code)
            ],
        )
    )
    pc = await open_pc(browser, gateway)
    url = await pc.get_attribute("#qr", "data-url")
    assert url
    phone = await open_phone(browser, url)
    await pick(phone, taken)
    await phone.wait_for_selector("#error:not([hidden])", timeout=WAIT_MS)
    message = await phone.inner_text("#error")
    assert "INVOICE_ALREADY_IMPORTED" in message
    assert "其他报销单" in message and "another expense report" in message
    await shots.take(phone, "8-phone-refused")
    assert await pc.locator("#invoices .invoice").count() == 0


async def test_no_service_key_reaches_the_browser(browser: "Browser", gateway: Gateway) -> None:
    key = gateway.callers.development_key
    assert key
    secret_half = key.rsplit("_", 1)[-1]
    served: list[str] = []
    async with httpx.AsyncClient(base_url=base(gateway)) as http:
        for path in (
            "/import/pc",
            "/import/h5?bizCode=X&appid=wx",
            "/import/static/pc.js",
            "/import/static/h5.js",
            "/import/static/connect.js",
            "/import/static/messages.js",
            "/sandbox/jweixin.js",
        ):
            answer = await http.get(path)
            assert answer.status_code == 200, path
            served.append(answer.text)
    pc = await open_pc(browser, gateway)
    url = await pc.get_attribute("#qr", "data-url")
    assert url
    phone = await open_phone(browser, url)
    await phone.wait_for_selector("#pick:not([disabled])", timeout=WAIT_MS)
    seen: list[Any] = [await pc.content(), await phone.content(), pc.url, phone.url, url]
    storage = await pc.evaluate("JSON.stringify(localStorage) + document.cookie")
    for text in [*served, *map(str, seen), storage]:
        assert key not in text and secret_half not in text
