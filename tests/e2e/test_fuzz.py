"""Random and malformed requests at every RPC of a real server: always a documented code.

Every answer must be OK or one of the codes the gateway documents for bad input; never
UNKNOWN or INTERNAL. Application errors carry exactly one ErrorInfo. The server must keep
serving afterwards. Bounded by default; a longer run is one command:

    FAPIAO_FUZZ_EXAMPLES=5000 .venv/bin/pytest tests/e2e/test_fuzz.py     (or: make fuzz)
"""

import asyncio
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import pytest
from fapiao.v1 import import_watch_pb2, invoice_pb2, invoice_service_pb2
from fapiao_gateway.bootstrap import start_gateway
from fapiao_gateway.sandbox import seed
from google.protobuf import duration_pb2, timestamp_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import gateway_settings

EXAMPLES = int(os.environ.get("FAPIAO_FUZZ_EXAMPLES", "40"))
ACCEPTABLE = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.UNIMPLEMENTED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,  # oversized messages, refused by gRPC itself
}
SERVICE = invoice_service_pb2.DESCRIPTOR.services_by_name["InvoiceService"]
RPCS = [m.name for m in SERVICE.methods]
STREAMING = {m.name for m in SERVICE.methods if m.server_streaming}


@dataclass
class LiveServer:
    address: str
    key: str


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A gateway on its own thread and event loop, so the tests can use the sync client."""
    started = threading.Event()
    stop = threading.Event()
    holder: dict[str, LiveServer] = {}
    ledger = tmp_path_factory.mktemp("fuzz") / "ledger.db"

    async def main() -> None:
        gateway = await start_gateway(
            gateway_settings(database_url=f"sqlite+aiosqlite:///{ledger}")
        )
        holder["server"] = LiveServer(gateway.address, gateway.callers.development_key or "")
        started.set()
        await asyncio.to_thread(stop.wait)
        await gateway.stop(0)

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    assert started.wait(30)
    yield holder["server"]
    stop.set()
    thread.join(30)


def huge_text() -> str:
    return "x" * 200_000


texts = st.one_of(
    st.sampled_from(
        ["", " ", "sandbox", "sandbox-partner", seed.PRIMARY.appid, "*", "\x00", "🧾发票"]
    ),
    st.text(max_size=40),
    st.builds(huge_text),
)


#: Mostly accounts the development caller may use, so most examples get past authorization.
accounts = st.integers(0, 9).flatmap(
    lambda n: (
        st.sampled_from(["sandbox", "sandbox-partner", seed.PRIMARY.appid]) if n < 8 else texts
    )
)


def enormous_list() -> list[invoice_pb2.InvoiceRef]:
    return [invoice_pb2.InvoiceRef(card_id="a", encrypt_code="b")] * 20_000


refs = st.builds(invoice_pb2.InvoiceRef, card_id=texts, encrypt_code=texts)
ref_lists = st.one_of(
    st.lists(refs, max_size=4),
    st.builds(enormous_list),
)
statuses = st.integers(min_value=-5, max_value=10)
numbers = st.integers(min_value=-(2**31), max_value=2**31 - 1)
int64s = st.integers(min_value=-(2**63), max_value=2**63 - 1)
int32s = st.integers(min_value=-(2**31), max_value=2**31 - 1)
#: Any Timestamp or Duration the wire can carry, valid or not (years past 9999, negative nanos).
times = st.none() | st.builds(timestamp_pb2.Timestamp, seconds=int64s, nanos=int32s)
durations = st.none() | st.builds(duration_pb2.Duration, seconds=int64s, nanos=int32s)
urls = st.one_of(
    texts,
    st.sampled_from(
        [
            "http://[oops/page",
            "https://[::1/x",
            "http://",
            "https://a.example/p#frag",
            "javascript:alert(1)",
        ]
    ),
)

MESSAGES = {
    "GetInvoice": st.builds(
        invoice_service_pb2.GetInvoiceRequest, account=accounts, invoice=st.none() | refs
    ),
    "GetInvoices": st.builds(
        invoice_service_pb2.GetInvoicesRequest, account=accounts, invoices=ref_lists
    ),
    "UpdateStatus": st.builds(
        invoice_service_pb2.UpdateStatusRequest,
        account=accounts,
        request_id=texts,
        invoice=st.none() | refs,
        status=statuses,
    ),
    "UpdateStatusBatch": st.builds(
        invoice_service_pb2.UpdateStatusBatchRequest,
        account=accounts,
        request_id=texts,
        openid=texts,
        status=statuses,
        invoices=ref_lists,
    ),
    "SignJsapi": st.builds(
        invoice_service_pb2.SignJsapiRequest,
        account=accounts,
        purposes=st.lists(statuses, max_size=4),
        url=urls,
        timestamp=int64s,
        nonce_str=texts,
    ),
    "IssueImportQr": st.builds(
        invoice_service_pb2.IssueImportQrRequest,
        account=accounts,
        request_id=texts,
        biz_code=texts,
        size_px=numbers,
        valid_for=durations,
    ),
    "ImportInvoices": st.builds(
        invoice_service_pb2.ImportInvoicesRequest,
        account=accounts,
        request_id=texts,
        biz_code=texts,
        invoices=ref_lists,
        lock=st.booleans(),
    ),
    "SearchInvoices": st.builds(
        invoice_service_pb2.SearchInvoicesRequest,
        account=accounts,
        biz_code=texts,
        invoice_code=texts,
        invoice_number=texts,
        buyer_tax_numbers=st.lists(texts, max_size=3),
        status=statuses,
        page_size=numbers,
        page_token=texts,
        update_time_start=times,
        update_time_end=times,
        billing_time_start=times,
        billing_time_end=times,
    ),
    "ReconcileInvoices": st.builds(
        invoice_service_pb2.ReconcileInvoicesRequest, account=accounts, biz_code=texts
    ),
    "GetInvoiceDocument": st.builds(
        invoice_service_pb2.GetInvoiceDocumentRequest,
        account=accounts,
        invoice=refs,
        kind=st.integers(min_value=-1, max_value=4),
    ),
    # bizCodes no fuzzed IssueImportQr opens: a watch of an open session lasts until it expires.
    "WatchImport": st.builds(
        import_watch_pb2.WatchImportRequest,
        account=accounts,
        biz_code=texts.map(lambda text: f"never-issued-{text}"),
    ),
    "ListAuditEvents": st.builds(
        invoice_service_pb2.ListAuditEventsRequest,
        account=accounts,
        biz_code=texts,
        invoice=st.none() | refs,
        start_time=times,
        end_time=times,
        page_size=numbers,
        page_token=texts,
    ),
}

#: Bodies no well-behaved client sends: random bytes, a string field holding invalid UTF-8,
#: a truncated field, a wrong wire type.
raw_bodies = st.one_of(
    st.binary(max_size=300),
    st.just(b"\x0a\x02\xff\xfe"),
    st.just(b"\x0a\x05ab"),
    st.just(b"\x0d\x00\x00\x00\x00"),
)


def credentials(key: str) -> st.SearchStrategy[tuple[tuple[str, str | bytes], ...]]:
    """Mostly the valid key (so most examples reach validation and the use cases), otherwise
    no, malformed or binary credentials."""
    printable = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80)
    valid = st.just((("authorization", f"Bearer {key}"),))
    invalid = st.one_of(
        st.just(()),
        printable.map(lambda value: (("authorization", value),)),
        printable.map(lambda value: (("authorization", f"Bearer {value}"),)),
        st.binary(max_size=40).map(lambda value: (("authorization-bin", value),)),
    )
    return st.integers(0, 9).flatmap(lambda n: valid if n < 8 else invalid)


def call(server: LiveServer, rpc: str, body: bytes, metadata: tuple) -> grpc.StatusCode:
    """Sends raw `body` to `rpc`; checks the answer is documented; returns its code."""
    failure: grpc.RpcError | None = None
    with grpc.insecure_channel(server.address) as channel:
        path = f"/fapiao.v1.InvoiceService/{rpc}"
        try:
            if rpc in STREAMING:
                list(channel.unary_stream(path)(body, metadata=metadata, timeout=20))  # type: ignore[call-arg]
            else:
                channel.unary_unary(path)(body, metadata=metadata, timeout=20)  # type: ignore[call-arg]
        except grpc.RpcError as error:
            failure = error
    if failure is None:
        return grpc.StatusCode.OK
    code: grpc.StatusCode = failure.code()
    assert code in ACCEPTABLE, (rpc, code, failure.details())
    status = rpc_status.from_call(failure)  # type: ignore[arg-type]
    if code is not grpc.StatusCode.RESOURCE_EXHAUSTED or status is not None:
        assert status is not None, (rpc, code, "no google.rpc.Status")
        infos = [d for d in status.details if d.type_url.endswith("google.rpc.ErrorInfo")]
        assert len(infos) == 1, (rpc, code)
    return code


def still_serving(server: LiveServer) -> None:
    with grpc.insecure_channel(server.address) as channel:
        health = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=10
        )
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        invoice = seed.invoices()[0]
        get = channel.unary_unary(
            "/fapiao.v1.InvoiceService/GetInvoice",
            request_serializer=invoice_service_pb2.GetInvoiceRequest.SerializeToString,
            response_deserializer=invoice_service_pb2.GetInvoiceResponse.FromString,
        )
        reply = get(
            invoice_service_pb2.GetInvoiceRequest(
                account="sandbox",
                invoice=invoice_pb2.InvoiceRef(
                    card_id=invoice.card_id, encrypt_code=invoice.encrypt_code
                ),
            ),
            metadata=(("authorization", f"Bearer {server.key}"),),
            timeout=10,
        )
        assert reply.invoice.invoice_number == "14869350"


FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
)


@pytest.mark.parametrize("rpc", RPCS)
def test_random_requests_get_documented_codes(server: LiveServer, rpc: str) -> None:
    @FUZZ
    @given(message=MESSAGES[rpc], metadata=credentials(server.key))
    def fuzz(message, metadata) -> None:
        call(server, rpc, message.SerializeToString(), metadata)

    fuzz()
    still_serving(server)


@pytest.mark.parametrize("rpc", RPCS)
def test_malformed_bodies_are_invalid_argument_once_authenticated(
    server: LiveServer, rpc: str
) -> None:
    @FUZZ
    @given(body=raw_bodies)
    def fuzz(body: bytes) -> None:
        code = call(server, rpc, body, (("authorization", f"Bearer {server.key}"),))
        assert code in {
            grpc.StatusCode.OK,
            grpc.StatusCode.INVALID_ARGUMENT,
            grpc.StatusCode.PERMISSION_DENIED,
            grpc.StatusCode.UNIMPLEMENTED,
            grpc.StatusCode.NOT_FOUND,
            grpc.StatusCode.FAILED_PRECONDITION,
        }

    fuzz()
    still_serving(server)


def test_invalid_utf8_is_invalid_argument_with_a_reason(server: LiveServer) -> None:
    with grpc.insecure_channel(server.address) as channel:
        method = channel.unary_unary("/fapiao.v1.InvoiceService/GetInvoice")  # type: ignore[call-arg]
        with pytest.raises(grpc.RpcError) as failed:
            method(
                b"\x0a\x02\xff\xfe",
                metadata=(("authorization", f"Bearer {server.key}"),),
                timeout=10,
            )
    assert failed.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(failed.value)  # type: ignore[arg-type]
    assert status is not None and "MALFORMED_REQUEST" in str(status.details[0].value)


def test_oversized_messages_are_refused_and_the_server_survives(server: LiveServer) -> None:
    huge = b"\x0a" + b"\xff\xff\xff\x03" + b"x" * (8 * 1024 * 1024)
    key = (("authorization", f"Bearer {server.key}"),)
    assert call(server, "GetInvoice", huge, key) is grpc.StatusCode.RESOURCE_EXHAUSTED
    # Without a credential it is refused before a byte of it is read.
    assert call(server, "GetInvoice", huge, ()) is grpc.StatusCode.UNAUTHENTICATED
    still_serving(server)
