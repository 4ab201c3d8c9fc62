"""The HTTP endpoint WeChat pushes third-party platform events to (授权事件接收URL).

POST <http_listen>/wechat/component/<component_appid>?timestamp=&nonce=&msg_signature=
(&encrypt_type=aes&signature=), body <xml><AppId/><Encrypt/></xml>. The Encrypt element is
verified and decrypted (msg_crypto.py) with the platform's token and EncodingAESKey; the
message inside is <xml><AppId/><CreateTime/><InfoType/>...</xml>:
- component_verify_ticket (every 10 minutes): its ComponentVerifyTicket is stored in the
  shared credential store, where every replica's component token fetch finds it;
- authorized / updateauthorized / unauthorized: logged (the merchant gave, changed or withdrew
  its authorization; the gateway's merchants are configured, not discovered).
The answer is the plain text "success", which stops WeChat's retries; a message that is not
authentic is 403, a malformed one 400, and nothing about either is echoed back. The body is
XML from the internet: it is parsed with defusedxml (no entities, no external references)
and read only up to 64 KiB.

The routes are served on the gateway's HTTP listener (http_listen, api/http_server.py).
"""

import logging
from collections.abc import Awaitable, Callable, Mapping
from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from fapiao_gateway.wechat.accounts import ComponentApp
from fapiao_gateway.wechat.msg_crypto import BadMessage, MessageCrypto

log = logging.getLogger("fapiao_gateway.component_push")

#: Largest push body read (WeChat's are well under 2 KiB).
MAX_BODY_BYTES = 64 * 1024
#: The path WeChat is told to push a platform's events to.
PATH = "/wechat/component/{component_appid}"

#: Keeps a verify ticket: (component appid, ticket, its CreateTime as unix seconds).
SaveTicket = Callable[[str, str, float | None], Awaitable[None]]


def push_path(component_appid: str) -> str:
    return PATH.format(component_appid=component_appid)


def _xml(text: bytes | str) -> Element:
    try:
        return ElementTree.fromstring(text)
    except Exception as exc:  # defusedxml refuses entities with its own exception types
        raise ValueError(type(exc).__name__) from None


async def _body(request: Request) -> bytes | None:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return None
    return body


def push_routes(components: Mapping[str, ComponentApp], save_ticket: SaveTicket) -> list[BaseRoute]:
    """The routes receiving `components`' pushes; `save_ticket` keeps a verify ticket."""
    cryptos = {
        appid: MessageCrypto(
            c.token.get_secret_value(), c.encoding_aes_key.get_secret_value(), appid
        )
        for appid, c in components.items()
    }

    async def receive(request: Request) -> Response:
        appid = request.path_params["component_appid"]
        crypto = cryptos.get(appid)
        if crypto is None:
            return PlainTextResponse("unknown third-party platform", status_code=404)
        query = request.query_params
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        signature = query.get("msg_signature", "")
        if not (timestamp and nonce and signature):
            return PlainTextResponse("timestamp, nonce and msg_signature are required", 400)
        body = await _body(request)
        if body is None:
            return PlainTextResponse("body too large", status_code=413)
        try:
            encrypted = _xml(body).findtext("Encrypt") or ""
            if not encrypted:
                raise ValueError("no Encrypt")
            message = _xml(crypto.open(signature, timestamp, nonce, encrypted))
        except BadMessage as refused:
            log.warning("refused a push for third-party platform %s: %s", appid, refused)
            return PlainTextResponse("not authentic", status_code=403)
        except ValueError as malformed:
            log.warning("malformed push for third-party platform %s: %s", appid, malformed)
            return PlainTextResponse("malformed", status_code=400)
        await _handle(appid, message, save_ticket)
        return PlainTextResponse("success")

    return [Route(PATH, receive, methods=["POST"])]


async def _handle(appid: str, message: Element, save_ticket: SaveTicket) -> None:
    info_type = message.findtext("InfoType") or ""
    if message.findtext("AppId") not in (None, appid):
        log.warning("push for %s names another platform: ignored", appid)
        return
    if info_type == "component_verify_ticket":
        ticket = message.findtext("ComponentVerifyTicket") or ""
        created = message.findtext("CreateTime") or ""
        if ticket:
            await save_ticket(appid, ticket, float(created) if created.isdigit() else None)
            log.info("third-party platform %s: component_verify_ticket received", appid)
        return
    merchant = message.findtext("AuthorizerAppid") or "?"
    if info_type == "unauthorized":
        log.warning(
            "third-party platform %s: merchant %s withdrew its authorization", appid, merchant
        )
    else:
        log.info("third-party platform %s: %s event for merchant %s", appid, info_type, merchant)
