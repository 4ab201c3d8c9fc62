"""Per-platform tables and configuration: WeCom's and the component's errcodes, the account
keys each platform takes, and how accounts are named."""

import pytest
from fapiao_gateway.config import Settings
from fapiao_gateway.domain.accounts import Platform
from fapiao_gateway.domain.signatures import TicketKind
from fapiao_gateway.wechat import errcode_tables
from fapiao_gateway.wechat.accounts import Account, AccountRegistry
from fapiao_gateway.wechat.errcodes import Effect, to_error
from fapiao_gateway.wechat.platforms import PLATFORMS, Api
from pydantic import SecretStr, ValidationError


def test_only_wecoms_own_token_codes_refresh_a_wecom_token() -> None:
    assert errcode_tables.token_errcodes(Platform.WORK) == {40014, 42001}
    assert errcode_tables.token_errcodes(Platform.OFFICIAL_ACCOUNT) == {40001, 40014, 42001}
    assert errcode_tables.token_errcodes(Platform.COMPONENT) == {40001, 40014, 42001, 42006}


@pytest.mark.parametrize(
    ("code", "official", "work"),
    [
        (40001, "WECHAT_ACCESS_TOKEN_REJECTED", "WECHAT_INVALID_SECRET"),
        (40056, "INVOICE_NOT_FOUND", "WECHAT_INVALID_AGENT_ID"),
        (40073, "INVOICE_NOT_FOUND", "WECHAT_INVALID_OPENID"),
        (40078, "WECHAT_CARD_PERMISSION_MISSING", "WECHAT_INVALID_AUTH_CODE"),
        (60020, "WECHAT_UNRECOGNIZED_ERRCODE", "WECHAT_IP_NOT_WHITELISTED"),
        (72023, "INVOICE_LOCKED_BY_OTHER_ACCOUNT", "INVOICE_LOCKED_BY_OTHER_ACCOUNT"),
    ],
)
def test_one_errcode_two_meanings(code: int, official: str, work: str) -> None:
    assert errcode_tables.lookup(Platform.OFFICIAL_ACCOUNT, code).reason == official
    assert errcode_tables.lookup(Platform.WORK, code).reason == work


def test_the_component_table_is_the_official_one_plus_the_open_platforms() -> None:
    official = errcode_tables.table(Platform.OFFICIAL_ACCOUNT)
    component = errcode_tables.table(Platform.COMPONENT)
    # The open platform's own meanings of 61003 and 61007 (a merchant's authorization)
    # replace the official table's generic ones.
    overridden = {42006, 61003, 61007}
    assert all(component[code] == row for code, row in official.items() if code not in overridden)
    for code in (61005, 61006, 61011, 61024, 42006):
        assert code in component and code not in official
    for code in (61003, 61007):
        assert component[code].effect is official[code].effect is Effect.ACCOUNT
        assert component[code].remedy
    assert component[61006].effect is Effect.ACCOUNT


def test_the_platforms_row_decides_the_domain_error() -> None:
    row = errcode_tables.lookup(Platform.WORK, 40056)
    error = to_error(40056, "invalid agentid", account="ww1/1000002", row=row)
    assert error.reason == "WECHAT_INVALID_AGENT_ID"
    assert error.wechat_errcode == 40056


def test_every_platform_has_every_invoice_call_and_its_tickets() -> None:
    for platform, spec in PLATFORMS.items():
        for api in (Api.GET_INVOICE_INFO, Api.UPDATE_INVOICE_STATUS, Api.UPDATE_STATUS_BATCH):
            assert api in spec.paths, (platform, api)
        assert spec.batch_read in spec.paths
        assert {TicketKind.JSAPI, TicketKind.WX_CARD} <= set(spec.tickets)
    work = PLATFORMS[Platform.WORK]
    assert work.paths[Api.GET_INVOICE_INFO_BATCH] == (
        "/cgi-bin/card/invoice/reimburse/getinvoiceinfobatch"
    )
    assert work.tickets[TicketKind.AGENT_CONFIG].query == {"type": "agent_config"}
    assert TicketKind.AGENT_CONFIG not in PLATFORMS[Platform.OFFICIAL_ACCOUNT].tickets


