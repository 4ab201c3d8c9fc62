"""Weixin Work (WeCom, qyapi.weixin.qq.com), emulated on top of the emulator's invoices.

Rules (WeCom's pages, as in wechatpy / silenceper / WxJava):
- GET /cgi-bin/gettoken?corpid=&corpsecret= returns {errcode 0, errmsg "ok", access_token,
  expires_in}; within its lifetime the same token comes back (WeCom: "有效期内重复获取返回相同
  结果"). A missing corpid is 41002, a missing secret 41004, an unknown corp 40013, a secret of
  none of the corp's apps 40001.
- Tokens: missing 41001, unknown or revoked 40014 (WeCom has no 40001 for tokens), expired
  42001; a token of another platform is 40014.
- Tickets: /cgi-bin/get_jsapi_ticket (the corp's, for wx.config) and /cgi-bin/ticket/get
  ?type=agent_config|wx_card; another type is 91040.
- The invoice calls are WeChat's (the same state machine, locks per app key, atomic batches,
  short batch replies); getinvoiceinfobatch answers item_list like getinvoicebatch. An unknown
  card_id or encrypt_code is 72031 (WeCom publishes no not-found code: errcode_tables.py).
- errmsg carries WeCom's hint and "more info" link, as WeCom's replies do.
"""

import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fapiao_gateway.sandbox.emulator import Emulator, Json

_ERRMSG = {
    0: "ok",
    40001: "invalid credential",
    40013: "invalid corpid",
    40014: "invalid access_token",
    41001: "access_token missing",
    41002: "corpid missing",
    41004: "corpsecret missing",
    42001: "access_token expired",
    72031: "invalid params",
    91040: "invalid ticket type",
}

#: Card-family "unknown invoice" codes the emulator answers, which WeCom does not send.
_UNKNOWN_INVOICE = frozenset({40056, 40073})


def work_reply(errcode: int = 0, **fields: Any) -> Json:
    """A WeCom reply body: errcode and WeCom's errmsg (with its hint), then the fields."""
    text = _ERRMSG.get(errcode, "sandbox injected error")
    if errcode:
        text += (
            f", hint: [{secrets.token_hex(8)}], from ip: 127.0.0.1, more info at "
            f"https://open.work.weixin.qq.com/devtool/query?e={errcode}"
        )
    return {"errcode": errcode, "errmsg": text, **fields}


@dataclass(frozen=True)
class SandboxWorkApp:
    """A corp's app: what gettoken checks. Its key is how everything else names it."""

    corp_id: str
    agent_id: int
    secret: str
    alias: str = ""

    @property
    def key(self) -> str:
        return f"{self.corp_id}/{self.agent_id}"


class WorkEmulator:
    """WeCom's token, ticket and invoice rules over an Emulator."""

    def __init__(self, emulator: Emulator, apps: Iterable[SandboxWorkApp]) -> None:
        self.emulator = emulator
        self.apps = {app.key: app for app in apps}
        self._current: dict[str, str] = {}
        emulator.on_invalidate.append(self._forget)

    def _forget(self, key: str) -> None:
        self._current.pop(key, None)

    def app_for(self, corp_id: str, secret: str) -> SandboxWorkApp | None:
        return next(
            (a for a in self.apps.values() if a.corp_id == corp_id and a.secret == secret), None
        )

    def gettoken(self, query: Mapping[str, str]) -> tuple[str, Json]:
        """(the app's key, or the corp ID, for stats; the reply)."""
        corp_id, secret = query.get("corpid", ""), query.get("corpsecret", "")
        if not corp_id or not secret:
            return corp_id, work_reply(41002 if not corp_id else 41004)
        if not any(a.corp_id == corp_id for a in self.apps.values()):
            return corp_id, work_reply(40013)
        app = self.app_for(corp_id, secret)
        if app is None:
            return corp_id, work_reply(40001)
        emulator, now = self.emulator, self.emulator.clock()
        current = self._current.get(app.key)
        if current is None or not emulator.usable_token(current):
            current = emulator.new_token(app.key, now + emulator.token_ttl, "work")
            self._current[app.key] = current
        expires_in = int(emulator.token_expiry(current) - now)
        return app.key, work_reply(access_token=current, expires_in=expires_in)

    def token_error(self, token: str) -> tuple[int, str]:
        return self.emulator.token_error(token, ("work",), unknown=40014)

    def jsapi_ticket(self, key: str) -> Json:
        return self.emulator.get_ticket(key, "jsapi", ("jsapi",))

    def ticket(self, key: str, kind: str) -> Json:
        result = self.emulator.get_ticket(key, kind, ("agent_config", "wx_card"), invalid=91040)
        return work_reply(result["errcode"]) if result["errcode"] else result

    @staticmethod
    def invoice_call(method: Callable[[str, Json], Json]) -> Callable[[str, Json], Json]:
        """An emulator invoice rule as WeCom answers it."""

        def call(key: str, body: Json) -> Json:
            result = method(key, body)
            code = result.get("errcode", 0)
            if code in _UNKNOWN_INVOICE:
                return work_reply(72031)
            return work_reply(
                code, **{k: v for k, v in result.items() if k not in ("errcode", "errmsg")}
            )

        return call
