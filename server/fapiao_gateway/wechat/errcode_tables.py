"""Errcode tables per platform: the same errcode means different things on WeCom.

The Official Account / Mini Program table is errcodes.ERRCODES. This module adds:

WORK (Weixin Work, qyapi.weixin.qq.com). WeCom's own global errcode page ("全局错误码",
document/path/90313, mirrored in WxJava's WxCpErrorMsgEnum) defines the codes it shares with
api.weixin.qq.com differently, so WeCom's table is its own:
- 40001 is "不合法的secret参数" (a wrong app secret, answered by gettoken), not a refused token:
  only 40014 and 42001 make the gateway expire the token and retry once.
- 40013 is an invalid corp ID, 40056 an invalid agentid (on api.weixin.qq.com: an unknown
  encrypt_code), 40073 an invalid openid (there: an unknown card_id), 40078 an invalid
  auth_code (there: an invalid card status), 60020 the server's IP not in the app's trusted
  IPs, 48002 an API the app may not call, 50002 a user outside the app's visible range, 50003 a
  disabled app, 45033 too many concurrent calls.
- The invoice codes come from WeChat's card backend behind WeCom: 72023, 72024 and 72037 are in
  WeCom's own table with the same meaning; the other 72xxx codes are kept with the meanings of
  WeChat's invoice pages (seed 001 §9), which WeCom's invoice pages point to. WeCom publishes no
  "unknown invoice" code (40056/40073 mean other things there): an unknown card_id or
  encrypt_code reaches callers as WeChat's 72031 (invalid params), INVALID_ARGUMENT on
  `invoice`, which is also what the sandbox's WeCom answers.

COMPONENT (a merchant called with an authorizer_access_token, on api.weixin.qq.com): the
Official Account table plus the open platform's codes (WeChat's open-platform errcode page, as
in WxJava's WxOpenErrorMsgEnum and wechatpy's component client): 61003 (the merchant withdrew
its authorization), 61005/61006 (component_verify_ticket expired / invalid), 61007 (the API's
permission set, 26, was not granted to the platform), 61011 (invalid third-party platform),
61023 (authorizer_refresh_token invalid), 61024 (a component account must use
api_component_token), 42006 (component_access_token expired: refreshed once, like a token).
"""

import functools
from collections.abc import Mapping

from fapiao_gateway.domain.accounts import Platform
from fapiao_gateway.wechat.errcodes import ERRCODES, Effect, Errcode, Retry, unrecognized

_WORK_ROWS = (
    Errcode(-1, "WECHAT_BUSY", "WeCom is busy; try again later", Effect.BUSY, Retry.READS, 1.0),
    Errcode(40014, "WECHAT_ACCESS_TOKEN_REJECTED", "WeCom: invalid access_token", Effect.TOKEN),
    Errcode(42001, "WECHAT_ACCESS_TOKEN_REJECTED", "WeCom: access_token expired", Effect.TOKEN),
    Errcode(41001, "WECHAT_ACCESS_TOKEN_MISSING", "WeCom: access_token missing", Effect.INTERNAL),
    Errcode(
        40001,
        "WECHAT_INVALID_SECRET",
        "WeCom: the configured app secret is invalid",
        Effect.ACCOUNT,
    ),
    Errcode(
        40091,
        "WECHAT_INVALID_SECRET",
        "WeCom: the secret is not valid for this corp",
        Effect.ACCOUNT,
    ),
    Errcode(
        40013, "WECHAT_INVALID_APPID", "WeCom: the configured corp ID is invalid", Effect.ACCOUNT
    ),
    Errcode(
        40056, "WECHAT_INVALID_AGENT_ID", "WeCom: the configured agentid is invalid", Effect.ACCOUNT
    ),
    Errcode(41002, "WECHAT_MALFORMED_REQUEST", "WeCom: corpid missing", Effect.INTERNAL),
    Errcode(41004, "WECHAT_MALFORMED_REQUEST", "WeCom: secret missing", Effect.INTERNAL),
    Errcode(47001, "WECHAT_MALFORMED_REQUEST", "request body is not valid JSON", Effect.INTERNAL),
    Errcode(40078, "WECHAT_INVALID_AUTH_CODE", "WeCom: invalid auth_code", Effect.INTERNAL),
    Errcode(40093, "WECHAT_INVALID_TICKET", "WeCom: invalid jsapi_ticket", Effect.INTERNAL),
    Errcode(91040, "WECHAT_INVALID_TICKET", "WeCom: invalid ticket type", Effect.INTERNAL),
    Errcode(
        60020,
        "WECHAT_IP_NOT_WHITELISTED",
        "WeCom: the gateway's IP is not among the app's trusted IPs",
        Effect.ACCOUNT,
    ),
    Errcode(
        48002,
        "WECHAT_API_UNAUTHORIZED",
        "WeCom: the app may not call this API",
        Effect.ACCOUNT,
    ),
    Errcode(
        48004, "WECHAT_API_UNAUTHORIZED", "WeCom: the authorization is invalid", Effect.ACCOUNT
    ),
    Errcode(50003, "WECHAT_APP_DISABLED", "WeCom: the app is disabled", Effect.ACCOUNT),
    Errcode(
        301002,
        "WECHAT_API_UNAUTHORIZED",
        "WeCom: no permission to act for this app",
        Effect.ACCOUNT,
    ),
    Errcode(
        72015,
        "WECHAT_INVOICE_PERMISSION_MISSING",
        "the corp has no permission for invoice operations",
        Effect.ACCOUNT,
    ),
    Errcode(
        50002,
        "USER_API_UNAUTHORIZED",
        "WeCom: the user is outside the app's visible range",
        Effect.INVOICE_STATE,
    ),
    Errcode(
        40073,
        "WECHAT_INVALID_OPENID",
        "WeCom: invalid openid",
        Effect.BAD_ARGUMENT,
        field="openid",
    ),
    Errcode(
        45009,
        "WECHAT_DAILY_QUOTA_EXCEEDED",
        "WeCom: the API call limit is reached",
        Effect.QUOTA,
    ),
    Errcode(
        45033,
        "WECHAT_RATE_LIMITED",
        "WeCom: too many concurrent calls; retry shortly",
        Effect.QUOTA,
        retry_after=1.0,
    ),
    *(ERRCODES[code] for code in (72017, 72023, 72024, 72025, 72031, 72036, 72037, 72038, 72039)),
)

