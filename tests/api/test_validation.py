"""Request validation: every field the contract constrains, every violation named in one
BadRequest (INVALID_ARGUMENT, INVALID_REQUEST_FIELDS), nothing reaching a use case; and the
largest values the contract allows accepted.

test_every_validated_field_has_a_case reads api/servicer.py for the fields each RPC checks, so
a field validated there with no case here fails. `account` is checked first, before the rest
of the request is looked at, for every RPC (test_the_account_is_required_and_must_be_configured).
"""

import ast
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from fapiao.v1 import invoice_pb2
from fapiao.v1 import invoice_service_pb2 as pb
from google.protobuf import duration_pb2, timestamp_pb2
from google.rpc import error_details_pb2 as details

from tests.api.harness import InProcessGateway
from tests.api.requests import valid

C = grpc.StatusCode
SERVICER = Path(__file__).resolve().parents[2] / "server/fapiao_gateway/api/servicer.py"
WX, CHOOSE, AGENT = (
    pb.SIGN_PURPOSE_WX_CONFIG,
    pb.SIGN_PURPOSE_CHOOSE_INVOICE,
    pb.SIGN_PURPOSE_AGENT_CONFIG,
)
BAD_TIME = timestamp_pb2.Timestamp(seconds=-(10**13))  # before year 1
BAD_DURATION = duration_pb2.Duration(seconds=10**12)  # beyond what a timedelta holds


def ref(card_id: str = "card-1", encrypt_code: str = "code-1") -> invoice_pb2.InvoiceRef:
    return invoice_pb2.InvoiceRef(card_id=card_id, encrypt_code=encrypt_code)


def refs(count: int) -> list[invoice_pb2.InvoiceRef]:
    return [ref(f"card-{i}") for i in range(count)]


def seconds(value: float) -> duration_pb2.Duration:
    duration = duration_pb2.Duration()
    duration.FromTimedelta(timedelta(seconds=value))
    return duration


@dataclass(frozen=True)
class Bad:
    """A request of `rpc` (the valid one, with `changes`) and the field paths its BadRequest
    must name, in order."""

    id: str
    rpc: str
    changes: dict[str, Any]
    fields: tuple[str, ...]

    def request(self) -> Any:
        message = valid(self.rpc)
        for name, value in self.changes.items():
            if isinstance(value, list):
                del getattr(message, name)[:]
                getattr(message, name).extend(value)
            elif hasattr(value, "DESCRIPTOR"):
                getattr(message, name).CopyFrom(value)
            elif value is None:
                message.ClearField(name)
            else:
                setattr(message, name, value)
        return message


