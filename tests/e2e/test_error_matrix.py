"""Every WeChat errcode and transport failure, injected at the sandbox, as the caller sees it."""

import logging
from dataclasses import dataclass

import grpc
import pytest
from fapiao.v1 import invoice_pb2, invoice_service_pb2
from fapiao_gateway.sandbox import seed
from fapiao_gateway.sandbox.app import Sandbox
from fapiao_gateway.sandbox.faults import FaultKind

from tests.conftest import FAST_UPSTREAM
from tests.rpc import Failure, Stub, failure_of

INVOICE = seed.invoices()[0]
REQUEST = invoice_service_pb2.GetInvoiceRequest(
    account="sandbox",
    invoice=invoice_pb2.InvoiceRef(card_id=INVOICE.card_id, encrypt_code=INVOICE.encrypt_code),
)
ATTEMPTS = FAST_UPSTREAM.max_attempts
C = grpc.StatusCode


@dataclass(frozen=True)
class Case:
    kind: FaultKind
    value: int
    code: grpc.StatusCode
    reason: str
    details: tuple[str, ...]
    upstream_calls: int = 1


def errcode(value: int, code: grpc.StatusCode, reason: str, *details: str, calls: int = 1) -> Case:
    return Case(FaultKind.ERRCODE, value, code, reason, ("ErrorInfo", *details), calls)


