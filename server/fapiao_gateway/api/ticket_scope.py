"""What a browser holding an import ticket may call: three RPCs, each only within the
ticket's scope; everything else is PERMISSION_DENIED.

- SignJsapi: only for a page URL on the ticket's origin (the import pages), so a ticket
  cannot sign wx.config for a page elsewhere; chooseInvoice's cardSign names no URL.
- ImportInvoices: only into the ticket's bizCode, and without `lock` (locking is the expense
  system's decision, on submit, with its own key).
- WatchImport: only the ticket's bizCode.
The account is checked by the access policy (the ticket's caller may use only its account).
Default deny: an RPC added later is refused to tickets until it is listed here.
"""

from collections.abc import Callable

from fapiao.v1 import invoice_service_pb2 as pb
from google.protobuf.message import Message

from fapiao_gateway.domain.callers import Caller, ImportScope
from fapiao_gateway.domain.errors import PermissionDenied
from fapiao_gateway.domain.import_sessions import origin_of


def _denied(caller: Caller, what: str) -> PermissionDenied:
    return PermissionDenied(
        f"An import ticket may not {what}.",
        reason="IMPORT_TICKET_OUT_OF_SCOPE",
        metadata={"caller": caller.name},
    )


def _sign(request: pb.SignJsapiRequest, scope: ImportScope) -> str | None:
    if request.url and origin_of(request.url) != scope.origin:
        return f"sign for a page outside {scope.origin}"
    return None


def _import(request: pb.ImportInvoicesRequest, scope: ImportScope) -> str | None:
    if request.biz_code != scope.biz_code:
        return f"import into a bizCode other than {scope.biz_code}"
    if request.lock:
        return "lock invoices"
    return None


def _watch(request: Message, scope: ImportScope) -> str | None:
    if getattr(request, "biz_code", None) != scope.biz_code:
        return f"watch a bizCode other than {scope.biz_code}"
    return None


_ALLOWED: dict[str, Callable[..., str | None]] = {
    "SignJsapi": _sign,
    "ImportInvoices": _import,
    "WatchImport": _watch,
}


def confine(rpc: str, request: Message, caller: Caller) -> None:
    """Refuses (PERMISSION_DENIED) what the caller's import ticket does not allow; callers
    with an API key or a certificate (no scope) pass."""
    scope = caller.scope
    if scope is None:
        return
    check = _ALLOWED.get(rpc)
    if check is None:
        raise _denied(caller, f"call {rpc}")
    refused = check(request, scope)
    if refused is not None:
        raise _denied(caller, refused)
