"""What every language's live test calls, in order, and what it must see.

One table for all languages: each driver (clients/<lang>/test) turns a case's proto3-JSON
request into its generated request type, calls the generated stub by method name, and
prints the response as proto3 JSON or the error as its error-detail helper decoded it
(`error_json` below is the shape). Expectations are dotted paths into that output.

To cover a new RPC, add a case: the drivers need no change for unary or server-streaming
methods, and `test_every_rpc_has_a_case` fails until one exists.
"""

import uuid
from dataclasses import dataclass, field
from typing import Any

import grpc
from fapiao_gateway.sandbox import seed
from fapiao_gateway.sandbox.app import create_sandbox
from fapiao_gateway.sandbox.emulator import SandboxInvoice

INIT = seed.invoices()[0]
SECOND = seed.invoices()[5]
LOCKED_BY_PARTNER = next(i for i in seed.invoices() if i.lock_owner)
#: The invoice the language's example reads and locks (no case touches it).
EXAMPLE = seed.invoices()[3]
UNKNOWN = {"cardId": "pNoSuchCard", "encryptCode": "eA=="}
#: The openid of INIT's holder as the primary account sees it (Invoice.openid).
HOLDER_OPENID = create_sandbox().emulator.openid(INIT.holder, seed.PRIMARY.appid)


def ref(invoice: SandboxInvoice) -> dict[str, str]:
    return {"cardId": invoice.card_id, "encryptCode": invoice.encrypt_code}


def code(status: grpc.StatusCode) -> int:
    """The number a driver prints for a status code."""
    number: int = status.value[0]
    return number


@dataclass(frozen=True)
class Case:
    """One call: the method, its request (proto3 JSON) and what the output must contain."""

    name: str
    method: str
    request: dict[str, Any]
    expect: dict[str, Any] = field(default_factory=dict)

    def wire(self) -> dict[str, Any]:
        return {"name": self.name, "method": self.method, "request": self.request}


def failed(status: grpc.StatusCode, reason: str, **more: Any) -> dict[str, Any]:
    """The expectations of a failure: its code, its one ErrorInfo, and more details."""
    return {
        "error.code": code(status),
        "error.reason": reason,
        "error.domain": "fapiao-gateway",
        **{f"error.{path.replace('__', '.')}": value for path, value in more.items()},
    }


#: Faults the standalone sandbox is told before the drivers run: every call of the partner
#: account to these endpoints fails, so its calls below end in RetryInfo and QuotaFailure.
FAULTS = [
    {"endpoint": "getinvoiceinfo", "kind": "errcode", "value": 45011, "times": 0},
    {"endpoint": "getinvoicebatch", "kind": "errcode", "value": -1, "times": 0},
]
FAULTED_ACCOUNT = seed.PARTNER