PRECONDITION = "PreconditionFailure"
#: Seed 001 §9, the invoice reimbursement API's own errcode table: each injected below.
SEED_001_SECTION_9 = [
    72015, 72017, 72023, 72024, 72025, 72028, 72029, 72030, 72031,
    72035, 72036, 72038, 72039, 72040, 72042, 72043, 72044, 40078,
]  # fmt: skip
#: Problems of the gateway's own WeChat account: the account is what to fix, for each alike.
ACCOUNT_SIDE = [40078, 72015, 40164, 48001]
MATRIX = [
    errcode(-1, C.UNAVAILABLE, "WECHAT_BUSY", "RetryInfo", calls=ATTEMPTS),
    errcode(-1000, C.UNAVAILABLE, "WECHAT_BUSY", "RetryInfo", calls=ATTEMPTS),
    errcode(72036, C.UNAVAILABLE, "INVOICE_BUSY", "RetryInfo", calls=ATTEMPTS),
    errcode(40001, C.FAILED_PRECONDITION, "WECHAT_ACCESS_TOKEN_REJECTED", PRECONDITION, calls=2),
    errcode(40014, C.FAILED_PRECONDITION, "WECHAT_ACCESS_TOKEN_REJECTED", PRECONDITION, calls=2),
    errcode(42001, C.FAILED_PRECONDITION, "WECHAT_ACCESS_TOKEN_REJECTED", PRECONDITION, calls=2),
    errcode(40002, C.INTERNAL, "WECHAT_INVALID_GRANT_TYPE"),
    errcode(41001, C.INTERNAL, "WECHAT_ACCESS_TOKEN_MISSING"),
    errcode(47001, C.INTERNAL, "WECHAT_MALFORMED_REQUEST"),
    errcode(44002, C.INTERNAL, "WECHAT_MALFORMED_REQUEST"),
    errcode(43002, C.INTERNAL, "WECHAT_WRONG_HTTP_METHOD"),
    errcode(43003, C.FAILED_PRECONDITION, "WECHAT_HTTPS_REQUIRED", PRECONDITION),
    errcode(40013, C.FAILED_PRECONDITION, "WECHAT_INVALID_APPID", PRECONDITION),
    errcode(41002, C.FAILED_PRECONDITION, "WECHAT_INVALID_APPID", PRECONDITION),
    errcode(40125, C.FAILED_PRECONDITION, "WECHAT_INVALID_SECRET", PRECONDITION),
    errcode(41004, C.FAILED_PRECONDITION, "WECHAT_INVALID_SECRET", PRECONDITION),
    errcode(40164, C.FAILED_PRECONDITION, "WECHAT_IP_NOT_WHITELISTED", PRECONDITION),
    errcode(61004, C.FAILED_PRECONDITION, "WECHAT_IP_NOT_WHITELISTED", PRECONDITION),
    errcode(61023, C.FAILED_PRECONDITION, "WECHAT_REFRESH_TOKEN_INVALID", PRECONDITION),
    errcode(61003, C.FAILED_PRECONDITION, "WECHAT_COMPONENT_UNAUTHORIZED", PRECONDITION),
    errcode(61007, C.FAILED_PRECONDITION, "WECHAT_COMPONENT_UNAUTHORIZED", PRECONDITION),
    errcode(48001, C.FAILED_PRECONDITION, "WECHAT_API_UNAUTHORIZED", PRECONDITION),
    errcode(48004, C.FAILED_PRECONDITION, "WECHAT_API_BANNED", PRECONDITION),
    errcode(50002, C.FAILED_PRECONDITION, "WECHAT_ACCOUNT_RESTRICTED", PRECONDITION),
    errcode(72015, C.FAILED_PRECONDITION, "WECHAT_INVOICE_PERMISSION_MISSING", PRECONDITION),
    errcode(40078, C.FAILED_PRECONDITION, "WECHAT_CARD_PERMISSION_MISSING", PRECONDITION),
    errcode(72028, C.FAILED_PRECONDITION, "WECHAT_PAY_MERCHANT_NOT_SET", PRECONDITION),
    errcode(72029, C.FAILED_PRECONDITION, "WECHAT_INVOICE_AUTH_FIELDS_NOT_SET", PRECONDITION),
    errcode(72030, C.FAILED_PRECONDITION, "WECHAT_INVALID_MCHID", PRECONDITION),
    errcode(45009, C.RESOURCE_EXHAUSTED, "WECHAT_DAILY_QUOTA_EXCEEDED", "QuotaFailure"),
    errcode(45011, C.RESOURCE_EXHAUSTED, "WECHAT_RATE_LIMITED", "QuotaFailure", "RetryInfo"),
    errcode(50001, C.FAILED_PRECONDITION, "USER_API_UNAUTHORIZED", PRECONDITION),
    errcode(72017, C.FAILED_PRECONDITION, "INVOICE_TITLE_MISMATCH", PRECONDITION),
    errcode(
        72023,
        C.FAILED_PRECONDITION,
        "INVOICE_LOCKED_BY_OTHER_ACCOUNT",
        PRECONDITION,
        "ResourceInfo",
    ),
    errcode(72024, C.FAILED_PRECONDITION, "INVOICE_STATUS_CONFLICT", PRECONDITION),
    errcode(72039, C.FAILED_PRECONDITION, "INVOICE_NOT_LOCKED", PRECONDITION),
    errcode(72037, C.FAILED_PRECONDITION, "INVOICE_OWNER_MISMATCH", PRECONDITION),
    errcode(72038, C.FAILED_PRECONDITION, "INVOICE_ORDER_NOT_AUTHORIZED", PRECONDITION),
    errcode(72035, C.FAILED_PRECONDITION, "INVOICE_ISSUE_REJECTED", PRECONDITION),
    errcode(72042, C.FAILED_PRECONDITION, "INVOICE_NUMBER_DUPLICATE", PRECONDITION),
    errcode(72043, C.FAILED_PRECONDITION, "INVOICE_NUMBER_INVALID", PRECONDITION),
    errcode(72044, C.FAILED_PRECONDITION, "INVOICE_TITLE_QR_EXPIRED", PRECONDITION),
    errcode(72025, C.INVALID_ARGUMENT, "INVALID_WX_INVOICE_TOKEN", "BadRequest"),
    errcode(72031, C.INVALID_ARGUMENT, "WECHAT_INVALID_PARAMS", "BadRequest"),
    errcode(40035, C.INVALID_ARGUMENT, "WECHAT_INVALID_PARAMS", "BadRequest"),
    errcode(40003, C.INVALID_ARGUMENT, "WECHAT_INVALID_OPENID", "BadRequest"),
    errcode(72040, C.INVALID_ARGUMENT, "INVOICE_PDF_INVALID", "BadRequest"),
    errcode(40073, C.NOT_FOUND, "INVOICE_NOT_FOUND", "ResourceInfo"),
    errcode(40056, C.NOT_FOUND, "INVOICE_NOT_FOUND", "ResourceInfo"),
    errcode(99999, C.UNKNOWN, "WECHAT_UNRECOGNIZED_ERRCODE"),
]
TRANSPORT = [
    Case(
        FaultKind.HTTP_STATUS,
        502,
        C.UNAVAILABLE,
        "WECHAT_HTTP_ERROR",
        ("ErrorInfo", "RetryInfo"),
        ATTEMPTS,
    ),
    Case(FaultKind.HTTP_STATUS, 404, C.INTERNAL, "WECHAT_HTTP_ERROR", ("ErrorInfo",), 1),
    Case(
        FaultKind.MALFORMED,
        0,
        C.UNAVAILABLE,
        "WECHAT_MALFORMED_REPLY",
        ("ErrorInfo", "RetryInfo"),
        ATTEMPTS,
    ),
    Case(
        FaultKind.DROP, 0, C.UNAVAILABLE, "WECHAT_UNREACHABLE", ("ErrorInfo", "RetryInfo"), ATTEMPTS
    ),
]


async def run_case(stub: Stub, sandbox: Sandbox, case: Case) -> Failure:
    sandbox.faults.clear()
    sandbox.inject("getinvoiceinfo", case.kind, case.value, times=0)
    before = sandbox.emulator.stats.count("getinvoiceinfo")
    failure = await failure_of(stub.GetInvoice(REQUEST))
    assert sandbox.emulator.stats.count("getinvoiceinfo") - before == case.upstream_calls
    return failure


