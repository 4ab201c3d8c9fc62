"""The upstream call's retry rules, deadlines and malformed replies (httpx.MockTransport)."""

import json
from collections.abc import Callable

import httpx
import pytest
from fapiao_gateway.domain.context import Deadline
from fapiao_gateway.domain.errors import (
    DeadlineExceeded,
    GatewayError,
    Internal,
    Unavailable,
    UnknownError,
)
from fapiao_gateway.wechat.accounts import Account
from fapiao_gateway.wechat.boundary import wechat_call
from fapiao_gateway.wechat.platforms import Api
from fapiao_gateway.wechat.transport import HttpxTransport
from fapiao_gateway.wechat.upstream import RetryPolicy, Upstream
from pydantic import SecretStr

ACCOUNT = Account(appid="wxtest", secret=SecretStr("s3cr3t"), base_url="http://wechat.test")
Handler = Callable[[httpx.Request], httpx.Response]


def upstream(
    handler: Handler, attempts: int = 4, timeout: float = 1.0
) -> tuple[Upstream, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(record))
    return Upstream(
        HttpxTransport(client), request_timeout=timeout, retry=RetryPolicy(attempts, 0.001, 0.002)
    ), seen


def answers(*replies: object) -> Handler:
    queue = list(replies)

    def handle(_request: httpx.Request) -> httpx.Response:
        reply = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, httpx.Response):
            return reply
        return httpx.Response(200, json=reply)

    return handle


BUSY = {"errcode": -1, "errmsg": "system error"}
INVOICE_BUSY = {"errcode": 72036, "errmsg": "invoice is busy"}
OK = {"errcode": 0, "errmsg": "ok"}


async def call(
    up: Upstream, api: Api = Api.GET_INVOICE_INFO, deadline: Deadline | None = None
) -> dict:
    """A call through the adapter's boundary, which turns errcodes into domain errors."""
    with wechat_call(ACCOUNT.appid, api):
        return await up.call(ACCOUNT, api, deadline=deadline or Deadline(), body={"card_id": "c"})


@pytest.mark.parametrize(
    "transient",
    [
        BUSY,
        INVOICE_BUSY,
        httpx.Response(502, text="<html>bad gateway</html>"),
        httpx.Response(200, text="<html>"),
        httpx.ReadError("reset"),
        httpx.ConnectError("refused"),
    ],
)
async def test_reads_are_retried_on_transient_failures(transient: object) -> None:
    up, seen = upstream(answers(transient, OK))
    assert await call(up) == OK
    assert len(seen) == 2


async def test_retries_are_bounded() -> None:
    up, seen = upstream(answers(BUSY), attempts=3)
    with pytest.raises(Unavailable) as failed:
        await call(up)
    assert len(seen) == 3
    assert failed.value.reason == "WECHAT_BUSY"


@pytest.mark.parametrize(
    "maybe_applied",
    [BUSY, httpx.Response(503, text="down"), httpx.ReadError("reset"), httpx.ReadTimeout("slow")],
)
async def test_writes_are_not_retried_once_they_may_have_been_applied(
    maybe_applied: object,
) -> None:
    up, seen = upstream(answers(maybe_applied, OK))
    with pytest.raises(GatewayError) as failed:
        await call(up, Api.UPDATE_INVOICE_STATUS)
    assert len(seen) == 1
    assert failed.value.maybe_applied


@pytest.mark.parametrize("refused_before_acting", [INVOICE_BUSY, httpx.ConnectError("refused")])
async def test_writes_are_retried_when_wechat_cannot_have_acted(
    refused_before_acting: object,
) -> None:
    up, seen = upstream(answers(refused_before_acting, OK))
    assert await call(up, Api.UPDATE_INVOICE_STATUS) == OK
    assert len(seen) == 2


async def test_an_expired_deadline_sends_nothing() -> None:
    up, seen = upstream(answers(OK))
    with pytest.raises(DeadlineExceeded):
        await call(up, deadline=Deadline.after(-1))
    assert seen == []


async def test_backoff_stops_at_the_deadline() -> None:
    seen: list[httpx.Request] = []

    def busy(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=BUSY)

    client = httpx.AsyncClient(transport=httpx.MockTransport(busy))
    up = Upstream(HttpxTransport(client), request_timeout=1, retry=RetryPolicy(10, 0.05, 0.05))
    with pytest.raises(DeadlineExceeded):
        await up.call(ACCOUNT, Api.GET_INVOICE_INFO, deadline=Deadline.after(0.12), body={})
    assert 1 <= len(seen) < 10


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (httpx.Response(200, json=[1, 2]), "WECHAT_MALFORMED_REPLY"),
        (httpx.Response(200, json={"errmsg": "no code"}), "WECHAT_MALFORMED_REPLY"),
        (httpx.Response(200, json={"errcode": "zero"}), "WECHAT_MALFORMED_REPLY"),
        (httpx.Response(404, text="not found"), "WECHAT_HTTP_ERROR"),
    ],
)
async def test_malformed_replies_are_internal_and_not_retried(
    reply: httpx.Response, reason: str
) -> None:
    up, seen = upstream(answers(reply))
    with pytest.raises(Internal) as failed:
        await call(up)
    assert failed.value.reason == reason
    assert len(seen) == 1


async def test_an_unknown_errcode_is_wechats_and_not_retried() -> None:
    up, seen = upstream(answers(httpx.Response(200, json={"errcode": 99999, "errmsg": "new"})))
    with pytest.raises(UnknownError) as failed:
        await call(up)
    assert (failed.value.reason, failed.value.wechat_errcode) == (
        "WECHAT_UNRECOGNIZED_ERRCODE",
        99999,
    )
    assert len(seen) == 1


async def test_requests_carry_json_and_the_query() -> None:
    up, seen = upstream(answers(OK))
    await up.call(
        ACCOUNT,
        Api.GET_INVOICE_INFO,
        deadline=Deadline(),
        query={"access_token": "T"},
        body={"card_id": "卡"},
    )
    assert (
        str(seen[0].url)
        == "http://wechat.test/card/invoice/reimburse/getinvoiceinfo?access_token=T"
    )
    assert json.loads(seen[0].content) == {"card_id": "卡"}


async def test_errors_never_carry_the_url_or_its_secrets() -> None:
    up, _ = upstream(
        answers(httpx.ConnectError("http://wechat.test/cgi-bin/token?secret=s3cr3t")), attempts=1
    )
    with pytest.raises(Unavailable) as failed:
        await up.call(ACCOUNT, Api.TOKEN, deadline=Deadline(), query={"secret": "s3cr3t"})
    assert "s3cr3t" not in str(failed.value) and "s3cr3t" not in repr(failed.value.metadata)
