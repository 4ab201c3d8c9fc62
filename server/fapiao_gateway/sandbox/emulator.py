"""WeChat's invoice APIs, emulated in memory with WeChat's rules.

Rules enforced (see ../shared/design/wechat-upstream.md):
- Tokens: /cgi-bin/token issues a new token per call and leaves the previous one valid for
  `overlap` seconds (then 40001); /cgi-bin/stable_token returns the same token until it nears
  expiry (within `overlap`), then a new one while the old stays valid until its own expiry;
  force_refresh=true invalidates the current one at once and is refused (45011) within 30 s of
  the last forced refresh. Unknown or invalidated tokens get 40001, expired ones 42001, ones
  not of the sandbox's shape 40014, a missing one 41001.
- Tickets (jsapi, wx_card) last `ticket_ttl` seconds; getticket returns the current one.
- Statuses: INIT->LOCK, LOCK->INIT, LOCK->CLOSURE only; CLOSURE from INIT is 72039; anything
  from CLOSURE or CANCEL is 72024; a lock belongs to the appid that took it (72023 to others).
- updatestatusbatch is all or none, and every invoice must belong to the given openid (72037).
- getinvoicebatch answers errcode 0 with only the invoices it knows, as WeChat does.
- A user's openid differs per appid, as in WeChat.
"""

import base64
import copy
import hashlib
import itertools
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fapiao_gateway.domain.status import FINAL_STATUSES, ReimburseStatus, transition_allowed

Json = dict[str, Any]

_ERRMSG = {
    0: "ok",
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40013: "invalid appid",
    40014: "invalid access_token",
    40056: "invalid serial code",
    40073: "invalid card id",
    40097: "invalid args",
    40125: "invalid appsecret",
    41001: "access_token missing",
    42001: "access_token expired",
    45011: "api minute-quota reach limit  mustslower  retry next minute",
    47001: "data format error",
    72023: "invoice has been lock",
    72024: "invoice status error",
    72031: "invalid params",
    72037: "invoice owner error",
    72039: "invoice must be lock first",
}

_TOKEN_PREFIX = "SBX_"


def errmsg(errcode: int) -> str:
    """The errmsg WeChat sends with `errcode` (generic for codes the sandbox does not name)."""
    return _ERRMSG.get(errcode, "sandbox injected error")


def reply(errcode: int = 0, **fields: Any) -> Json:
    """A WeChat reply body: errcode, errmsg, then the fields."""
    return {"errcode": errcode, "errmsg": errmsg(errcode), **fields}


@dataclass
class _Token:
    appid: str
    expires_at: float
    revoked: bool = False
    #: Which platform's token it is: "official", "work", "component" or "authorizer".
    kind: str = "official"


@dataclass
class _Credential:
    value: str
    expires_at: float


@dataclass
class SandboxInvoice:
    """An invoice in some user's card package. `payload` is WeChat's JSON minus the parts
    that depend on who asks or on state (openid, user_info.reimburse_status)."""

    card_id: str
    encrypt_code: str
    holder: str
    payload: Json
    status: ReimburseStatus = ReimburseStatus.INIT
    lock_owner: str = ""
    #: The JSON key reimburse_status is sent under (one WeChat sample has a leading space).
    status_key: str = "reimburse_status"


@dataclass
class SandboxAccount:
    appid: str
    secret: str
    alias: str = ""


@dataclass
class Stats:
    """Calls seen, by endpoint and appid (token endpoints count fetches per account)."""

    calls: Counter[tuple[str, str]] = field(default_factory=Counter)

    def count(self, endpoint: str, appid: str = "") -> int:
        if appid:
            return self.calls[(endpoint, appid)]
        return sum(n for (name, _), n in self.calls.items() if name == endpoint)

    def as_json(self) -> Json:
        out: dict[str, dict[str, int]] = {}
        for (endpoint, appid), n in sorted(self.calls.items()):
            out.setdefault(endpoint, {})[appid] = n
        return out