def assert_details(failure: Failure, case: Case) -> None:
    assert failure.code is case.code
    assert failure.detail_types == list(case.details)
    info = failure.info
    assert info.reason == case.reason
    assert info.metadata["account"] == seed.PRIMARY.appid
    assert info.metadata["card_id"] == INVOICE.card_id
    assert info.metadata["encrypt_code"] == INVOICE.encrypt_code
    assert info.metadata["wechat_api"] == "getinvoiceinfo"
    if case.kind is FaultKind.ERRCODE:
        assert info.metadata["wechat_errcode"] == str(case.value)
        assert info.metadata["wechat_errmsg"]
        assert str(case.value) in failure.message
    if case.kind is FaultKind.HTTP_STATUS:
        assert info.metadata["http_status"] == str(case.value)
    details = failure.details
    if "RetryInfo" in details:
        expected = 60 if case.value == 45011 else 1
        assert details["RetryInfo"].retry_delay.seconds == expected
    if "PreconditionFailure" in details:
        (violation,) = details["PreconditionFailure"].violations
        assert violation.description
        if case.reason.startswith("WECHAT_"):
            assert (violation.type, violation.subject) == (
                "WECHAT_ACCOUNT",
                f"wechat-account:{seed.PRIMARY.appid}",
            )
            # The message and the violation say what to fix on which account.
            assert f"WeChat account {seed.PRIMARY.appid} needs an operator:" in failure.message
            assert ": " in violation.description
        else:
            assert (violation.type, violation.subject) == (
                case.reason,
                f"{INVOICE.card_id}/{INVOICE.encrypt_code}",
            )
    if "ResourceInfo" in details:
        resource = details["ResourceInfo"]
        assert resource.resource_type == "fapiao.v1.Invoice"
        assert resource.resource_name == f"{INVOICE.card_id}/{INVOICE.encrypt_code}"
    if "QuotaFailure" in details:
        (violation,) = details["QuotaFailure"].violations
        assert violation.subject == f"wechat-account:{seed.PRIMARY.appid}" and violation.description
    if "BadRequest" in details:
        (violation,) = details["BadRequest"].field_violations
        assert violation.field and violation.description


def test_every_errcode_of_seed_001_is_injected_and_none_is_internal() -> None:
    by_code = {case.value: case for case in MATRIX}
    for errcode_ in SEED_001_SECTION_9:
        assert errcode_ in by_code, errcode_
        assert by_code[errcode_].code is not C.INTERNAL, errcode_


def test_account_side_problems_all_name_the_account() -> None:
    by_code = {case.value: case for case in MATRIX}
    for errcode_ in ACCOUNT_SIDE:
        case = by_code[errcode_]
        assert (case.code, case.details) == (C.FAILED_PRECONDITION, ("ErrorInfo", PRECONDITION))
        assert case.reason.startswith("WECHAT_")  # the WECHAT_ACCOUNT violation, above


@pytest.mark.parametrize("case", MATRIX + TRANSPORT, ids=lambda c: f"{c.kind.value}-{c.value}")
async def test_each_failure_reaches_the_caller_with_every_detail(
    stub: Stub, sandbox: Sandbox, case: Case
) -> None:
    assert_details(await run_case(stub, sandbox, case), case)


async def test_no_secret_appears_in_logs_or_errors_across_the_matrix(
    stub: Stub, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    failures = [await run_case(stub, sandbox, case) for case in MATRIX + TRANSPORT]
    sandbox.faults.clear()
    await stub.GetInvoice(REQUEST)

    emulator = sandbox.emulator
    secrets = [a.secret for a in emulator.accounts.values()]
    secrets += list(emulator._tokens)  # every access token the sandbox ever issued
    assert len(secrets) > 2
    errors_text = "\n".join(f"{f.message} {f.details}" for f in failures)
    assert caplog.records, "the matrix run logged nothing, so the check would prove nothing"
    for secret in secrets:
        assert secret not in caplog.text
        assert secret not in errors_text
    assert "access_token=" not in caplog.text


async def test_an_unknown_errcode_is_wechats_logged_at_warning(
    stub: Stub, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="fapiao_gateway")
    case = errcode(88888, C.UNKNOWN, "WECHAT_UNRECOGNIZED_ERRCODE")
    failure = await run_case(stub, sandbox, case)
    assert_details(failure, case)
    warned = [r for r in caplog.records if r.levelno == logging.WARNING and "88888" in r.message]
    assert warned and "getinvoiceinfo" in warned[0].message


@pytest.mark.parametrize("errcode_", ACCOUNT_SIDE)
async def test_an_account_problem_reads_the_same_in_a_batch_slot_and_a_single_read(
    stub: Stub, sandbox: Sandbox, errcode_: int
) -> None:
    sandbox.inject("getinvoiceinfo", FaultKind.ERRCODE, errcode_, times=0)
    sandbox.inject("getinvoicebatch", FaultKind.ERRCODE, errcode_, times=0)
    single = await failure_of(stub.GetInvoice(REQUEST))
    batch = await failure_of(
        stub.GetInvoices(
            invoice_service_pb2.GetInvoicesRequest(account="sandbox", invoices=[REQUEST.invoice])
        )
    )
    for failure in (single, batch):
        assert failure.code is C.FAILED_PRECONDITION
        (violation,) = failure.details["PreconditionFailure"].violations
        assert violation.subject == f"wechat-account:{seed.PRIMARY.appid}"
    assert single.info.reason == batch.info.reason
    assert single.details["PreconditionFailure"] == batch.details["PreconditionFailure"]
