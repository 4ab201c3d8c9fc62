"""The errcode table: every code the upstream page names is mapped, unknown codes safely."""

import pytest
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
]


@pytest.mark.parametrize("code", UPSTREAM_PAGE_CODES)
def test_every_upstream_code_has_a_row(code: int) -> None:
    assert code in errcodes.ERRCODES


def test_unknown_codes_are_internal_and_never_retried() -> None:
    row = errcodes.lookup(12345)
    assert row.reason == "WECHAT_UNEXPECTED_ERRCODE" and row.retry is errcodes.Retry.NEVER
    assert errcodes.to_error(12345, "x", appid="wx").kind is ErrorKind.INTERNAL


def test_token_codes_are_the_refresh_once_set() -> None:
    assert {40001, 40014, 42001} == errcodes.TOKEN_ERRCODES
    assert isinstance(errcodes.to_error(40001, "x", appid="wx"), errcodes.TokenRejected)


def test_the_invoice_is_named_where_known() -> None:
    error = errcodes.to_error(72023, "locked", appid="wx", ref=InvoiceRef("c", "e"))
    assert error.metadata == {
        "wechat_errcode": "72023",
        "wechat_errmsg": "locked",
        "account": "wx",
        "card_id": "c",
        "encrypt_code": "e",
    }
    assert error.resource is not None and error.resource.name == "c/e"