WORK = {
    "platform": "work",
    "corp_id": "ww1234567890abcdef",
    "agent_id": 1000002,
    "secret": "s",
    "alias": "corp",
}
COMPONENT = {
    "component_appid": "wxc0c0c0c0c0c0c0c0",
    "component_appsecret": "s",
    "token": "t",
    "encoding_aes_key": "a" * 43,
}
MERCHANT = {
    "platform": "component",
    "appid": "wxm1m1m1m1m1m1m1m1",
    "component_appid": "wxc0c0c0c0c0c0c0c0",
    "refresh_token": "refreshtoken@@@x",
}


def test_a_work_account_in_the_issues_shape() -> None:
    (account,) = Settings(accounts=[{**WORK, "base_url": ""}]).accounts
    assert account.key == "ww1234567890abcdef/1000002"
    assert "s" not in repr(account.secret)


def test_a_component_merchant() -> None:
    settings = Settings(components=[COMPONENT], accounts=[MERCHANT])
    assert settings.accounts[0].key == MERCHANT["appid"]


@pytest.mark.parametrize(
    ("account", "message"),
    [
        ({**WORK, "appid": "wx1"}, "does not take appid"),
        ({**WORK, "token_endpoint": "classic"}, "does not take token_endpoint"),
        ({k: v for k, v in WORK.items() if k != "agent_id"}, "needs agent_id"),
        ({k: v for k, v in WORK.items() if k != "secret"}, "needs secret"),
        ({"appid": "wx1", "secret": "s", "corp_id": "ww1"}, "does not take corp_id"),
        ({"appid": "wx1"}, "needs secret"),
        ({**MERCHANT, "secret": "s"}, "does not take secret"),
        ({k: v for k, v in MERCHANT.items() if k != "refresh_token"}, "needs refresh_token"),
    ],
)
def test_each_platform_takes_its_own_keys(account: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(components=[COMPONENT], accounts=[account])


def test_a_merchant_needs_its_platform_configured() -> None:
    with pytest.raises(ValidationError, match="components that are not configured"):
        Settings(accounts=[MERCHANT])
    with pytest.raises(ValidationError, match="43 characters"):
        Settings(components=[{**COMPONENT, "encoding_aes_key": "short"}])


def app(agent_id: int, alias: str) -> Account:
    corp = "ww1234567890abcdef"
    return Account(
        appid=f"{corp}/{agent_id}",
        secret=SecretStr("s"),
        alias=alias,
        platform=Platform.WORK,
        corp_id=corp,
        agent_id=agent_id,
    )


def test_the_corp_id_names_a_corps_only_app() -> None:
    registry = AccountRegistry([app(1000002, "expenses")])
    found = registry.find("ww1234567890abcdef")
    assert found is not None and found.appid == "ww1234567890abcdef/1000002"
    assert found.jsapi_app_id == "ww1234567890abcdef"


def test_with_two_apps_of_one_corp_the_corp_id_names_neither() -> None:
    registry = AccountRegistry([app(1000002, "expenses"), app(1000003, "travel")])
    assert registry.find("ww1234567890abcdef") is None
    travel = registry.find("travel")
    assert travel is not None and travel.agent_id == 1000003


def test_docs_list_every_wecom_and_component_errcode() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "errors.md").read_text()
    documented = {
        (int(cells[1]), cells[4])
        for line in text.splitlines()
        if (cells := [c.strip() for c in line.split("|")])
        and len(cells) == 6
        and cells[1].lstrip("-").isdigit()
    }
    rows = [*errcode_tables.WORK_ERRCODES.values()]
    rows += [errcode_tables.COMPONENT_ERRCODES[c] for c in (42006, 61003, 61005, 61006, 61007)]
    missing = [(r.code, r.reason) for r in rows if (r.code, r.reason) not in documented]
    assert not missing, f"add these to docs/errors.md: {missing}"
