"""The sandbox's Weixin Work and third-party platform rules, spoken to over HTTP."""

from fapiao_gateway.sandbox import seed

from tests.sandbox.conftest import Clock, WeChat

APP = seed.CORP_APP
COMPONENT = seed.COMPONENT
MERCHANT = seed.MERCHANT
INVOICE = seed.invoices()[0]
INVOICE_REF = {"card_id": INVOICE.card_id, "encrypt_code": INVOICE.encrypt_code}


async def gettoken(wechat: WeChat, corpid: str = APP.corp_id, secret: str = APP.secret) -> dict:
    params = {"corpid": corpid, "corpsecret": secret}
    return (await wechat.http.get("/cgi-bin/gettoken", params=params)).json()


async def wecom(wechat: WeChat, path: str, body: object, token: str) -> dict:
    reply = await wechat.http.post(
        f"/cgi-bin/card/invoice/reimburse/{path}", params={"access_token": token}, json=body
    )
    return reply.json()


async def test_wecom_hands_out_the_same_token_until_it_expires(
    wechat: WeChat, clock: Clock
) -> None:
    first, again = await gettoken(wechat), await gettoken(wechat)
    assert first["errcode"] == 0 and first["access_token"] == again["access_token"]
    clock.advance(first["expires_in"])
    later = await gettoken(wechat)
    assert later["access_token"] != first["access_token"]
    assert (await wecom(wechat, "getinvoiceinfo", INVOICE_REF, first["access_token"]))[
        "errcode"
    ] == 42001


async def test_wecom_token_errors(wechat: WeChat) -> None:
    assert (await gettoken(wechat, corpid="ww0000000000000000"))["errcode"] == 40013
    wrong = await gettoken(wechat, secret="wrong")
    assert wrong["errcode"] == 40001
    assert "more info at https://open.work.weixin.qq.com/devtool/query?e=40001" in wrong["errmsg"]
    assert (await gettoken(wechat, corpid=""))["errcode"] == 41002
    official = await wechat.token()
    assert (await wecom(wechat, "getinvoiceinfo", INVOICE_REF, official))["errcode"] == 40014
    assert (await wecom(wechat, "getinvoiceinfo", INVOICE_REF, ""))["errcode"] == 41001


async def test_wecom_invoice_calls(wechat: WeChat) -> None:
    token = (await gettoken(wechat))["access_token"]
    info = await wecom(wechat, "getinvoiceinfo", INVOICE_REF, token)
    assert info["errcode"] == 0 and info["card_id"] == INVOICE.card_id
    assert info["openid"] == wechat.sandbox.emulator.openid(INVOICE.holder, APP.key)
    batch = await wecom(wechat, "getinvoiceinfobatch", {"item_list": [INVOICE_REF]}, token)
    assert [item["card_id"] for item in batch["item_list"]] == [INVOICE.card_id]
    unknown = {"card_id": "pNoSuchCard000000000000000000", "encrypt_code": "x"}
    assert (await wecom(wechat, "getinvoiceinfo", unknown, token))["errcode"] == 72031
    lock = {**INVOICE_REF, "reimburse_status": "INVOICE_REIMBURSE_LOCK"}
    assert (await wecom(wechat, "updateinvoicestatus", lock, token))["errcode"] == 0
    assert wechat.sandbox.emulator.invoices[(INVOICE.card_id, INVOICE.encrypt_code)].lock_owner == (
        APP.key
    )
    # An Official Account cannot unlock what the corp's app locked.
    unlock = {**INVOICE_REF, "reimburse_status": "INVOICE_REIMBURSE_INIT"}
    assert (await wechat.post("updateinvoicestatus", unlock, await wechat.token()))[
        "errcode"
    ] == 72023


async def test_wecom_tickets(wechat: WeChat) -> None:
    token = (await gettoken(wechat))["access_token"]
    params = {"access_token": token}
    corp = (await wechat.http.get("/cgi-bin/get_jsapi_ticket", params=params)).json()
    agent = (
        await wechat.http.get("/cgi-bin/ticket/get", params={**params, "type": "agent_config"})
    ).json()
    card = (
        await wechat.http.get("/cgi-bin/ticket/get", params={**params, "type": "wx_card"})
    ).json()
    assert len({corp["ticket"], agent["ticket"], card["ticket"]}) == 3
    assert corp["expires_in"] == agent["expires_in"] == 7200
    other = (await wechat.http.get("/cgi-bin/ticket/get", params={**params, "type": "x"})).json()
    assert other["errcode"] == 91040


async def component_token(wechat: WeChat, ticket: str, secret: str = COMPONENT.secret) -> dict:
    body = {
        "component_appid": COMPONENT.appid,
        "component_appsecret": secret,
        "component_verify_ticket": ticket,
    }
    return (await wechat.http.post("/cgi-bin/component/api_component_token", json=body)).json()


async def authorizer_token(
    wechat: WeChat, token: str, refresh: str, appid: str = MERCHANT.appid
) -> dict:
    body = {
        "component_appid": COMPONENT.appid,
        "authorizer_appid": appid,
        "authorizer_refresh_token": refresh,
    }
    reply = await wechat.http.post(
        "/cgi-bin/component/api_authorizer_token",
        params={"component_access_token": token},
        json=body,
    )
    return reply.json()


async def test_the_component_token_needs_a_pushed_ticket(wechat: WeChat, clock: Clock) -> None:
    assert (await component_token(wechat, "ticket@@@forged"))["errcode"] == 61006
    ticket = wechat.sandbox.components.push_ticket(COMPONENT.appid)
    assert (await component_token(wechat, ticket, secret="wrong"))["errcode"] == 40125
    issued = await component_token(wechat, ticket)
    assert "errcode" not in issued and issued["expires_in"] == 7200
    clock.advance(12 * 3600)
    assert (await component_token(wechat, ticket))["errcode"] == 61005


async def test_authorizer_tokens_rotate_the_refresh_token(wechat: WeChat, clock: Clock) -> None:
    ticket = wechat.sandbox.components.push_ticket(COMPONENT.appid)
    token = (await component_token(wechat, ticket))["component_access_token"]
    first = await authorizer_token(wechat, token, MERCHANT.refresh_token)
    assert first["authorizer_refresh_token"] != MERCHANT.refresh_token
    assert (await authorizer_token(wechat, token, MERCHANT.refresh_token))["errcode"] == 61023
    second = await authorizer_token(wechat, token, first["authorizer_refresh_token"])
    assert second["authorizer_access_token"] != first["authorizer_access_token"]
    unknown = await authorizer_token(wechat, token, "x", appid="wx0000000000000000")
    assert unknown["errcode"] == 61003
    assert (await authorizer_token(wechat, "SBX_nope", "x"))["errcode"] == 40001

    # The merchant's calls take its authorizer token; the replaced one lapses after overlap.
    info = await wechat.post("getinvoiceinfo", INVOICE_REF, second["authorizer_access_token"])
    assert info["openid"] == wechat.sandbox.emulator.openid(INVOICE.holder, MERCHANT.appid)
    clock.advance(wechat.sandbox.emulator.overlap)
    stale = await wechat.post("getinvoiceinfo", INVOICE_REF, first["authorizer_access_token"])
    assert stale["errcode"] == 42001
    assert (await wechat.post("getinvoiceinfo", INVOICE_REF, token))["errcode"] == 40014
