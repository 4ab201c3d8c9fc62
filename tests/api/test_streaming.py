"""The server-streaming RPCs (GetInvoiceDocument, WatchImport) through the gRPC face: what
each message carries, and a failure before or between messages ending the stream with its
rich status.
"""

import grpc
import pytest
from fapiao.v1 import import_watch_pb2 as watch_pb
from fapiao.v1 import invoice_service_pb2 as pb
from fapiao_gateway.api.handlers import SERVICE
from fapiao_gateway.domain.documents import DocumentKind, DocumentRequest
from fapiao_gateway.domain.errors import LedgerUnavailable
from fapiao_gateway.domain.invoice import InvoiceRef
from fapiao_gateway.services.import_watch import session_not_found
from google.rpc import error_details_pb2 as details

from tests.api.harness import OFFICIAL, InProcessGateway, RawRequest
from tests.api.requests import valid

C = grpc.StatusCode
REF = InvoiceRef("card-1", "code-1")
STREAMING = sorted(m.name for m in SERVICE.methods if m.server_streaming)


def test_a_document_streams_its_facts_first_then_its_bytes(gateway: InProcessGateway) -> None:
    request = valid("GetInvoiceDocument")
    request.kind = pb.INVOICE_DOCUMENT_KIND_TRIP

    outcome = gateway.call("GetInvoiceDocument", request)

    assert outcome.code is C.OK, outcome.details
    first, second = outcome.response
    assert first.HasField("document") and not second.HasField("document")
    assert (first.document.content_type, first.document.size_bytes) == ("application/pdf", 9)
    assert first.document.sha256 == "d" * 64
    assert first.data + second.data == b"%PDF-body"
    (call,) = gateway.use_cases.calls
    wanted, chunk_size = call.args
    assert wanted == DocumentRequest(OFFICIAL.appid, REF, DocumentKind.TRIP)
    assert chunk_size > 0


def test_an_unspecified_kind_is_the_invoice_pdf(gateway: InProcessGateway) -> None:
    request = valid("GetInvoiceDocument")
    request.kind = pb.INVOICE_DOCUMENT_KIND_UNSPECIFIED

    assert gateway.call("GetInvoiceDocument", request).code is C.OK
    assert gateway.use_cases.calls[0].args[0].kind is DocumentKind.INVOICE


def test_an_empty_document_is_still_one_message_with_its_facts(gateway: InProcessGateway) -> None:
    record, _ = gateway.use_cases.replies["open"]
    gateway.use_cases.replies["open"] = (record, [])

    outcome = gateway.call("GetInvoiceDocument", valid("GetInvoiceDocument"))

    assert outcome.code is C.OK
    (only,) = outcome.response
    assert only.HasField("document") and only.data == b""


def test_a_watch_streams_each_import_then_the_sessions_end(gateway: InProcessGateway) -> None:
    outcome = gateway.call("WatchImport", valid("WatchImport"))

    assert outcome.code is C.OK, outcome.details
    imported, end = outcome.response
    assert imported.WhichOneof("event") == "invoice"
    assert imported.invoice.invoice.ref.card_id == REF.card_id
    assert end.WhichOneof("event") == "end"
    assert end.end.reason == watch_pb.IMPORT_SESSION_END_REASON_EXPIRED
    assert end.end.invoice_count == 1
    (call,) = gateway.use_cases.calls
    assert call.args == (OFFICIAL.appid, "report-1")


def test_a_failure_between_messages_ends_the_stream_with_its_status(
    gateway: InProcessGateway,
) -> None:
    imported, _ = gateway.use_cases.replies["watch"]
    gateway.use_cases.replies["watch"] = [imported, LedgerUnavailable("the ledger is down")]

    outcome = gateway.call("WatchImport", valid("WatchImport"))

    assert len(outcome.response) == 1  # what was sent stays sent
    assert outcome.code is C.UNAVAILABLE
    assert outcome.detail(details.ErrorInfo).reason == "LEDGER_UNAVAILABLE"
    assert outcome.detail_names() == ["ErrorInfo", "RetryInfo"]
    assert [f.reason for f in gateway.recorded] == ["LEDGER_UNAVAILABLE"]


def test_an_unopened_session_names_it_as_a_resource(gateway: InProcessGateway) -> None:
    gateway.use_cases.failure = session_not_found(OFFICIAL.appid, "report-1")

    outcome = gateway.call("WatchImport", valid("WatchImport"))

    assert outcome.code is C.NOT_FOUND
    assert outcome.response == []
    resource = outcome.detail(details.ResourceInfo)
    assert (resource.resource_type, resource.resource_name) == (
        "fapiao.v1.ImportSession",
        "bizCode:report-1",
    )


@pytest.mark.parametrize("rpc", STREAMING)
def test_a_stream_without_a_credential_is_refused_before_any_message(
    gateway: InProcessGateway, rpc: str
) -> None:
    outcome = gateway.call(rpc, valid(rpc), metadata=())

    assert (outcome.code, outcome.response) == (C.UNAUTHENTICATED, [])
    assert outcome.detail(details.ErrorInfo).reason == "CREDENTIAL_INVALID"
    assert gateway.use_cases.calls == []


@pytest.mark.parametrize("rpc", STREAMING)
def test_a_stream_whose_request_is_not_a_message_is_malformed(
    gateway: InProcessGateway, rpc: str
) -> None:
    outcome = gateway.call(rpc, RawRequest(b"\x0a\x01\xff"))  # account: not UTF-8

    assert (outcome.code, outcome.response) == (C.INVALID_ARGUMENT, [])
    assert outcome.detail(details.ErrorInfo).reason == "MALFORMED_REQUEST"
    assert gateway.use_cases.calls == []