BAD = [
    # GetInvoice
    Bad("get-no-invoice", "GetInvoice", {"invoice": None}, ("invoice",)),
    Bad(
        "get-blank-card-long-code",
        "GetInvoice",
        {"invoice": ref(" ", "e" * 513)},
        ("invoice.card_id", "invoice.encrypt_code"),
    ),
    Bad("get-long-card-id", "GetInvoice", {"invoice": ref("c" * 129)}, ("invoice.card_id",)),
    # GetInvoices
    Bad("gets-none", "GetInvoices", {"invoices": []}, ("invoices",)),
    Bad("gets-too-many", "GetInvoices", {"invoices": refs(501)}, ("invoices",)),
    Bad(
        "gets-duplicate-and-incomplete",
        "GetInvoices",
        {"invoices": [ref(), ref("c2"), ref(), ref("", "x"), ref("c3", "")]},
        ("invoices[2]", "invoices[3].card_id", "invoices[4].encrypt_code"),
    ),
    # UpdateStatus
    Bad(
        "update-everything-wrong",
        "UpdateStatus",
        {"request_id": "not an id!", "invoice": None, "status": 0},
        ("request_id", "invoice", "status"),
    ),
    Bad(
        "update-to-cancel",
        "UpdateStatus",
        {"status": invoice_pb2.REIMBURSE_STATUS_CANCEL},
        ("status",),
    ),
    Bad("update-unknown-status", "UpdateStatus", {"status": 99}, ("status",)),
    Bad("update-long-request-id", "UpdateStatus", {"request_id": "r" * 65}, ("request_id",)),
    Bad("update-request-id-newline", "UpdateStatus", {"request_id": "r1\n"}, ("request_id",)),
    # UpdateStatusBatch
    Bad(
        "batch-everything-wrong",
        "UpdateStatusBatch",
        {"request_id": "a/b", "openid": "", "status": 0, "invoices": refs(51)},
        ("request_id", "openid", "status", "invoices"),
    ),
    Bad("batch-long-openid", "UpdateStatusBatch", {"openid": "o" * 129}, ("openid",)),
    Bad("batch-no-invoices", "UpdateStatusBatch", {"invoices": []}, ("invoices",)),
    Bad(
        "batch-incomplete",
        "UpdateStatusBatch",
        {"invoices": [ref("", "")]},
        ("invoices[0].card_id", "invoices[0].encrypt_code"),
    ),
    # SignJsapi
    Bad("sign-no-purpose", "SignJsapi", {"purposes": []}, ("purposes",)),
    Bad(
        "sign-everything-wrong",
        "SignJsapi",
        {"url": "ftp://host/page", "timestamp": -1, "nonce_str": "not a nonce"},
        ("url", "timestamp", "nonce_str"),
    ),
    Bad(
        "sign-unknown-and-repeated-purposes",
        "SignJsapi",
        {"purposes": [99, WX, WX]},
        ("purposes[0]", "purposes[2]"),
    ),
    Bad(
        "sign-too-many-purposes", "SignJsapi", {"purposes": [WX, CHOOSE, WX, CHOOSE]}, ("purposes",)
    ),
    Bad("sign-agent-config-not-work", "SignJsapi", {"purposes": [AGENT]}, ("purposes[0]",)),
    Bad("sign-no-url", "SignJsapi", {"url": ""}, ("url",)),
    Bad("sign-relative-url", "SignJsapi", {"url": "/import"}, ("url",)),
    Bad("sign-long-url", "SignJsapi", {"url": "https://e.example/" + "p" * 2048}, ("url",)),
    Bad("sign-unclosed-host", "SignJsapi", {"url": "https://[::1/import"}, ("url",)),
    Bad("sign-timestamp-past-32-bits", "SignJsapi", {"timestamp": 2**32}, ("timestamp",)),
    Bad("sign-long-nonce", "SignJsapi", {"nonce_str": "n" * 33}, ("nonce_str",)),
    # IssueImportQr
    Bad(
        "qr-everything-wrong",
        "IssueImportQr",
        {"request_id": "r r", "biz_code": "has space", "size_px": 63, "valid_for": seconds(59)},
        ("request_id", "biz_code", "size_px", "valid_for"),
    ),
    Bad("qr-too-large", "IssueImportQr", {"size_px": 2049}, ("size_px",)),
    Bad("qr-negative-size", "IssueImportQr", {"size_px": -1}, ("size_px",)),
    Bad("qr-too-long", "IssueImportQr", {"valid_for": seconds(86401)}, ("valid_for",)),
    Bad("qr-unreadable-duration", "IssueImportQr", {"valid_for": BAD_DURATION}, ("valid_for",)),
    Bad("qr-long-biz-code", "IssueImportQr", {"biz_code": "b" * 65}, ("biz_code",)),
    # ImportInvoices
    Bad(
        "import-everything-wrong",
        "ImportInvoices",
        {"request_id": "r" * 65, "invoices": [], "biz_code": "b" * 65},
        ("request_id", "invoices", "biz_code"),
    ),
    Bad("import-too-many", "ImportInvoices", {"invoices": refs(101)}, ("invoices",)),
    Bad("import-duplicate", "ImportInvoices", {"invoices": [ref(), ref()]}, ("invoices[1]",)),
    # SearchInvoices
    Bad(
        "search-everything-wrong",
        "SearchInvoices",
        {
            "page_size": -1,
            "status": 99,
            "update_time_start": BAD_TIME,
            "update_time_end": BAD_TIME,
            "billing_time_start": BAD_TIME,
            "billing_time_end": BAD_TIME,
            "biz_code": "b" * 65,
            "invoice_code": "c" * 33,
            "invoice_number": "n" * 33,
            "buyer_tax_numbers": ["t"] * 101,
            "seller_tax_numbers": ["ok", "t" * 65],
            "page_token": "p" * 513,
        },
        (
            "page_size",
            "status",
            "update_time_start",
            "update_time_end",
            "billing_time_start",
            "billing_time_end",
            "biz_code",
            "invoice_code",
            "invoice_number",
            "buyer_tax_numbers",
            "seller_tax_numbers[1]",
            "page_token",
        ),
    ),
    Bad(
        "search-many-long-tax-numbers",
        "SearchInvoices",
        {"buyer_tax_numbers": ["t" * 65] * 22},
        (*(f"buyer_tax_numbers[{i}]" for i in range(20)), "buyer_tax_numbers"),
    ),
    # SearchInvoices across accounts (all_accounts): the account is checked first, as in
    # every RPC; then a tax identity is required
    Bad("search-all-accounts-and-account", "SearchInvoices", {"all_accounts": True}, ("account",)),
    Bad(
        "search-all-accounts-no-number",
        "SearchInvoices",
        {"all_accounts": True, "account": ""},
        ("invoice_number",),
    ),
    Bad(
        "search-all-accounts-short-number-no-code",
        "SearchInvoices",
        {"all_accounts": True, "account": "", "invoice_number": "12345678"},
        ("invoice_code",),
    ),
    Bad(
        "search-all-accounts-everything-wrong",
        "SearchInvoices",
        {"all_accounts": True, "account": "", "page_size": -1, "invoice_code": "c" * 33},
        ("page_size", "invoice_code", "invoice_number"),
    ),
    # GetInvoiceDocument
    Bad("document-no-invoice", "GetInvoiceDocument", {"invoice": None}, ("invoice",)),
    Bad(
        "document-everything-wrong",
        "GetInvoiceDocument",
        {"invoice": ref("", "e" * 513), "kind": 99},
        ("invoice.card_id", "invoice.encrypt_code", "kind"),
    ),
    Bad("document-unknown-kind", "GetInvoiceDocument", {"kind": -1}, ("kind",)),
    # WatchImport
    Bad("watch-no-biz-code", "WatchImport", {"biz_code": ""}, ("biz_code",)),
    Bad("watch-bad-biz-code", "WatchImport", {"biz_code": "a b"}, ("biz_code",)),
    Bad("watch-long-biz-code", "WatchImport", {"biz_code": "b" * 65}, ("biz_code", "biz_code")),
    # ReconcileInvoices
    Bad("reconcile-no-biz-code", "ReconcileInvoices", {"biz_code": ""}, ("biz_code",)),
    Bad("reconcile-bad-biz-code", "ReconcileInvoices", {"biz_code": "a b"}, ("biz_code",)),
    Bad(
        "reconcile-long-biz-code",
        "ReconcileInvoices",
        {"biz_code": "b" * 65},
        ("biz_code", "biz_code"),
    ),
    # ListAuditEvents
    Bad(
        "audit-everything-wrong",
        "ListAuditEvents",
        {
            "page_size": -5,
            "biz_code": "not/a/code",
            "invoice": ref("", ""),
            "start_time": BAD_TIME,
            "end_time": BAD_TIME,
            "page_token": "p" * 513,
        },
        (
            "page_size",
            "biz_code",
            "invoice.card_id",
            "invoice.encrypt_code",
            "start_time",
            "end_time",
            "page_token",
        ),
    ),
]


