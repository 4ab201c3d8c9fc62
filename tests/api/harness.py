"""The gateway's gRPC face in process: grpc_testing drives the real api/ code over fakes.

grpc_testing serves sync behaviours (each call in a thread of its own); the gateway's are
grpc.aio coroutines behind a generic handler. `AioBridge` is the servicer grpc_testing calls:
for each call it asks the real generic handler the server would ask (the authentication gate
around invoice_service_handler, inside WrappedHandlers with the call recorder and the deadline
policy, as bootstrap.py assembles them) for the method's handler, and runs that handler's
behaviour on one event loop (`LoopThread`), with request bytes in and response bytes out as on
the wire. What the aio context would do (abort with a status and trailers, time_remaining,
invocation metadata) is forwarded to grpc_testing's context. No socket, database or WeChat.
"""

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import grpc
import grpc_testing
from fapiao_gateway.api.call_recorder import CallRecorder
from fapiao_gateway.api.calls import CallFacts, WrappedHandlers
from fapiao_gateway.api.deadlines import DeadlinePolicy
from fapiao_gateway.api.handlers import SERVICE, Admission, invoice_service_handler
from fapiao_gateway.api.servicer import InvoiceServicer
from fapiao_gateway.auth.directory import CallerDirectory, CallerEntry
from fapiao_gateway.auth.keys import create_key
from fapiao_gateway.domain.accounts import Platform, WeChatAccount
from fapiao_gateway.domain.callers import ANY, Caller, ImportScope
from fapiao_gateway.domain.context import Deadline, RequestContext
from fapiao_gateway.domain.documents import (
    ArchiveState,
    DocumentKind,
    DocumentRecord,
    DocumentRequest,
)
from fapiao_gateway.domain.import_sessions import ImportSession
from fapiao_gateway.domain.imports import ImportedInvoice, ImportResult, SearchPage
from fapiao_gateway.domain.invoice import Invoice, InvoiceRef
from fapiao_gateway.domain.status import ReimburseStatus
from fapiao_gateway.domain.status_changes import AuditPage, StatusChange
from fapiao_gateway.services.access import AccessPolicy
from fapiao_gateway.services.archiving import DocumentStream
from fapiao_gateway.services.import_qr import IssuedQr
from fapiao_gateway.services.import_watch import SessionEnded
from fapiao_gateway.services.reconciliation import Reconciliation
from fapiao_gateway.services.signing import Signatures, WxConfig
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from google.rpc import status_pb2

T = TypeVar("T")

SECRET = b"tests-api-server-secret"
OFFICIAL = WeChatAccount("wx-official", alias="acme")
WORK = WeChatAccount("ww-corp/1000002", alias="acme-work", platform=Platform.WORK)
ACCOUNTS = (OFFICIAL, WORK)


class LoopThread:
    """One event loop in a thread of its own, for the coroutines of many calls: grpc_testing
    calls each behaviour in a new thread, and the gateway's code expects one loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


class AioContext:
    """The part of grpc.aio.ServicerContext the gateway uses, over grpc_testing's context.
    `abort` raises grpc.aio.AbortError as the aio server's does; the bridge then ends the
    grpc_testing call with the status and trailers it was given."""

    def __init__(self, context: grpc.ServicerContext) -> None:
        self._context = context
        self.aborted: tuple[grpc.StatusCode, str, tuple[tuple[str, Any], ...]] | None = None

    def invocation_metadata(self) -> tuple[tuple[str, Any], ...]:
        return tuple(self._context.invocation_metadata() or ())

    def time_remaining(self) -> float | None:
        return self._context.time_remaining()

    def auth_context(self) -> dict[str, list[bytes]]:
        return {}  # no TLS in process

    def code(self) -> grpc.StatusCode | None:
        return None if self.aborted is None else self.aborted[0]

    async def abort(
        self, code: grpc.StatusCode, details: str = "", trailing_metadata: Sequence[Any] = ()
    ) -> None:
        self.aborted = (code, details, tuple(trailing_metadata))
        raise grpc.aio.AbortError()


@dataclass(frozen=True)
class CallDetails:
    """What gRPC tells a generic handler about a call."""

    method: str
    invocation_metadata: tuple[tuple[str, Any], ...]


class AioBridge:
    """The servicer grpc_testing calls: every InvoiceService method, served by `generic`'s
    handler for it on `loop`. A server-streaming method's behaviour is a generator that takes
    each message from the aio handler's async generator in turn, on the loop."""

    def __init__(self, generic: "grpc.GenericRpcHandler[Any, Any]", loop: LoopThread) -> None:
        self._generic = generic
        self._loop = loop
        for method in SERVICE.methods:
            output = GetMessageClass(method.output_type)
            path = f"/{SERVICE.full_name}/{method.name}"
            serve = self._streaming if method.server_streaming else self._unary
            setattr(self, method.name, _bind(serve, path, output))

    def _open(self, path: str, context: grpc.ServicerContext) -> tuple[Any, AioContext]:
        details = CallDetails(path, tuple(context.invocation_metadata() or ()))
        handler = self._generic.service(details)  # type: ignore[arg-type]
        assert handler is not None, f"no handler for {path}"
        return handler, AioContext(context)

    def _unary(
        self, path: str, output: type[Message], request: Any, context: grpc.ServicerContext
    ) -> Message | None:
        handler, aio = self._open(path, context)
        raw = request.SerializeToString()
        try:
            if handler.unary_unary is not None:
                reply = self._loop.run(handler.unary_unary(raw, aio))
            else:  # the gate's refusal reads no request
                reply = self._loop.run(handler.stream_unary(_one(raw), aio))
        except grpc.aio.AbortError:
            _end(context, aio)
            return None
        return output.FromString(handler.response_serializer(reply))

    def _streaming(
        self, path: str, output: type[Message], request: Any, context: grpc.ServicerContext
    ) -> Iterator[Message]:
        handler, aio = self._open(path, context)
        raw = request.SerializeToString()
        try:
            if handler.unary_stream is None:  # the gate's refusal reads no request
                self._loop.run(handler.stream_unary(_one(raw), aio))
                return
            stream = handler.unary_stream(raw, aio)
            while True:
                try:
                    reply = self._loop.run(_next(stream))
                except StopAsyncIteration:
                    return
                yield output.FromString(handler.response_serializer(reply))
        except grpc.aio.AbortError:
            _end(context, aio)


