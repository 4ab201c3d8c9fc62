"""A browser's import ticket (`authorization: Ticket <t>`) through the real gate and handler.

A genuine, current ticket names the ticket's caller (`<issuer>/import-ticket`) and lets it
call SignJsapi, ImportInvoices and WatchImport within its scope; anything else it asks is
PERMISSION_DENIED, IMPORT_TICKET_OUT_OF_SCOPE. A forged, foreign or malformed ticket is
UNAUTHENTICATED, IMPORT_TICKET_INVALID, an expired one IMPORT_TICKET_EXPIRED: refused at the
gate, before the request is read, and no use case runs.
"""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from fapiao.v1 import invoice_service_pb2 as pb
from fapiao_gateway.auth.import_tickets import MAX_TICKET_CHARS, ImportTickets
from google.rpc import error_details_pb2 as details

from tests.api.harness import TICKET, WORK, CallDetails, InProcessGateway, Outcome, RawRequest
from tests.api.requests import valid

C = grpc.StatusCode
HOLDER = f"{TICKET.issued_by}/import-ticket"
PAGE = f"{TICKET.origin}/import?step=2"


def _with(rpc: str, **changes: Any) -> Any:
    request = valid(rpc)
    for name, value in changes.items():
        if isinstance(value, list):
            del getattr(request, name)[:]
            getattr(request, name).extend(value)
        else:
            setattr(request, name, value)
    return request


def _as_ticket(gateway: InProcessGateway, rpc: str, request: Any, ticket: str) -> Outcome:
    return gateway.call(rpc, request, metadata=(("authorization", f"Ticket {ticket}"),))


def _reason(outcome: Outcome) -> str:
    return outcome.detail(details.ErrorInfo).reason


IN_SCOPE: dict[str, tuple[str, Any]] = {
    "sign-a-page-on-its-origin": ("SignJsapi", _with("SignJsapi", url=PAGE)),
    "sign-choose-invoice-without-url": (
        "SignJsapi",
        _with("SignJsapi", url="", purposes=[pb.SIGN_PURPOSE_CHOOSE_INVOICE]),
    ),
    "import-into-its-biz-code": ("ImportInvoices", _with("ImportInvoices", lock=False)),
    "watch-its-biz-code": ("WatchImport", valid("WatchImport")),
}


@pytest.mark.parametrize("case", IN_SCOPE)
def test_a_ticket_in_its_scope_names_its_caller(gateway: InProcessGateway, case: str) -> None:
    rpc, request = IN_SCOPE[case]
    outcome = _as_ticket(gateway, rpc, request, gateway.ticket())

    assert outcome.code is C.OK, outcome.details
    assert len(gateway.use_cases.calls) == 1
    assert gateway.recorded[0].caller == HOLDER


OUT_OF_SCOPE: dict[str, tuple[str, Any]] = {
    "read-an-invoice": ("GetInvoice", valid("GetInvoice")),
    "read-invoices": ("GetInvoices", valid("GetInvoices")),
    "change-a-status": ("UpdateStatus", valid("UpdateStatus")),
    "issue-a-qr-code": ("IssueImportQr", valid("IssueImportQr")),
    "search": ("SearchInvoices", valid("SearchInvoices")),
    "reconcile": ("ReconcileInvoices", valid("ReconcileInvoices")),
    "read-the-audit": ("ListAuditEvents", valid("ListAuditEvents")),
    "read-a-document": ("GetInvoiceDocument", valid("GetInvoiceDocument")),
    "sign-a-page-elsewhere": ("SignJsapi", _with("SignJsapi", url="https://evil.example/i")),
    "sign-another-port": ("SignJsapi", _with("SignJsapi", url=f"{TICKET.origin}:8443/i")),
    "import-into-another-biz-code": (
        "ImportInvoices",
        _with("ImportInvoices", lock=False, biz_code="report-2"),
    ),
    "import-and-lock": ("ImportInvoices", _with("ImportInvoices", lock=True)),
    "watch-another-biz-code": ("WatchImport", _with("WatchImport", biz_code="report-2")),
}


@pytest.mark.parametrize("case", OUT_OF_SCOPE)
def test_a_ticket_outside_its_scope_is_refused(gateway: InProcessGateway, case: str) -> None:
    rpc, request = OUT_OF_SCOPE[case]
    outcome = _as_ticket(gateway, rpc, request, gateway.ticket())

    assert outcome.code is C.PERMISSION_DENIED, outcome.details
    assert outcome.detail_names() == ["ErrorInfo"]
    info = outcome.detail(details.ErrorInfo)
    assert (info.reason, dict(info.metadata)) == ("IMPORT_TICKET_OUT_OF_SCOPE", {"caller": HOLDER})
    assert gateway.use_cases.calls == []
    assert [f.reason for f in gateway.recorded] == ["IMPORT_TICKET_OUT_OF_SCOPE"]