@pytest.mark.parametrize("bad", BAD, ids=lambda b: b.id)
def test_every_violation_is_named_in_one_bad_request(gateway: InProcessGateway, bad: Bad) -> None:
    outcome = gateway.call(bad.rpc, bad.request())

    assert outcome.code is C.INVALID_ARGUMENT, outcome.details
    assert outcome.detail_names() == ["ErrorInfo", "BadRequest"]
    assert outcome.detail(details.ErrorInfo).reason == "INVALID_REQUEST_FIELDS"
    violations = outcome.detail(details.BadRequest).field_violations
    assert tuple(v.field for v in violations) == bad.fields
    assert all(v.description for v in violations)
    assert all(field in outcome.details for field in bad.fields)
    assert gateway.use_cases.calls == []


@pytest.mark.parametrize("rpc", sorted({b.rpc for b in BAD}))
@pytest.mark.parametrize("account", ["", "   ", "no-such-account"])
def test_the_account_is_required_and_must_be_configured(
    gateway: InProcessGateway, rpc: str, account: str
) -> None:
    request = valid(rpc)
    request.account = account

    outcome = gateway.call(rpc, request)

    assert outcome.code is C.INVALID_ARGUMENT
    (violation,) = outcome.detail(details.BadRequest).field_violations
    assert violation.field == "account"
    assert gateway.use_cases.calls == []