async def _next(stream: AsyncIterator[Any]) -> Any:
    return await anext(stream)


def _bind(serve: Callable[..., Any], path: str, output: type[Message]) -> Callable[..., Any]:
    def behaviour(request: Any, context: grpc.ServicerContext) -> Any:
        return serve(path, output, request, context)

    return behaviour


async def _one(raw: bytes) -> AsyncIterator[bytes]:
    yield raw


def _end(context: grpc.ServicerContext, aio: AioContext) -> None:
    """Ends the grpc_testing call as the aio context's abort would have: its code, details
    and trailers (grpc_testing's own abort drops trailers; a sync servicer that sets a code
    and returns None ends the call the same way)."""
    assert aio.aborted is not None
    code, details, trailing = aio.aborted
    context.set_trailing_metadata(trailing)
    context.set_code(code)
    context.set_details(details)


class RawRequest:
    """A request body sent as given (grpc_testing passes request objects through), for bodies
    that are not valid messages."""

    def __init__(self, raw: bytes) -> None:
        self._raw = raw

    def SerializeToString(self) -> bytes:
        return self._raw


@dataclass
class Outcome:
    """How a call ended, as its caller sees it (`response`: a server-streaming call's list of
    messages)."""

    response: Any
    trailing_metadata: tuple[tuple[str, Any], ...]
    code: grpc.StatusCode
    details: str

    @property
    def status(self) -> status_pb2.Status:
        """The google.rpc.Status of a failed call (grpc-status-details-bin)."""
        found = [v for k, v in self.trailing_metadata if k == "grpc-status-details-bin"]
        assert len(found) == 1, f"{self.code}: no rich status in {self.trailing_metadata}"
        status = status_pb2.Status.FromString(found[0])
        assert status.code == self.code.value[0]
        assert status.message == self.details
        return status

    def details_of(self, kind: type[T]) -> list[T]:
        """The status's details of one type (e.g. error_details_pb2.BadRequest)."""
        found = []
        for packed in self.status.details:
            message = kind()
            if packed.Is(message.DESCRIPTOR):  # type: ignore[attr-defined]
                packed.Unpack(message)
                found.append(message)
        return found

    def detail(self, kind: type[T]) -> T:
        (one,) = self.details_of(kind)
        return one

    def detail_names(self) -> list[str]:
        return [packed.TypeName().rsplit(".", 1)[-1] for packed in self.status.details]


# --- fakes of the use cases -------------------------------------------------------------


@dataclass
class UseCaseCall:
    """One call a fake use case received."""

    name: str
    args: tuple[Any, ...]
    deadline: Deadline | None


