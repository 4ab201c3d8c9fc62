"""A third-party platform (第三方平台) and its merchants, emulated on top of the emulator.

Rules (WeChat's open-platform pages, as in wechatpy's component client and WxJava's open
module):
- component_verify_ticket: `push_ticket` issues a new one, as WeChat does every 10 minutes;
  each stays valid 12 hours. `sealed_push` wraps it the way WeChat pushes it: the XML message
  encrypted with WXBizMsgCrypt (written here independently of the gateway's receiving side,
  so the two check each other).
- POST /cgi-bin/component/api_component_token {component_appid, component_appsecret,
  component_verify_ticket}: unknown platform 61011, wrong secret 40125, unknown ticket 61006,
  expired ticket 61005; every call issues a new component_access_token, the previous one
  staying valid for `overlap` seconds. No errcode in a successful reply.
- POST /cgi-bin/component/api_authorizer_token?component_access_token= {component_appid,
  authorizer_appid, authorizer_refresh_token}: the component token is checked like an access
  token (unknown or revoked 40001, expired 42001, missing 41001); another platform's merchant
  is 61003; a refresh token that is not the merchant's current one is 61023. Every call issues
  a new authorizer_access_token (the previous one valid for `overlap` seconds) and ROTATES the
  refresh token: the old one is refused from then on. WeChat may hand out the same refresh
  token again; rotating every time is the strictest reading, so the gateway's keeping of the
  newest one is always exercised.
- The merchant's invoice and ticket calls are the Official Account's, with its
  authorizer_access_token.
"""

import base64
import hashlib
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from fapiao_gateway.sandbox.emulator import Emulator, Json, reply

#: How long a verify ticket is accepted after it was pushed.
VERIFY_TICKET_SECONDS = 12 * 3600


@dataclass(frozen=True)
class SandboxMerchant:
    """A merchant that authorized the platform; `refresh_token` is the one its
    authorization handed out (what the gateway is configured with)."""

    appid: str
    refresh_token: str
    alias: str = ""


@dataclass(frozen=True)
class SandboxComponent:
    """A third-party platform: its credentials and its merchants."""

    appid: str
    secret: str
    token: str
    encoding_aes_key: str
    merchants: tuple[SandboxMerchant, ...] = ()


@dataclass
class _PlatformState:
    tickets: dict[str, float] = field(default_factory=dict)  # ticket -> expires_at
    token: str = ""  # the newest component_access_token


def seal(
    *,
    token: str,
    encoding_aes_key: str,
    receiver_id: str,
    message: str,
    timestamp: str,
    nonce: str,
    random16: bytes | None = None,
) -> tuple[str, str]:
    """(msg_signature, Encrypt) of `message`, as WeChat's WXBizMsgCrypt makes them."""
    key = base64.b64decode(encoding_aes_key + "=")
    text = message.encode()
    plain = (random16 or secrets.token_bytes(16)) + len(text).to_bytes(4, "big") + text
    plain += receiver_id.encode()
    pad = 32 - len(plain) % 32
    plain += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    encrypted = base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()
    parts = "".join(sorted([token, timestamp, nonce, encrypted]))
    return hashlib.sha1(parts.encode()).hexdigest(), encrypted  # noqa: S324 (WeChat's algorithm)


