"""The errcode table: every code the upstream page names is mapped, unknown codes safely."""

import pytest
from fapiao_gateway.api.errors import error_metadata
from fapiao_gateway.domain.errors import ErrorKind
from fapiao_gateway.domain.invoice import InvoiceRef
from fapiao_gateway.wechat import errcodes

UPSTREAM_PAGE_CODES = [
    -1,
    40001,
    40014,
    42001,
    45009,
    45011,
    48001,
    50001,
    40164,
    61004,
    61023,
    72015,
    72017,
    72023,
    72024,
    72025,
    72031,
    72036,
    72037,
    72038,
    72039,
    72040,
    40078,
    # seed 001 §9 beyond the upstream page
    72028,
    72029,
    72030,
    72035,
    72042,
    72043,
    72044,
]


@pytest.mark.parametrize("code", UPSTREAM_PAGE_CODES)
def test_every_upstream_code_has_a_row(code: int) -> None:
    assert code in errcodes.ERRCODES


def test_unknown_codes_are_wechats_own_failures_and_never_retried() -> None:
    row = errcodes.lookup(12345)
    assert row.reason == "WECHAT_UNRECOGNIZED_ERRCODE" and row.retry is errcodes.Retry.NEVER
    error = errcodes.to_error(12345, "new failure", account="wx")
    assert error.kind is ErrorKind.UNKNOWN
    assert (error.wechat_errcode, error.wechat_errmsg) == (12345, "new failure")


def test_only_the_gateways_own_mistakes_are_internal() -> None:
    internal = {
        code for code, row in errcodes.ERRCODES.items() if row.effect is errcodes.Effect.INTERNAL
    }
    assert internal == {40002, 41001, 43001, 43002, 44002, 47001}


def test_every_account_row_says_what_to_fix() -> None:
    for row in errcodes.ERRCODES.values():
        if row.effect in (errcodes.Effect.ACCOUNT, errcodes.Effect.TOKEN):
            assert row.remedy, row.code


def test_token_codes_are_the_refresh_once_set() -> None:
    assert {40001, 40014, 42001} == errcodes.TOKEN_ERRCODES
    refused = errcodes.to_error(40001, "x", account="wx")
    assert refused.kind is ErrorKind.FAILED_PRECONDITION
    assert refused.reason == "WECHAT_ACCESS_TOKEN_REJECTED"


def test_the_errcode_and_the_invoice_are_typed_facts() -> None:
    error = errcodes.to_error(
        72023, "locked", account="wx", api="updateinvoicestatus", ref=InvoiceRef("c", "e")
    )
    assert (error.wechat_errcode, error.wechat_errmsg, error.account) == (72023, "locked", "wx")
    assert error.ref == InvoiceRef("c", "e")
    assert error_metadata(error) == {
        "wechat_errcode": "72023",
        "wechat_errmsg": "locked",
        "wechat_api": "updateinvoicestatus",
        "account": "wx",
        "card_id": "c",
        "encrypt_code": "e",
    }
    assert error.resource is not None and error.resource.name == "c/e"
