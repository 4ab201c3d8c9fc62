"""The third-party platform's push endpoint, over real HTTP: WeChat's encrypted
component_verify_ticket arrives, is verified, and is what the component token is fetched with."""

import time

import httpx
import pytest
from fapiao.v1 import invoice_pb2, invoice_service_pb2
from fapiao_gateway.bootstrap import Gateway
from fapiao_gateway.sandbox import seed
from fapiao_gateway.sandbox.app import Sandbox
from fapiao_gateway.sandbox.transport import IN_PROCESS_BASE_URL

from tests.conftest import GatewayFactory
from tests.rpc import Stub, failure_of
from tests.support import auth

COMPONENT = seed.COMPONENT
INVOICE = seed.invoices()[0]
REQUEST = invoice_service_pb2.GetInvoiceRequest(
    account="merchant",
    invoice=invoice_pb2.InvoiceRef(card_id=INVOICE.card_id, encrypt_code=INVOICE.encrypt_code),
)


@pytest.fixture
async def gateway(make_gateway: GatewayFactory) -> Gateway:
    """A gateway configured with the sandbox's platform and one merchant (no ticket yet),
    serving the push endpoint on a free port."""
    return await make_gateway(
        http_listen="127.0.0.1:0",
        components=[
            {
                "component_appid": COMPONENT.appid,
                "component_appsecret": COMPONENT.secret,
                "token": COMPONENT.token,
                "encoding_aes_key": COMPONENT.encoding_aes_key,
                "base_url": IN_PROCESS_BASE_URL,
            }
        ],
        accounts=[
            {
                "platform": "component",
                "appid": seed.MERCHANT.appid,
                "component_appid": COMPONENT.appid,
                "refresh_token": seed.MERCHANT.refresh_token,
                "alias": "merchant",
            }
        ],
    )


def push_url(gateway: Gateway, appid: str = COMPONENT.appid) -> str:
    return f"http://127.0.0.1:{gateway.http_port}/wechat/component/{appid}"


async def test_a_pushed_ticket_opens_the_merchant(gateway: Gateway, sandbox: Sandbox) -> None:
    async with auth.channel(gateway.address, gateway.callers.development_key) as channel:
        stub = Stub(channel)
        missing = await failure_of(stub.GetInvoice(REQUEST))
        assert missing.info.reason == "COMPONENT_VERIFY_TICKET_MISSING"
        assert sandbox.emulator.stats.count("api_component_token") == 0

        async with httpx.AsyncClient() as http:
            answer = await sandbox.push_verify_ticket(COMPONENT.appid, push_url(gateway), http)
        assert (answer.status_code, answer.text) == (200, "success")

        reply = await stub.GetInvoice(REQUEST)
    assert reply.invoice.ref.card_id == INVOICE.card_id
    assert sandbox.emulator.stats.count("api_component_token", COMPONENT.appid) == 1


async def test_the_sandbox_control_pushes_too(gateway: Gateway, sandbox: Sandbox) -> None:
    from fapiao_gateway.sandbox.app import create_app

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(sandbox)), base_url="http://sandbox"
    ) as control:
        answer = await control.post(
            f"/sandbox/components/{COMPONENT.appid}/push", json={"url": push_url(gateway)}
        )
    assert answer.json() == {"status": 200, "body": "success"}


async def tampered(gateway: Gateway, sandbox: Sandbox, **changes: str) -> httpx.Response:
    query, body = sandbox.components.sealed_push(
        COMPONENT.appid, sandbox.components.push_ticket(COMPONENT.appid)
    )
    url = push_url(gateway, changes.pop("appid", COMPONENT.appid))
    query.update(changes)
    async with httpx.AsyncClient() as http:
        return await http.post(url, params=query, content=changes.get("body", body))


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"msg_signature": "0" * 40}, 403),
        ({"nonce": "another"}, 403),
        ({"timestamp": ""}, 400),
        ({"appid": "wx0000000000000000"}, 404),
        ({"body": "<xml><AppId>x</AppId></xml>"}, 400),
        ({"body": "not xml"}, 400),
        (
            {
                "body": '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b '
                '"&a;&a;&a;&a;">]><xml><Encrypt>&b;</Encrypt></xml>'
            },
            400,
        ),
    ],
)
async def test_what_is_not_authentic_is_refused(
    gateway: Gateway, sandbox: Sandbox, changes: dict[str, str], status: int
) -> None:
    answer = await tampered(gateway, sandbox, **changes)
    assert answer.status_code == status
    assert "ticket" not in answer.text
    async with auth.channel(gateway.address, gateway.callers.development_key) as channel:
        missing = await failure_of(Stub(channel).GetInvoice(REQUEST))
    assert missing.info.reason == "COMPONENT_VERIFY_TICKET_MISSING"


async def push_made_at(gateway: Gateway, sandbox: Sandbox, created: int) -> tuple[str, int]:
    ticket = sandbox.components.push_ticket(COMPONENT.appid)
    query, body = sandbox.components.sealed_push(COMPONENT.appid, ticket, created=created)
    async with httpx.AsyncClient() as http:
        answer = await http.post(push_url(gateway), params=query, content=body)
    return ticket, answer.status_code


async def test_an_older_push_cannot_bring_back_an_older_ticket(
    gateway: Gateway, sandbox: Sandbox
) -> None:
    now = int(time.time())
    newest, status = await push_made_at(gateway, sandbox, now)
    assert status == 200
    _, status = await push_made_at(gateway, sandbox, now - 3600)  # delayed, or replayed
    assert status == 200  # acknowledged, so WeChat stops retrying, but not kept
    async with auth.channel(gateway.address, gateway.callers.development_key) as channel:
        await Stub(channel).GetInvoice(REQUEST)
    assert sandbox.components.tickets_used == [newest]


async def test_a_ticket_older_than_its_lifetime_is_not_kept(
    gateway: Gateway, sandbox: Sandbox
) -> None:
    _, status = await push_made_at(gateway, sandbox, int(time.time()) - 13 * 3600)
    assert status == 200
    async with auth.channel(gateway.address, gateway.callers.development_key) as channel:
        missing = await failure_of(Stub(channel).GetInvoice(REQUEST))
    assert missing.info.reason == "COMPONENT_VERIFY_TICKET_MISSING"