class Emulator:
    """The sandbox's state and rules. Methods take parsed requests and return reply JSON."""

    def __init__(
        self,
        accounts: Iterable[SandboxAccount],
        invoices: Iterable[SandboxInvoice],
        *,
        clock: Callable[[], float] = time.time,
        token_ttl: int = 7200,
        overlap: int = 300,
        ticket_ttl: int = 7200,
    ) -> None:
        self.clock = clock
        self.token_ttl = token_ttl
        self.overlap = overlap
        self.ticket_ttl = ticket_ttl
        self.accounts = {a.appid: a for a in accounts}
        self.invoices: dict[tuple[str, str], SandboxInvoice] = {}
        for invoice in invoices:
            self.add_invoice(invoice)
        self.stats = Stats()
        self._tokens: dict[str, _Token] = {}
        self._classic: dict[str, list[str]] = {}
        self._stable: dict[str, str] = {}
        self._last_forced: dict[str, float] = {}
        self._tickets: dict[tuple[str, str], _Credential] = {}
        self._serial = itertools.count(1)
        #: What other platforms' emulations forget when an appid's tokens are invalidated.
        self.on_invalidate: list[Callable[[str], None]] = []

    # ----- state helpers -------------------------------------------------------------------

    def add_invoice(self, invoice: SandboxInvoice) -> None:
        self.invoices[(invoice.card_id, invoice.encrypt_code)] = invoice

    def openid(self, holder: str, appid: str) -> str:
        """The holder's openid as seen by `appid` (28 characters, like WeChat's)."""
        digest = hashlib.sha256(f"{appid}:{holder}".encode()).digest()
        return "o" + base64.urlsafe_b64encode(digest).decode()[:27]

    def status_of(self, card_id: str, encrypt_code: str) -> ReimburseStatus:
        return self.invoices[(card_id, encrypt_code)].status

    def change_behind_the_back(
        self,
        card_id: str,
        encrypt_code: str,
        *,
        status: ReimburseStatus | None = None,
        lock_owner: str = "",
        card_status: str | None = None,
    ) -> SandboxInvoice:
        """Changes an invoice as someone other than the gateway would: the issuer red-flushes
        it (CANCEL), another reimburser's system locks or unlocks it (`lock_owner` the appid
        that locks), the user's card expires or is deleted (`card_status`, WeChat's
        user_card_status; "" removes it). No rule is checked: WeChat's other clients did that.
        KeyError for an invoice the sandbox does not hold."""
        invoice = self.invoices[(card_id, encrypt_code)]
        if status is not None:
            invoice.status = status
            invoice.lock_owner = lock_owner if status is ReimburseStatus.LOCK else ""
        if card_status is not None:
            if card_status:
                invoice.payload["user_card_status"] = card_status
            else:
                invoice.payload.pop("user_card_status", None)
        return invoice

    def _new_token(self, appid: str, expires_at: float, kind: str = "official") -> str:
        value = f"{_TOKEN_PREFIX}{next(self._serial)}_{secrets.token_urlsafe(24)}"
        self._tokens[value] = _Token(appid, expires_at, kind=kind)
        return value

    def new_token(self, appid: str, expires_at: float, kind: str) -> str:
        """A token of another platform's `kind` (sandbox/work.py, sandbox/component.py)."""
        return self._new_token(appid, expires_at, kind)

    def revoke_token(self, value: str) -> None:
        """Makes one token invalid at once."""
        if value in self._tokens:
            self._tokens[value].revoked = True

    def token_expiry(self, value: str) -> float:
        return self._tokens[value].expires_at

    def shorten_token(self, value: str, expires_at: float) -> None:
        """Lets a replaced token live only until `expires_at`."""
        token = self._tokens[value]
        token.expires_at = min(token.expires_at, expires_at)

    def usable_token(self, value: str | None) -> bool:
        """Whether `value` is a known token, not revoked and not expired."""
        token = self._tokens.get(value or "")
        return token is not None and not token.revoked and token.expires_at > self.clock()

    def invalidate_tokens(self, appid: str) -> None:
        """Makes every token of `appid` invalid at once (as a forced refresh elsewhere would)."""
        for token in self._tokens.values():
            if token.appid == appid:
                token.revoked = True
        self._stable.pop(appid, None)
        self._classic.pop(appid, None)
        for forget in self.on_invalidate:
            forget(appid)

    def token_error(
        self,
        token: str,
        kinds: Iterable[str] = ("official", "authorizer"),
        *,
        unknown: int = 40001,
    ) -> tuple[int, str]:
        """(errcode, appid) for an access_token of one of `kinds`: errcode 0 when it is valid.
        `unknown` is the code for an unknown or revoked one (WeCom says 40014)."""
        if not token:
            return 41001, ""
        record = self._tokens.get(token)
        if not token.startswith(_TOKEN_PREFIX) or (record and record.kind not in kinds):
            return 40014, ""
        if record is None or record.revoked:
            return unknown, record.appid if record else ""
        if record.expires_at <= self.clock():
            return 42001, record.appid
        return 0, record.appid

    # ----- tokens and tickets --------------------------------------------------------------

    def _check_app(self, grant_type: Any, appid: Any, secret: Any) -> int:
        if grant_type != "client_credential":
            return 40002
        account = self.accounts.get(appid) if isinstance(appid, str) else None
        if account is None:
            return 40013
        if secret != account.secret:
            return 40125
        return 0

    def classic_token(self, query: Mapping[str, str]) -> Json:
        appid = query.get("appid", "")
        code = self._check_app(query.get("grant_type"), appid, query.get("secret"))
        if code:
            return reply(code)
        now = self.clock()
        issued = self._classic.setdefault(appid, [])
        for old in issued[:-1]:
            self._tokens[old].revoked = True
        if issued:
            previous = self._tokens[issued[-1]]
            previous.expires_at = min(previous.expires_at, now + self.overlap)
        token = self._new_token(appid, now + self.token_ttl)
        self._classic[appid] = [*issued[-1:], token]
        return {"access_token": token, "expires_in": self.token_ttl}

    def stable_token(self, body: Json) -> Json:
        appid = body.get("appid", "")
        code = self._check_app(body.get("grant_type"), appid, body.get("secret"))
        if code:
            return reply(code)
        now = self.clock()
        force = body.get("force_refresh") is True
        current = self._stable.get(appid)
        if force:
            if now - self._last_forced.get(appid, -1e9) < 30:
                return reply(45011)
            self._last_forced[appid] = now
            if current:
                self._tokens[current].revoked = True
            current = None
        record = self._tokens.get(current) if current else None
        if record is None or record.revoked or record.expires_at - now <= self.overlap:
            current = self._new_token(appid, now + self.token_ttl)
            self._stable[appid] = current
            record = self._tokens[current]
        return {"access_token": current, "expires_in": int(record.expires_at - now)}

    def get_ticket(
        self,
        appid: str,
        kind: str,
        kinds: Iterable[str] = ("jsapi", "wx_card"),
        invalid: int = 40097,
    ) -> Json:
        """The current ticket of `kind` (one of `kinds`; otherwise errcode `invalid`)."""
        if kind not in kinds:
            return reply(invalid)
        now = self.clock()
        ticket = self._tickets.get((appid, kind))
        if ticket is None or ticket.expires_at <= now:
            value = f"SBX_TICKET_{kind}_{next(self._serial)}_{secrets.token_urlsafe(40)}"
            ticket = _Credential(value, now + self.ticket_ttl)
            self._tickets[(appid, kind)] = ticket
        return reply(ticket=ticket.value, expires_in=int(ticket.expires_at - now))

    def ticket_value(self, appid: str, kind: str) -> str:
        """The ticket currently issued (so tests can check signatures independently)."""
        return self._tickets[(appid, kind)].value

    # ----- invoices ------------------------------------------------------------------------

    @staticmethod
    def _ref(item: Any) -> tuple[str, str] | None:
        if not isinstance(item, dict):
            return None
        card_id, code = item.get("card_id"), item.get("encrypt_code")
        if not isinstance(card_id, str) or not isinstance(code, str) or not card_id or not code:
            return None
        return card_id, code

    def _lookup(self, ref: tuple[str, str]) -> tuple[int, SandboxInvoice | None]:
        invoice = self.invoices.get(ref)
        if invoice is not None:
            return 0, invoice
        known_card = any(card_id == ref[0] for card_id, _ in self.invoices)
        return (40056 if known_card else 40073), None

    def render(self, invoice: SandboxInvoice, appid: str) -> Json:
        """The invoice's JSON as `appid` sees it."""
        data = copy.deepcopy(invoice.payload)
        data["card_id"] = invoice.card_id
        data["openid"] = self.openid(invoice.holder, appid)
        data.setdefault("user_info", {})[invoice.status_key] = invoice.status.value
        return data

    def get_invoice_info(self, appid: str, body: Json) -> Json:
        ref = self._ref(body)
        if ref is None:
            return reply(72031)
        code, invoice = self._lookup(ref)
        if invoice is None:
            return reply(code)
        return reply(**self.render(invoice, appid))

    def get_invoice_batch(self, appid: str, body: Json) -> Json:
        items = body.get("item_list")
        if not isinstance(items, list) or not items:
            return reply(72031)
        refs = [self._ref(item) for item in items]
        if any(ref is None for ref in refs):
            return reply(72031)
        found = [self.invoices.get(ref) for ref in refs if ref is not None]
        return reply(item_list=[self.render(inv, appid) for inv in found if inv is not None])

    def _transition_error(
        self, invoice: SandboxInvoice, appid: str, target: ReimburseStatus
    ) -> int:
        current = invoice.status
        if current in FINAL_STATUSES:
            return 72024
        if current is ReimburseStatus.LOCK and invoice.lock_owner != appid:
            return 72023
        if current is ReimburseStatus.INIT and target is ReimburseStatus.CLOSURE:
            return 72039
        return 0 if transition_allowed(current, target) else 72024

    @staticmethod
    def _target(value: Any) -> ReimburseStatus | None:
        try:
            target = ReimburseStatus(value)
        except ValueError:
            return None
        return None if target is ReimburseStatus.CANCEL else target

    @staticmethod
    def _apply(invoice: SandboxInvoice, appid: str, target: ReimburseStatus) -> None:
        invoice.status = target
        invoice.lock_owner = appid if target is ReimburseStatus.LOCK else ""

    def update_invoice_status(self, appid: str, body: Json) -> Json:
        ref, target = self._ref(body), self._target(body.get("reimburse_status"))
        if ref is None or target is None:
            return reply(72031)
        code, invoice = self._lookup(ref)
        if invoice is None:
            return reply(code)
        code = self._transition_error(invoice, appid, target)
        if code == 0:
            self._apply(invoice, appid, target)
        return reply(code)

    def update_status_batch(self, appid: str, body: Json) -> Json:
        openid, items = body.get("openid"), body.get("invoice_list")
        target = self._target(body.get("reimburse_status"))
        if not isinstance(openid, str) or not openid or target is None:
            return reply(72031)
        if not isinstance(items, list) or not items:
            return reply(72031)
        refs = [self._ref(item) for item in items]
        if any(ref is None for ref in refs) or len(set(refs)) != len(refs):
            return reply(72031)
        invoices: list[SandboxInvoice] = []
        for ref in refs:
            assert ref is not None
            code, invoice = self._lookup(ref)
            if invoice is None:
                return reply(code)
            if self.openid(invoice.holder, appid) != openid:
                return reply(72037)
            code = self._transition_error(invoice, appid, target)
            if code:
                return reply(code)
            invoices.append(invoice)
        # Every check passed before anything changed: the batch is all or none.
        for invoice in invoices:
            self._apply(invoice, appid, target)
        return reply(0)
