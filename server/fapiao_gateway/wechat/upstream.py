"""One upstream call, start to finish: HTTP, WeChat's envelope, errcodes, bounded retries.

Retry rules (why each case is safe):
- Reads (getinvoiceinfo, getinvoicebatch, tokens, tickets) change nothing at WeChat, so they
  are retried on -1, 72036, HTTP 5xx, unparseable bodies and transport failures.
- Writes (updateinvoicestatus, updatestatusbatch) are retried only when WeChat cannot have
  applied them: 72036 ("invoice is busy", refused before any change) and a connection that
  failed before the request was sent. A timeout, a 5xx or -1 after sending may have changed
  the invoice, so a write is never sent again after one of those.
Every attempt's timeout and every backoff sleep are cut to the caller's deadline; when the
deadline cannot cover the next try, the call ends with DEADLINE_EXCEEDED, never a late success.
Each attempt's outcome and each retry are reported to an observer (wechat/observer.py).
"""

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from fapiao_gateway.domain.context import Deadline
from fapiao_gateway.domain.errors import DeadlineExceeded, GatewayError, Internal, Unavailable
from fapiao_gateway.wechat import errcode_tables
from fapiao_gateway.wechat.accounts import Account
from fapiao_gateway.wechat.errcodes import Effect, Retry, WeChatRefused
from fapiao_gateway.wechat.models import Envelope
from fapiao_gateway.wechat.observer import (
    HTTP_ERROR,
    MALFORMED,
    OK,
    TIMEOUT,
    UNREACHABLE,
    UNRECOGNIZED,
    NoObserver,
    Outcome,
    UpstreamObserver,
)
from fapiao_gateway.wechat.platforms import MUTATING_APIS, PLATFORMS, TOKEN_APIS, Api
from fapiao_gateway.wechat.transport import HttpRequest, Transport, TransportError

ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded in attempts (and by the deadline)."""

    max_attempts: int = 4
    base_delay: float = 0.1
    max_delay: float = 2.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Sleep before attempt `attempt + 1`: uniform in [0, min(max, base * 2^(attempt-1))]."""
        return rng.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


class _Retryable(Exception):
    def __init__(self, error: GatewayError | WeChatRefused, retry: Retry) -> None:
        self.error = error
        self.retry = retry


#: The kind of outcome each failure without an errcode is, by its reason.
_FAILURE_KINDS = {
    "WECHAT_UNREACHABLE": UNREACHABLE,
    "DEADLINE_EXHAUSTED": TIMEOUT,
    "WECHAT_HTTP_ERROR": HTTP_ERROR,
    "WECHAT_MALFORMED_REPLY": MALFORMED,
}


def outcome_of(failure: GatewayError | WeChatRefused) -> Outcome:
    """What an attempt that failed with `failure` is reported as."""
    if isinstance(failure, WeChatRefused):
        row = failure.row
        known = row is not None and row.effect is not Effect.UNRECOGNIZED
        return Outcome(str(failure.errcode) if known else UNRECOGNIZED, failure.errcode, row)
    return Outcome(_FAILURE_KINDS.get(failure.reason, MALFORMED))


def deadline_exceeded(account: Account, api: Api) -> DeadlineExceeded:
    """The error for a call whose caller's deadline ran out before WeChat answered."""
    return DeadlineExceeded(
        f"The caller's deadline ran out before WeChat answered {api.value}.",
        reason="DEADLINE_EXHAUSTED",
        account=account.appid,
        wechat_api=api.value,
    )


def malformed(account: Account, api: Api, what: str) -> Internal:
    """The error for a WeChat reply the gateway cannot understand (never echoes the body)."""
    return Internal(
        f"WeChat's reply to {api.value} is malformed: {what}.",
        reason="WECHAT_MALFORMED_REPLY",
        account=account.appid,
        wechat_api=api.value,
    )


