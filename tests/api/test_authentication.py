"""Who may call: the authorization header in every form it arrives in, through the real gate.

Every refusal is the same UNAUTHENTICATED, CREDENTIAL_INVALID status (no hint of which keys
exist), made before the request is read, and the use case never runs.
"""

from typing import Any

import grpc
import pytest
from fapiao_gateway.auth.directory import CallerDirectory
from fapiao_gateway.auth.keys import create_key
from google.rpc import error_details_pb2 as details

from tests.api.harness import (
    ADMIN,
    READER,
    SECRET,
    CallDetails,
    InProcessGateway,
    Outcome,
    RawRequest,
    callers,
)
from tests.api.requests import valid

C = grpc.StatusCode


def _get(gateway: InProcessGateway, metadata: Any) -> Outcome:
    return gateway.call("GetInvoice", valid("GetInvoice"), metadata=metadata)


def _assert_refused(gateway: InProcessGateway, outcome: Outcome) -> None:
    assert outcome.code is C.UNAUTHENTICATED
    assert outcome.detail_names() == ["ErrorInfo"]
    assert outcome.detail(details.ErrorInfo).reason == "CREDENTIAL_INVALID"
    assert gateway.use_cases.calls == []
    assert [f.reason for f in gateway.recorded] == ["CREDENTIAL_INVALID"]


def _unknown_key() -> str:
    return create_key(SECRET)[0]  # well formed, never configured


def _forged(gateway: InProcessGateway) -> str:
    key = gateway.people.keys["admin"]  # a configured key id with another secret
    return key[:-1] + ("0" if key[-1] != "0" else "1")


MALFORMED: dict[str, Any] = {
    "empty": lambda g: "",
    "scheme-only": lambda g: "Bearer",
    "scheme-and-space": lambda g: "Bearer ",
    "basic-auth": lambda g: "Basic YWRtaW46c2VjcmV0",
    "key-without-scheme": lambda g: g.people.keys["admin"],
    "not-a-key": lambda g: "Bearer fpk_nothex_0000",
    "key-uppercased": lambda g: "Bearer " + g.people.keys["admin"].upper(),
    "key-with-a-tail": lambda g: f"Bearer {g.people.keys['admin']}x",
    "key-in-two-parts": lambda g: "Bearer " + g.people.keys["admin"].replace("_", " ", 1),
    "non-ascii": lambda g: f"Bearer {g.people.keys['admin']}ü",
    "non-ascii-key": lambda g: "Bearer fpk_ü",
    "binary-value": lambda g: b"Bearer \xff\xfe",
    "unknown-key": lambda g: f"Bearer {_unknown_key()}",
    "forged-secret": lambda g: f"Bearer {_forged(g)}",
}


def test_a_call_without_a_credential_is_refused(gateway: InProcessGateway) -> None:
    _assert_refused(gateway, _get(gateway, ()))


@pytest.mark.parametrize("form", MALFORMED)
def test_a_malformed_or_unknown_credential_is_refused(gateway: InProcessGateway, form: str) -> None:
    _assert_refused(gateway, _get(gateway, (("authorization", MALFORMED[form](gateway)),)))


def test_every_refusal_reads_the_same(gateway: InProcessGateway) -> None:
    statuses = {_get(gateway, ()).status.SerializeToString()}
    for make in MALFORMED.values():
        statuses.add(_get(gateway, (("authorization", make(gateway)),)).status.SerializeToString())

    assert len(statuses) == 1


def test_the_refusal_comes_before_the_request_is_read(gateway: InProcessGateway) -> None:
    outcome = gateway.call("GetInvoice", RawRequest(b"\x0a\x01\xff"), metadata=())

    _assert_refused(gateway, outcome)  # not MALFORMED_REQUEST: nothing was decoded


def test_the_gate_answers_before_the_request_is_read(gateway: InProcessGateway) -> None:
    """gRPC reads a unary request before it runs the handler: the gate's refusal is a
    request-streaming handler, which runs as soon as the headers arrive."""
    path = "/fapiao.v1.InvoiceService/GetInvoice"
    refused = gateway.generic.service(CallDetails(path, ()))  # type: ignore[arg-type]
    let_in = gateway.generic.service(CallDetails(path, gateway.key()))  # type: ignore[arg-type]

    assert refused is not None and refused.request_streaming
    assert let_in is not None and not let_in.request_streaming


def test_a_valid_key_names_its_caller(gateway: InProcessGateway) -> None:
    outcome = _get(gateway, gateway.key("reader"))

    assert outcome.code is C.OK, outcome.details
    (call,) = gateway.use_cases.calls
    assert call.name == "get_invoice"
    assert gateway.recorded[0].caller == READER.name


@pytest.mark.parametrize(
    "spelling", ["Bearer {key}", "bearer {key}", "BEARER {key}", "  Bearer   {key}  "]
)
def test_the_scheme_is_case_blind_and_whitespace_is_ignored(
    gateway: InProcessGateway, spelling: str
) -> None:
    header = spelling.format(key=gateway.people.keys["admin"])

    assert _get(gateway, (("authorization", header),)).code is C.OK


def test_with_two_authorization_headers_the_first_is_the_credential(
    gateway: InProcessGateway,
) -> None:
    (good,) = gateway.key("admin")
    bad = ("authorization", "Bearer fpk_000000000000_" + "0" * 64)

    assert _get(gateway, (good, bad)).code is C.OK
    assert gateway.recorded[-1].caller == ADMIN.name
    assert _get(gateway, (bad, good)).code is C.UNAUTHENTICATED
    assert gateway.use_cases.calls[1:] == []


def test_a_key_removed_by_a_reload_is_refused_from_the_next_call(
    gateway: InProcessGateway,
) -> None:
    metadata = gateway.key("reader")
    assert _get(gateway, metadata).code is C.OK
    kept = callers(ADMIN)  # the reload: reader's key is gone
    gateway.people.directory = CallerDirectory(SECRET, kept.directory.entries)

    outcome = _get(gateway, metadata)

    assert outcome.code is C.UNAUTHENTICATED
    assert outcome.detail(details.ErrorInfo).reason == "CREDENTIAL_INVALID"
    assert len(gateway.use_cases.calls) == 1


def test_other_metadata_does_not_stand_in_for_the_key(gateway: InProcessGateway) -> None:
    key = gateway.people.keys["admin"]
    outcome = _get(gateway, (("x-api-key", key), ("Authorization-Bearer", key)))

    _assert_refused(gateway, outcome)


@pytest.mark.parametrize("account", ["acme-work", "nobody"])
def test_an_account_the_caller_may_not_use_is_refused_whether_or_not_it_exists(
    gateway: InProcessGateway, account: str
) -> None:
    request = valid("GetInvoice")
    request.account = account

    outcome = gateway.call("GetInvoice", request, metadata=gateway.key("reader"))

    assert outcome.code is C.PERMISSION_DENIED
    info = outcome.detail(details.ErrorInfo)
    assert (info.reason, dict(info.metadata)) == (
        "PERMISSION_DENIED",
        {"caller": "reader", "operation": "read", "account": account},
    )
    assert gateway.use_cases.calls == []