def cases() -> list[Case]:
    """The calls, in order (later ones rely on earlier ones' changes)."""
    ok = "REIMBURSE_STATUS_INIT"
    locked = "REIMBURSE_STATUS_LOCK"
    partner = FAULTED_ACCOUNT.alias
    return [
        Case(
            "read one invoice",
            "GetInvoice",
            {"account": "sandbox", "invoice": ref(INIT)},
            {"response.invoice.ref.cardId": INIT.card_id, "response.invoice.reimburseStatus": ok},
        ),
        Case(
            "read a batch",
            "GetInvoices",
            {"account": "sandbox", "invoices": [ref(INIT), ref(SECOND)]},
            {"response.results.1.invoice.ref.encryptCode": SECOND.encrypt_code},
        ),
        Case(
            "sign wx.config",
            "SignJsapi",
            {
                "account": "sandbox",
                "purposes": ["SIGN_PURPOSE_WX_CONFIG"],
                "url": "https://reimburse.example.com/h5/submit",
            },
            {"response.wxConfig.appId": seed.PRIMARY.appid},
        ),
        Case(
            "issue an import QR code",
            "IssueImportQr",
            {"account": "sandbox", "requestId": str(uuid.uuid4()), "bizCode": "LIVE-QR-1"},
            {"response.bizCode": "LIVE-QR-1"},
        ),
        Case(
            "import and lock",
            "ImportInvoices",
            {
                "account": "sandbox",
                "requestId": str(uuid.uuid4()),
                "bizCode": "LIVE-1",
                "invoices": [ref(INIT)],
                "lock": True,
            },
            {"response.bizCode": "LIVE-1", "response.invoices.0.invoice.reimburseStatus": locked},
        ),
        Case(
            "search the ledger",
            "SearchInvoices",
            {"account": "sandbox", "bizCode": "LIVE-1"},
            {"response.invoices.0.invoice.ref.cardId": INIT.card_id},
        ),
        Case(
            "unlock",
            "UpdateStatus",
            {"account": "sandbox", "requestId": str(uuid.uuid4()), "invoice": ref(INIT)}
            | {"status": ok},
            {"response.change.status": ok, "response.change.previousStatus": locked},
        ),
        Case(
            "lock again in a batch",
            "UpdateStatusBatch",
            {
                "account": "sandbox",
                "requestId": str(uuid.uuid4()),
                "openid": HOLDER_OPENID,
                "status": locked,
                "invoices": [ref(INIT)],
            },
            {"response.changes.0.status": locked},
        ),
        Case(
            "reconcile a report with WeChat",
            "ReconcileInvoices",
            {"account": "sandbox", "bizCode": "LIVE-1"},
            {"response.checkedCount": 1},
        ),
        Case(
            "the PDF of an invoice never imported is not archived",
            "GetInvoiceDocument",
            {"account": "sandbox", "invoice": ref(SECOND)},
            failed(grpc.StatusCode.NOT_FOUND, "DOCUMENT_NOT_ARCHIVED"),
        ),
        Case(
            "read the report's audit trail",
            "ListAuditEvents",
            {"account": "sandbox", "bizCode": "LIVE-1", "pageSize": 1},
            {
                "response.events.0.action": "AUDIT_ACTION_STATUS_CHANGE",
                "response.events.0.rpc": "UpdateStatusBatch",
                "response.events.0.status": locked,
            },
        ),
        Case(
            "a field is missing",
            "GetInvoice",
            {"account": "sandbox", "invoice": {"cardId": "", "encryptCode": "eA=="}},
            failed(
                grpc.StatusCode.INVALID_ARGUMENT,
                "INVALID_REQUEST_FIELDS",
                fieldViolations__0__field="invoice.card_id",
            ),
        ),
        Case(
            "WeChat does not know the invoice",
            "GetInvoice",
            {"account": "sandbox", "invoice": UNKNOWN},
            failed(
                grpc.StatusCode.NOT_FOUND,
                "INVOICE_NOT_FOUND",
                resource__resourceType="fapiao.v1.Invoice",
                resource__resourceName="pNoSuchCard/eA==",
            ),
        ),
        Case(
            "another account holds the lock",
            "UpdateStatus",
            {"account": "sandbox", "invoice": ref(LOCKED_BY_PARTNER), "status": ok},
            failed(
                grpc.StatusCode.FAILED_PRECONDITION,
                "INVOICE_LOCKED_BY_OTHER_ACCOUNT",
                wechatErrcode=72023,
                preconditionViolations__0__type="INVOICE_LOCKED_BY_OTHER_ACCOUNT",
                resource__resourceType="fapiao.v1.Invoice",
            ),
        ),
        Case(
            "another expense report holds the invoice",
            "ImportInvoices",
            {"account": "sandbox", "bizCode": "LIVE-2", "invoices": [ref(INIT)], "lock": True},
            failed(
                grpc.StatusCode.ALREADY_EXISTS,
                "INVOICE_ALREADY_IMPORTED",
                resource__owner="bizCode:LIVE-1",
            ),
        ),
        Case(
            "the account's minute quota ran out",
            "GetInvoice",
            {"account": partner, "invoice": ref(LOCKED_BY_PARTNER)},
            failed(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                "WECHAT_RATE_LIMITED",
                wechatErrcode=45011,
                quotaViolations__0__subject=f"wechat-account:{FAULTED_ACCOUNT.appid}",
                retryDelayMs=60_000,
            ),
        ),
        Case(
            "watch a bizCode no import QR code opened",
            "WatchImport",
            {"account": "sandbox", "bizCode": "LIVE-1"},
            failed(
                grpc.StatusCode.NOT_FOUND,
                "IMPORT_SESSION_NOT_FOUND",
                resource__resourceType="fapiao.v1.ImportSession",
                resource__resourceName="bizCode:LIVE-1",
            ),
        ),
        Case(
            "WeChat stays busy",
            "GetInvoices",
            {"account": partner, "invoices": [ref(LOCKED_BY_PARTNER)]},
            failed(grpc.StatusCode.UNAVAILABLE, "WECHAT_BUSY", retryDelayMs=1000),
        ),
    ]


def error_json_paths() -> set[str]:
    """The keys every driver's error JSON has (its error-detail helper's fields)."""
    return {
        "code",
        "message",
        "reason",
        "domain",
        "metadata",
        "fieldViolations",
        "preconditionViolations",
        "quotaViolations",
        "resource",
        "retryDelayMs",
        "wechatErrcode",
    }


def at(document: Any, path: str) -> Any:
    """The value at a dotted path (list indices as numbers); KeyError naming what is missing."""
    current = document
    for step in path.split("."):
        if isinstance(current, list) and step.isdigit() and int(step) < len(current):
            current = current[int(step)]
        elif isinstance(current, dict) and step in current:
            current = current[step]
        else:
            raise KeyError(f"{path}: no {step!r} in {current!r}")
    return current