class FakeUseCases:
    """Every use case the servicer calls, as one fake: it records each call (with the
    deadline it was given) and raises `failure` when one is set, else answers `replies`
    (or waits on `hold` first)."""

    def __init__(self) -> None:
        self.calls: list[UseCaseCall] = []
        self.failure: BaseException | None = None
        self.hold: asyncio.Event | None = None
        self.replies: dict[str, Any] = default_replies()

    async def _serve(self, name: str, args: tuple[Any, ...], deadline: Deadline | None) -> Any:
        self.calls.append(UseCaseCall(name, args, deadline))
        if self.hold is not None:
            await self.hold.wait()
        if self.failure is not None:
            raise self.failure
        return self.replies[name]

    # InvoiceReader
    async def get_invoice(self, ctx: RequestContext, *args: Any) -> Any:
        return await self._serve("get_invoice", args, ctx.deadline)

    async def get_invoices(self, ctx: RequestContext, appid: str, refs: Any) -> Any:
        """One result per ref: the replies given, or the first repeated for every ref."""
        results = await self._serve("get_invoices", (appid, refs), ctx.deadline)
        return results if len(results) == len(refs) else [results[0]] * len(refs)

    # StatusUpdater
    async def change(self, ctx: RequestContext, *args: Any) -> Any:
        return await self._serve("change", args, ctx.deadline)

    # JsapiSigner
    async def sign(self, ctx: RequestContext, *args: Any, **kwargs: Any) -> Any:
        return await self._serve("sign", (*args, kwargs), ctx.deadline)

    # ImportQrIssuer
    async def issue(self, ctx: RequestContext, *args: Any) -> Any:
        return await self._serve("issue", args, ctx.deadline)

    # InvoiceImporter
    async def import_invoices(self, ctx: RequestContext, *args: Any) -> Any:
        return await self._serve("import_invoices", args, ctx.deadline)

    # InvoiceSearch and AuditReader: no context, no deadline
    async def search(self, *args: Any) -> Any:
        return await self._serve("search", args, None)

    async def list(self, *args: Any) -> Any:
        return await self._serve("list", args, None)

    # Reconciler
    async def reconcile_report(self, *args: Any, deadline: Deadline, **kwargs: Any) -> Any:
        return await self._serve("reconcile_report", (*args, kwargs), deadline)

    # ImportWatcher: the events of `replies["watch"]`, one message each (an exception among
    # them is raised there: a failure between messages)
    async def watch(self, appid: str, biz_code: str) -> AsyncIterator[Any]:
        for event in await self._serve("watch", (appid, biz_code), None):
            if isinstance(event, BaseException):
                raise event
            yield event

    # DocumentReader: `replies["open"]` is the record and the chunks of its bytes
    async def open(self, request: DocumentRequest, chunk_size: int) -> DocumentStream:
        record, chunks = await self._serve("open", (request, chunk_size), None)
        return DocumentStream(record, _each(chunks))


async def _each(items: Sequence[bytes]) -> AsyncIterator[bytes]:
    for item in items:
        yield item


def default_replies() -> dict[str, Any]:
    """A plain answer of every use case, for calls that get that far."""
    ref = InvoiceRef("card-1", "code-1")
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    invoice = Invoice(ref, "openid-1", ReimburseStatus.INIT, total_fen=12345)
    session = ImportSession(OFFICIAL.appid, "report-1", "admin", "https://e.example/i", now)
    imported = ImportedInvoice(invoice, OFFICIAL.appid, "report-1", "admin", now, now)
    record = DocumentRecord(
        OFFICIAL.appid,
        ref,
        DocumentKind.INVOICE,
        "https://wechat.example/pdf",
        ArchiveState.ARCHIVED,
        digest="d" * 64,
        size=9,
        fetched_at=now,
    )
    return {
        "get_invoice": invoice,
        "get_invoices": [invoice],
        "change": [StatusChange(ref, ReimburseStatus.INIT, ReimburseStatus.LOCK, now)],
        "sign": Signatures(wx_config=WxConfig(OFFICIAL.appid, 1, "nonce", "signature", "u")),
        "issue": IssuedQr(b"png", session, "fit1.ticket.mac", f"{session.url}#t=fit1"),
        "import_invoices": ImportResult("report-1", ()),
        "search": (SearchPage(), ""),
        "list": (AuditPage(()), ""),
        "reconcile_report": Reconciliation(OFFICIAL.appid),
        "watch": [imported, SessionEnded(now, 1)],
        "open": (record, [b"%PDF-", b"body"]),
    }


class Accounts:
    """The AccountDirectory port over a fixed list of accounts."""

    def __init__(self, accounts: Sequence[WeChatAccount]) -> None:
        self._accounts = tuple(accounts)
        self._by_name = {name: a for a in accounts for name in a.names}

    def find(self, name: str) -> WeChatAccount | None:
        return self._by_name.get(name)

    def listed(self) -> tuple[WeChatAccount, ...]:
        return self._accounts


