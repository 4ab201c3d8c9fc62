"""What the gateway does with the adapter's reports (wechat/observer.py): metrics, log lines
at the level each deserves, and per-account health.

Levels: an account-side errcode that breaks an account (IP not whitelisted, API or invoice
permission missing, a refused secret) is an ERROR once, when it breaks it, naming what to
fix; the account working again is a WARNING (an operator will want to see it next to the
error). Retries, token and ticket fetches, and WeChat refusing a token (which the gateway
refreshes once) are INFO. Errcodes no table knows are logged at WARNING where they become
errors (wechat/errcodes.py). No line carries a token, a ticket or a URL: outcomes hold none.
"""

import logging

from fapiao_gateway.telemetry.account_health import AccountHealth, account_service
from fapiao_gateway.telemetry.metrics import GatewayMetrics
from fapiao_gateway.wechat.errcodes import Effect
from fapiao_gateway.wechat.observer import Outcome
from fapiao_gateway.wechat.platforms import TOKEN_APIS, Api

log = logging.getLogger("fapiao_gateway.upstream")

#: What each credential-handing API hands out (the metric's `credential` label).
_CREDENTIALS = {
    Api.TOKEN: "access_token",
    Api.STABLE_TOKEN: "access_token",
    Api.WORK_TOKEN: "access_token",
    Api.AUTHORIZER_TOKEN: "access_token",
    Api.COMPONENT_TOKEN: "component_token",
    Api.GET_TICKET: "ticket",
    Api.WORK_JSAPI_TICKET: "ticket",
    Api.WORK_TICKET: "ticket",
}


def breaks_account(api: Api, outcome: Outcome) -> bool:
    """Whether the outcome says the account itself needs an operator: an account-side row,
    or a token endpoint refusing the account's own credentials (40001 from /cgi-bin/token
    is a wrong secret, not a stale token)."""
    row = outcome.row
    if row is None:
        return False
    return row.effect is Effect.ACCOUNT or (row.effect is Effect.TOKEN and api in TOKEN_APIS)


class UpstreamWatch:
    """wechat.observer.UpstreamObserver: counts, logs and keeps per-account health."""

    def __init__(self, metrics: GatewayMetrics | None, health: AccountHealth) -> None:
        self._metrics = metrics
        self._health = health

    def answered(self, appid: str, api: Api, outcome: Outcome, seconds: float) -> None:
        account = self._health.label(appid)
        metrics = self._metrics
        if metrics is not None:
            metrics.upstream_answered(api.value, account, outcome.label, seconds)
            credential = _CREDENTIALS.get(api)
            if credential is not None:
                result = "ok" if outcome.ok else "refused" if outcome.errcode else "failed"
                metrics.credential_fetches.labels(account, credential, result).inc()
        if outcome.ok:
            self._succeeded(appid, account, api)
        elif breaks_account(api, outcome):
            self._refused(appid, account, api, outcome)
        elif outcome.row is not None and outcome.row.effect is Effect.TOKEN:
            log.info(
                "WeChat refused the access token of account %s (errcode %s on %s): the "
                "gateway fetches a new one and retries once",
                account,
                outcome.label,
                api.value,
            )

    def retrying(self, appid: str, api: Api, outcome: Outcome, attempt: int, pause: float) -> None:
        account = self._health.label(appid)
        if self._metrics is not None:
            self._metrics.upstream_retries.labels(api.value, account, outcome.label).inc()
        log.info(
            "retrying %s for account %s after attempt %d ended with %s, in %.3f s",
            api.value,
            account,
            attempt,
            outcome.label,
            pause,
        )

    def _succeeded(self, appid: str, account: str, api: Api) -> None:
        credential = _CREDENTIALS.get(api)
        if credential is not None:
            log.info("%s of account %s fetched from %s", credential, account, api.value)
        if self._health.answered(appid, api.value):
            log.warning(
                "WeChat account %s works again (%s answered); health %s is SERVING",
                account,
                api.value,
                account_service(account),
            )

    def _refused(self, appid: str, account: str, api: Api, outcome: Outcome) -> None:
        row = outcome.row
        assert row is not None
        if not self._health.refused(appid, api.value):
            log.info(
                "WeChat account %s is still refused: errcode %s on %s",
                account,
                outcome.label,
                api.value,
            )
            return
        fix = row.remedy or "see the account's settings in the WeChat platform"
        log.error(
            "WeChat account %s needs an operator: errcode %s on %s (%s); fix: %s. Its calls "
            "fail until then; health %s is NOT_SERVING",
            account,
            outcome.label,
            api.value,
            row.meaning,
            fix,
            account_service(account),
        )
