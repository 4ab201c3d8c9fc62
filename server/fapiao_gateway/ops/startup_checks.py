"""What the gateway tells its operator as it starts: the configuration's findings (plaintext
listening, callers without credentials, ...) and, per WeChat account, whether a token can be
fetched.

The token check runs in the background once the server listens: an account WeChat refuses
(wrong secret, server IP not whitelisted) or cannot be reached is logged at WARNING with the
reason, and start-up neither waits for WeChat nor fails because of it. It takes tokens through
the same cache as calls, so a token it fetches is the one the first call uses; in sandbox mode
it is skipped (the emulator's accounts always work, and tests count their fetches).
"""

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from fapiao_gateway.config import Settings
from fapiao_gateway.domain.context import Deadline
from fapiao_gateway.domain.errors import GatewayError
from fapiao_gateway.ops.config_review import Level, review
from fapiao_gateway.wechat.accounts import Account, AccountRegistry
from fapiao_gateway.wechat.boundary import wechat_call
from fapiao_gateway.wechat.tokens import AccessTokens

log = logging.getLogger("fapiao_gateway.startup")

#: Findings the sandbox banner already states louder than a log line.
_SAID_ELSEWHERE = frozenset({"sandbox"})
_LOG_LEVEL = {Level.ERROR: logging.ERROR, Level.WARNING: logging.WARNING, Level.NOTE: logging.INFO}


@dataclass
class StartupChecks:
    """The background token check, stopped with the gateway."""

    token_check: asyncio.Task[None] | None

    async def aclose(self) -> None:
        if self.token_check is not None:
            self.token_check.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.token_check


def start_checks(
    settings: Settings, accounts: AccountRegistry, tokens: AccessTokens
) -> StartupChecks:
    """Logs the configuration's findings and starts the per-account token check."""
    configured = list(accounts)
    for finding in review(settings):
        if finding.setting not in _SAID_ELSEWHERE:
            log.log(_LOG_LEVEL[finding.level], "config %s: %s", finding.setting, finding.message)
    if settings.sandbox:
        return StartupChecks(None)
    timeout = settings.upstream.token_fetch_timeout_seconds
    return StartupChecks(asyncio.create_task(check_tokens(configured, tokens, timeout)))


async def check_tokens(accounts: list[Account], tokens: AccessTokens, timeout: float) -> None:
    """Fetches (or finds cached) one token per account, logging each that cannot get one."""
    await asyncio.gather(*(_check_token(account, tokens, timeout) for account in accounts))


async def _check_token(account: Account, tokens: AccessTokens, timeout: float) -> None:
    name = f"{account.appid} ({account.alias})" if account.alias else account.appid
    try:
        with wechat_call(account.appid, tokens.token_api(account)):
            await tokens.get(account, Deadline.after(timeout))
    except GatewayError as exc:
        log.warning(
            "account %s cannot fetch an access token, so its calls will fail: %s (%s)",
            name,
            exc.message,
            exc.reason,
        )
    except Exception as exc:  # e.g. Redis down: still only a start-up report
        log.warning("account %s: the token check failed: %s: %s", name, type(exc).__name__, exc)
    else:
        log.info("account %s: access token ok", name)