def parse_reply(model: type[ModelT], payload: Any, account: Account, api: Api) -> ModelT:
    """Validates a reply against its model; a mismatch is WECHAT_MALFORMED_REPLY (INTERNAL)."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) or "reply" for e in exc.errors())
        raise malformed(account, api, f"unexpected shape at {fields}") from None


#: Reads WeChat's replies: fractional numbers as exact Decimals. Made once (json.loads with
#: parse_float builds a decoder per call).
_JSON = json.JSONDecoder(parse_float=Decimal)


class Upstream:
    """Makes calls to WeChat for any account, through one `Transport`."""

    def __init__(
        self,
        transport: Transport,
        *,
        request_timeout: float,
        retry: RetryPolicy,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        observer: UpstreamObserver | None = None,
    ) -> None:
        self._transport = transport
        self._observer = observer or NoObserver()
        self._timeout = request_timeout
        self._retry = retry
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 (jitter, not security)

    async def call(
        self,
        account: Account,
        api: Api,
        *,
        deadline: Deadline,
        query: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The reply's JSON object once errcode is 0. Otherwise WeChatRefused (an errcode, for
        the boundary to explain) or a GatewayError (no usable answer at all)."""
        mutating = api in MUTATING_APIS
        attempt = 0
        while True:
            attempt += 1
            began = time.perf_counter()
            try:
                payload = await self._attempt(account, api, deadline, query, body)
            except (WeChatRefused, GatewayError) as failed:
                self._observer.answered(
                    account.appid, api, outcome_of(failed), time.perf_counter() - began
                )
                raise
            except _Retryable as failed:
                outcome = outcome_of(failed.error)
                self._observer.answered(account.appid, api, outcome, time.perf_counter() - began)
                allowed = failed.retry is Retry.ALWAYS or (
                    failed.retry is Retry.READS and not mutating
                )
                if not allowed or attempt >= self._retry.max_attempts:
                    failed.error.maybe_applied = mutating and failed.retry is Retry.READS
                    raise failed.error from None
                pause = self._retry.delay(attempt, self._rng)
                left = deadline.remaining()
                if left is not None and left <= pause:
                    raise deadline_exceeded(account, api) from None
                self._observer.retrying(account.appid, api, outcome, attempt, pause)
                await self._sleep(pause)
            else:
                self._observer.answered(account.appid, api, OK, time.perf_counter() - began)
                return payload

    async def _attempt(
        self,
        account: Account,
        api: Api,
        deadline: Deadline,
        query: Mapping[str, str] | None,
        body: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        timeout = deadline.cap(self._timeout)
        if timeout <= 0:
            raise deadline_exceeded(account, api)
        url = account.upstream_base_url + PLATFORMS[account.platform].paths[api]
        request = HttpRequest(
            method="GET" if body is None else "POST",
            url=url,
            params=dict(query or {}),
            body=None if body is None else json.dumps(body, ensure_ascii=False).encode(),
        )
        try:
            reply = await self._transport.send(request, timeout=timeout)
        except TransportError as exc:
            if exc.timed_out and deadline.expired():
                late = deadline_exceeded(account, api)
                late.maybe_applied = api in MUTATING_APIS and exc.maybe_sent
                raise late from None
            error = Unavailable(
                f"WeChat could not be reached for {api.value} ({exc}).",
                reason="WECHAT_UNREACHABLE",
                retry_after=1.0,
                account=account.appid,
                wechat_api=api.value,
            )
            raise _Retryable(error, Retry.READS if exc.maybe_sent else Retry.ALWAYS) from None
        if reply.status >= 500:
            error = Unavailable(
                f"WeChat answered {api.value} with HTTP {reply.status}.",
                reason="WECHAT_HTTP_ERROR",
                metadata={"http_status": str(reply.status)},
                retry_after=1.0,
                account=account.appid,
                wechat_api=api.value,
            )
            raise _Retryable(error, Retry.READS)
        if reply.status != 200:
            raise Internal(
                f"WeChat answered {api.value} with HTTP {reply.status}.",
                reason="WECHAT_HTTP_ERROR",
                metadata={"http_status": str(reply.status)},
                account=account.appid,
                wechat_api=api.value,
            )
        try:
            # Fractional numbers (a line's quantity and unit price) as exact Decimals: a float
            # would already have changed them.
            payload = _JSON.decode(reply.body.decode())
        except ValueError:
            error = Unavailable(
                f"WeChat's reply to {api.value} is not JSON.",
                reason="WECHAT_MALFORMED_REPLY",
                retry_after=1.0,
                account=account.appid,
                wechat_api=api.value,
            )
            raise _Retryable(error, Retry.READS) from None
        if not isinstance(payload, dict):
            raise malformed(account, api, "not a JSON object")
        envelope = parse_reply(Envelope, payload, account, api)
        if envelope.errcode is None:
            if api in TOKEN_APIS:  # replies that legitimately carry no errcode
                return payload
            raise malformed(account, api, "no errcode")
        if envelope.errcode == 0:
            return payload
        refused = WeChatRefused(envelope.errcode, envelope.errmsg, api=api.value)
        refused.row = errcode_tables.lookup(account.platform, envelope.errcode)
        retry = refused.row.retry
        if retry is not Retry.NEVER:
            raise _Retryable(refused, retry)
        raise refused