_COMPONENT_ROWS = (
    Errcode(
        42006,
        "WECHAT_ACCESS_TOKEN_REJECTED",
        "component_access_token expired",
        Effect.TOKEN,
    ),
    Errcode(
        61003,
        "COMPONENT_NOT_AUTHORIZED",
        "the merchant has not authorized (or withdrew) the third-party platform",
        Effect.ACCOUNT,
        remedy="have the merchant authorize the third-party platform again",
    ),
    Errcode(
        61005,
        "COMPONENT_VERIFY_TICKET_INVALID",
        "the component_verify_ticket has expired",
        Effect.ACCOUNT,
    ),
    Errcode(
        61006,
        "COMPONENT_VERIFY_TICKET_INVALID",
        "the component_verify_ticket is invalid",
        Effect.ACCOUNT,
    ),
    Errcode(
        61007,
        "COMPONENT_API_UNAUTHORIZED",
        "the merchant did not grant the platform this API (invoice permission set 26)",
        Effect.ACCOUNT,
        remedy="have the merchant grant permission set 26 (invoices) to the platform",
    ),
    Errcode(
        61011,
        "COMPONENT_INVALID",
        "the configured third-party platform is invalid",
        Effect.ACCOUNT,
    ),
    Errcode(
        61024,
        "COMPONENT_INVALID",
        "a component account must fetch its token with api_component_token",
        Effect.INTERNAL,
    ),
)

#: The WeCom table, by errcode.
WORK_ERRCODES: dict[int, Errcode] = {row.code: row for row in _WORK_ROWS}
#: The third-party platform's table: the Official Account's, plus the open platform's codes.
COMPONENT_ERRCODES: dict[int, Errcode] = {
    **ERRCODES,
    **{row.code: row for row in _COMPONENT_ROWS},
}

_TABLES: dict[Platform, Mapping[int, Errcode]] = {
    Platform.OFFICIAL_ACCOUNT: ERRCODES,
    Platform.MINI_PROGRAM: ERRCODES,
    Platform.WORK: WORK_ERRCODES,
    Platform.COMPONENT: COMPONENT_ERRCODES,
}


def table(platform: Platform) -> Mapping[int, Errcode]:
    """The errcode table of `platform`."""
    return _TABLES[platform]


def lookup(platform: Platform, errcode: int) -> Errcode:
    """The row for `errcode` on `platform`; a code the table does not know is WeChat's own
    failure (errcodes.unrecognized), never retried."""
    return table(platform).get(errcode) or unrecognized(errcode)


@functools.cache
def token_errcodes(platform: Platform) -> frozenset[int]:
    """The errcodes that mean "this token is refused" on `platform`: compare-and-expire it,
    fetch again, retry once."""
    return frozenset(code for code, row in table(platform).items() if row.effect is Effect.TOKEN)
