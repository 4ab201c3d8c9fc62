"""A sandbox with a hand-driven clock, spoken to over HTTP in process."""

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from fapiao_gateway.sandbox import seed
from fapiao_gateway.sandbox.app import Sandbox, create_sandbox
from fapiao_gateway.sandbox.transport import in_process_transport


@dataclass
class Clock:
    now: float = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class WeChat:
    """Talks to the sandbox the way the gateway does, for rule-level tests."""

    def __init__(self, http: httpx.AsyncClient, sandbox: Sandbox) -> None:
        self.http = http
        self.sandbox = sandbox

    async def stable_token(self, account=seed.PRIMARY, force: bool = False) -> dict:
        body = {
            "grant_type": "client_credential",
            "appid": account.appid,
            "secret": account.secret,
            "force_refresh": force,
        }
        return (await self.http.post("/cgi-bin/stable_token", json=body)).json()

    async def classic_token(self, account=seed.PRIMARY, secret: str | None = None) -> dict:
        params = {
            "grant_type": "client_credential",
            "appid": account.appid,
            "secret": secret or account.secret,
        }
        return (await self.http.get("/cgi-bin/token", params=params)).json()

    async def token(self, account=seed.PRIMARY) -> str:
        return (await self.stable_token(account))["access_token"]

    async def post(self, path: str, body: object, token: str) -> dict:
        reply = await self.http.post(
            f"/card/invoice/reimburse/{path}", params={"access_token": token}, json=body
        )
        return reply.json()

    async def set_status(self, invoice, status: str, account=seed.PRIMARY) -> int:
        body = {
            "card_id": invoice.card_id,
            "encrypt_code": invoice.encrypt_code,
            "reimburse_status": status,
        }
        return (await self.post("updateinvoicestatus", body, await self.token(account)))["errcode"]

    def status(self, invoice) -> str:
        return self.sandbox.emulator.status_of(invoice.card_id, invoice.encrypt_code).value


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def wechat(clock: Clock) -> AsyncIterator[WeChat]:
    sandbox = create_sandbox(clock=clock)
    async with httpx.AsyncClient(
        transport=in_process_transport(sandbox), base_url="http://sandbox"
    ) as http:
        yield WeChat(http, sandbox)