GOOD = [
    ("GetInvoice", {"invoice": ref("c" * 128, "e" * 512)}),
    ("GetInvoices", {"invoices": refs(500)}),
    ("UpdateStatus", {"request_id": "A-z_0.9:" + "r" * 56}),
    ("UpdateStatus", {"request_id": "", "status": invoice_pb2.REIMBURSE_STATUS_CLOSURE}),
    ("UpdateStatusBatch", {"invoices": refs(50), "openid": "o" * 128}),
    (
        "SignJsapi",
        {"purposes": [WX, CHOOSE], "timestamp": 2**32 - 1, "nonce_str": "N" * 32},
    ),
    ("SignJsapi", {"purposes": [CHOOSE], "url": ""}),
    ("IssueImportQr", {"size_px": 64, "valid_for": seconds(60), "biz_code": "b" * 64}),
    ("IssueImportQr", {"size_px": 2048, "valid_for": seconds(86400), "biz_code": ""}),
    ("IssueImportQr", {"size_px": 0}),
    ("ImportInvoices", {"invoices": refs(100), "biz_code": ""}),
    (
        "SearchInvoices",
        {
            "page_size": 10_000,
            "buyer_tax_numbers": ["t" * 64] * 100,
            "page_token": "",
            "invoice_code": "c" * 32,
            "biz_code": "b" * 64,
        },
    ),
    ("SearchInvoices", {"all_accounts": True, "account": "", "invoice_number": "2" * 20}),
    (
        "SearchInvoices",
        {
            "all_accounts": True,
            "account": "",
            "invoice_code": "044001900111",
            "invoice_number": "12345678",
        },
    ),
    ("ReconcileInvoices", {"biz_code": "b" * 64}),
    ("GetInvoiceDocument", {"kind": pb.INVOICE_DOCUMENT_KIND_TRIP}),
    ("GetInvoiceDocument", {"kind": pb.INVOICE_DOCUMENT_KIND_UNSPECIFIED}),
    ("WatchImport", {"biz_code": "b" * 64}),
    ("ListAuditEvents", {"page_size": 0, "invoice": ref(), "biz_code": ""}),
]


@pytest.mark.parametrize(
    ("rpc", "changes"), GOOD, ids=[f"{r}-{i}" for i, (r, _) in enumerate(GOOD)]
)
def test_the_limits_the_contract_allows_are_accepted(
    gateway: InProcessGateway, rpc: str, changes: dict[str, Any]
) -> None:
    outcome = gateway.call(rpc, Bad("good", rpc, changes, ()).request())

    assert outcome.code is C.OK, outcome.details
    assert len(gateway.use_cases.calls) == 1


def _validated_fields() -> dict[str, set[str]]:
    """{rpc: the request fields its servicer method validates}, read from api/servicer.py:
    the field names given to Violations' checks, and the ones the checks name themselves."""
    implied = {"request_id": "request_id", "target_status": "status", "purposes": "purposes"}
    found: dict[str, set[str]] = {}
    for node in ast.parse(SERVICER.read_text()).body:
        if not isinstance(node, ast.ClassDef):
            continue
        for method in node.body:
            if not isinstance(method, ast.AsyncFunctionDef) or not method.name[0].isupper():
                continue
            fields = found.setdefault(method.name, set())
            for call in ast.walk(method):
                if not (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and isinstance(call.func.value, ast.Name)
                    and call.func.value.id == "check"
                ):
                    continue
                if call.func.attr in implied:
                    fields.add(implied[call.func.attr])
                # check.time(request, "field"), check.duration(...): the field comes second
                at = 1 if call.func.attr in ("time", "duration") else 0
                named = call.args[at] if len(call.args) > at else None
                if isinstance(named, ast.Constant) and isinstance(named.value, str):
                    fields.add(named.value)
    return found


def test_every_validated_field_has_a_case() -> None:
    covered: dict[str, set[str]] = {}
    for bad in BAD:
        covered.setdefault(bad.rpc, set()).update(re.split(r"[.\[]", f)[0] for f in bad.fields)

    validated = _validated_fields()

    assert validated, "no validation found in api/servicer.py"
    missing = {rpc: fields - covered.get(rpc, set()) for rpc, fields in validated.items()}
    assert not {rpc: f for rpc, f in missing.items() if f}, (
        f"fields api/servicer.py validates with no case in BAD: {missing}"
    )