@dataclass
class Callers:
    """The callers of a test gateway and their keys (shown once, as operators hand them out)."""

    directory: CallerDirectory
    keys: dict[str, str]


def callers(*specs: Caller) -> Callers:
    """A directory with one fresh key per caller."""
    keys: dict[str, str] = {}
    entries = []
    for spec in specs:
        key, stored = create_key(SECRET)
        keys[spec.name] = key
        entries.append(CallerEntry(spec, keys=(stored,)))
    return Callers(CallerDirectory(SECRET, entries), keys)


#: A caller allowed everything, and one allowed only to read the official account.
ADMIN = Caller("admin", frozenset({ANY}), frozenset({ANY}))
READER = Caller("reader", frozenset({OFFICIAL.alias}), frozenset({"read"}))
#: What the import ticket of the default import session allows (IssueImportQr mints it so:
#: the account's appid, the session's bizCode, the import page's origin, its expiry).
TICKET = ImportScope(
    account=OFFICIAL.appid,
    biz_code="report-1",
    origin="https://expenses.example.com",
    expire_time=datetime(2100, 1, 1, tzinfo=UTC),
    issued_by="admin",
)


@dataclass
class InProcessGateway:
    """The InvoiceService of one test module: real api/, fake use cases, grpc_testing."""

    loop: LoopThread
    use_cases: FakeUseCases = field(default_factory=FakeUseCases)
    people: Callers = field(default_factory=lambda: callers(ADMIN, READER))
    admission: Admission | None = None
    default_deadline_seconds: float = 0.0
    #: False: no document archive configured (GetInvoiceDocument has no reader).
    archive: bool = True
    recorded: list[CallFacts] = field(default_factory=list)

    def __post_init__(self) -> None:
        fake: Any = self.use_cases
        servicer = InvoiceServicer(
            AccessPolicy(Accounts(ACCOUNTS)),
            fake,
            fake,
            fake,
            fake,
            fake,
            fake,
            fake,
            fake,
            watcher=fake,
            documents=fake if self.archive else None,
            max_batch_update=50,
            import_qr_ttl=timedelta(minutes=10),
        )
        gated = invoice_service_handler(servicer, lambda: self.people.directory, self.admission)
        self.generic = WrappedHandlers(
            [gated],
            [
                CallRecorder([self.recorded.append]).wrap,
                DeadlinePolicy(self.default_deadline_seconds).wrap,
            ],
        )
        self.server = grpc_testing.server_from_dictionary(
            {SERVICE: AioBridge(self.generic, self.loop)}, grpc_testing.strict_real_time()
        )

    def key(self, caller: str = "admin") -> tuple[tuple[str, str], ...]:
        """The metadata of a call authenticated as `caller`."""
        return (("authorization", f"Bearer {self.people.keys[caller]}"),)

    def ticket(self, scope: ImportScope | None = None) -> str:
        """An import ticket this gateway minted (IssueImportQr's), for `scope` or TICKET."""
        tickets = self.people.directory.tickets
        assert tickets is not None
        return tickets.mint(scope or TICKET)

    def ticket_key(self, scope: ImportScope | None = None) -> tuple[tuple[str, str], ...]:
        """The metadata of a call authenticated by an import ticket (a browser's)."""
        return (("authorization", f"Ticket {self.ticket(scope)}"),)

    def call(
        self,
        rpc: str,
        request: Any,
        *,
        metadata: Sequence[tuple[str, Any]] | None = None,
        timeout: float | None = None,
    ) -> Outcome:
        """Calls `rpc` and waits for how it ended (as admin, unless `metadata` says else)."""
        method = SERVICE.methods_by_name[rpc]
        sent = self.key() if metadata is None else tuple(metadata)
        if method.server_streaming:
            return self._stream(method, sent, request, timeout)
        unary = self.server.invoke_unary_unary(method, sent, request, timeout)
        response, trailing, code, details = unary.termination()
        return Outcome(response, tuple(trailing or ()), code, details or "")

    def _stream(self, method: Any, sent: Any, request: Any, timeout: float | None) -> Outcome:
        """A server-streaming call: every message it sent, then how it ended."""
        stream = self.server.invoke_unary_stream(method, sent, request, timeout)
        responses = []
        while True:
            try:
                responses.append(stream.take_response())
            except ValueError:  # grpc_testing: "No more responses!" once it has ended
                break
        trailing, code, details = stream.termination()
        return Outcome(responses, tuple(trailing or ()), code, details or "")