class ComponentEmulator:
    """The open platform's token rules, and the pushes it sends."""

    def __init__(self, emulator: Emulator, components: Iterable[SandboxComponent]) -> None:
        self.emulator = emulator
        self.components = {c.appid: c for c in components}
        self._state = {appid: _PlatformState() for appid in self.components}
        self._merchants = {m.appid: (c, m) for c in self.components.values() for m in c.merchants}
        #: Each merchant's current refresh token and newest authorizer token.
        self._refresh = {appid: m.refresh_token for appid, (_, m) in self._merchants.items()}
        self._authorizer: dict[str, str] = {}
        #: The verify tickets api_component_token was called with, in order.
        self.tickets_used: list[str] = []

    # ----- pushes ---------------------------------------------------------------------------

    def push_ticket(self, component_appid: str) -> str:
        """Issues a new component_verify_ticket (WeChat's push every 10 minutes)."""
        ticket = f"ticket@@@{secrets.token_urlsafe(48)}"
        self._state[component_appid].tickets[ticket] = self.emulator.clock() + VERIFY_TICKET_SECONDS
        return ticket

    def sealed_push(
        self, component_appid: str, ticket: str, created: int | None = None
    ) -> tuple[dict[str, str], bytes]:
        """(query, body) of the push carrying `ticket` (made at `created`, default now),
        encrypted for the platform."""
        component = self.components[component_appid]
        timestamp = str(created or int(time.time()))
        nonce = str(secrets.randbelow(10**9))
        message = (
            f"<xml><AppId><![CDATA[{component_appid}]]></AppId>"
            f"<CreateTime>{timestamp}</CreateTime>"
            "<InfoType><![CDATA[component_verify_ticket]]></InfoType>"
            f"<ComponentVerifyTicket><![CDATA[{ticket}]]></ComponentVerifyTicket></xml>"
        )
        signature, encrypted = seal(
            token=component.token,
            encoding_aes_key=component.encoding_aes_key,
            receiver_id=component_appid,
            message=message,
            timestamp=timestamp,
            nonce=nonce,
        )
        query = {
            "timestamp": timestamp,
            "nonce": nonce,
            "encrypt_type": "aes",
            "msg_signature": signature,
        }
        body = (
            f"<xml><AppId><![CDATA[{component_appid}]]></AppId>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        )
        return query, body.encode()

    # ----- tokens ---------------------------------------------------------------------------

    def component_token(self, body: Mapping[str, Any]) -> Json:
        appid = body.get("component_appid")
        component = self.components.get(appid) if isinstance(appid, str) else None
        if component is None:
            return reply(61011)
        if body.get("component_appsecret") != component.secret:
            return reply(40125)
        state, now = self._state[component.appid], self.emulator.clock()
        ticket = str(body.get("component_verify_ticket", ""))
        self.tickets_used.append(ticket)
        expires_at = state.tickets.get(ticket)
        if expires_at is None:
            return reply(61006)
        if expires_at <= now:
            return reply(61005)
        state.token = self._replace(state.token, component.appid, "component")
        return {
            "component_access_token": state.token,
            "expires_in": self.emulator.token_ttl,
        }

    def authorizer_token(self, component_token: str, body: Mapping[str, Any]) -> Json:
        code, component_appid = self.emulator.token_error(component_token, ("component",))
        if code:
            return reply(code)
        if body.get("component_appid") != component_appid:
            return reply(61011)
        appid = str(body.get("authorizer_appid", ""))
        found = self._merchants.get(appid)
        if found is None or found[0].appid != component_appid:
            return reply(61003)
        if body.get("authorizer_refresh_token") != self._refresh[appid]:
            return reply(61023)
        self._authorizer[appid] = self._replace(
            self._authorizer.get(appid, ""), appid, "authorizer"
        )
        self._refresh[appid] = f"refreshtoken@@@{secrets.token_urlsafe(32)}"
        return {
            "authorizer_access_token": self._authorizer[appid],
            "expires_in": self.emulator.token_ttl,
            "authorizer_refresh_token": self._refresh[appid],
        }

    def current_refresh_token(self, merchant_appid: str) -> str:
        return self._refresh[merchant_appid]

    def _replace(self, previous: str, appid: str, kind: str) -> str:
        """A new token; the previous one stays valid for `overlap` seconds."""
        emulator, now = self.emulator, self.emulator.clock()
        if previous:
            emulator.shorten_token(previous, now + emulator.overlap)
        return emulator.new_token(appid, now + emulator.token_ttl, kind)