def test_a_ticket_may_use_only_its_own_account(gateway: InProcessGateway) -> None:
    request = _with("SignJsapi", url=PAGE, account=WORK.alias)

    outcome = _as_ticket(gateway, "SignJsapi", request, gateway.ticket())

    assert outcome.code is C.PERMISSION_DENIED
    info = outcome.detail(details.ErrorInfo)
    assert (info.reason, info.metadata["caller"]) == ("PERMISSION_DENIED", HOLDER)
    assert gateway.use_cases.calls == []


def _forged_mac(gateway: InProcessGateway) -> str:
    ticket = gateway.ticket()
    return ticket[:-2] + ("AA" if not ticket.endswith("AA") else "BB")


def _claims_swapped(gateway: InProcessGateway) -> str:
    """Another session's claims under this ticket's MAC (a widened scope)."""
    mine = gateway.ticket().split(".")
    other = gateway.ticket(replace(TICKET, biz_code="report-2")).split(".")
    return ".".join((mine[0], other[1], mine[2]))


FORGED: dict[str, Any] = {
    "mac-changed": _forged_mac,
    "claims-swapped": _claims_swapped,
    "another-gateways": lambda g: ImportTickets(b"another-gateway-secret").mint(TICKET),
    "with-a-tail": lambda g: g.ticket() + "x",
}
MALFORMED: dict[str, Any] = {
    "empty": lambda g: "",
    "one-word": lambda g: "notaticket",
    "prefix-only": lambda g: "fit1.",
    "no-claims": lambda g: "fit1..mac",
    "no-mac": lambda g: g.ticket().rsplit(".", 1)[0] + ".",
    "another-version": lambda g: "fit2" + g.ticket()[4:],
    "mac-not-base64": lambda g: g.ticket().rsplit(".", 1)[0] + ".!!!!",
    "too-long": lambda g: "fit1." + "a" * MAX_TICKET_CHARS + ".mac",
    "non-ascii": lambda g: "fit1.ü.ü",
}


@pytest.mark.parametrize("make", [*FORGED.values(), *MALFORMED.values()], ids=[*FORGED, *MALFORMED])
def test_a_forged_or_malformed_ticket_is_refused_at_the_gate(
    gateway: InProcessGateway, make: Any
) -> None:
    outcome = _as_ticket(gateway, "SignJsapi", valid("SignJsapi"), make(gateway))

    assert outcome.code is C.UNAUTHENTICATED, outcome.details
    assert outcome.detail_names() == ["ErrorInfo"]
    assert _reason(outcome) == "IMPORT_TICKET_INVALID"
    assert gateway.use_cases.calls == []
    assert [f.reason for f in gateway.recorded] == ["IMPORT_TICKET_INVALID"]


def test_an_expired_ticket_is_refused_at_the_gate_saying_so(gateway: InProcessGateway) -> None:
    expired = replace(TICKET, expire_time=datetime.now(UTC) - timedelta(seconds=1))

    outcome = _as_ticket(gateway, "WatchImport", valid("WatchImport"), gateway.ticket(expired))

    assert outcome.code is C.UNAUTHENTICATED
    assert outcome.detail_names() == ["ErrorInfo"]
    assert _reason(outcome) == "IMPORT_TICKET_EXPIRED"
    assert outcome.response == []
    assert gateway.use_cases.calls == []


def test_a_ticket_refusal_comes_before_the_request_is_read(gateway: InProcessGateway) -> None:
    path = "/fapiao.v1.InvoiceService/SignJsapi"
    forged = (("authorization", f"Ticket {_forged_mac(gateway)}"),)
    refused = gateway.generic.service(CallDetails(path, forged))  # type: ignore[arg-type]
    let_in = gateway.generic.service(CallDetails(path, gateway.ticket_key()))  # type: ignore[arg-type]

    assert refused is not None and refused.request_streaming
    assert let_in is not None and not let_in.request_streaming
    outcome = gateway.call("SignJsapi", RawRequest(b"\x0a\x01\xff"), metadata=forged)
    assert _reason(outcome) == "IMPORT_TICKET_INVALID"  # not MALFORMED_REQUEST


@pytest.mark.parametrize("spelling", ["ticket {t}", "TICKET {t}", "  Ticket   {t}  "])
def test_the_ticket_scheme_is_case_blind_and_whitespace_is_ignored(
    gateway: InProcessGateway, spelling: str
) -> None:
    header = spelling.format(t=gateway.ticket())

    outcome = gateway.call(
        "WatchImport", valid("WatchImport"), metadata=(("authorization", header),)
    )

    assert outcome.code is C.OK, outcome.details


@pytest.mark.parametrize("spelling", ["Bearer {t}", "{t}"])
def test_a_ticket_is_not_an_api_key(gateway: InProcessGateway, spelling: str) -> None:
    header = spelling.format(t=gateway.ticket())

    outcome = gateway.call("SignJsapi", valid("SignJsapi"), metadata=(("authorization", header),))

    assert outcome.code is C.UNAUTHENTICATED
    assert _reason(outcome) == "CREDENTIAL_INVALID"
