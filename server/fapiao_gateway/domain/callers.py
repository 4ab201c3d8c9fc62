"""Who is calling, and what they may do: the gateway's own tenants.

A caller is an internal system (an expense service, an ERP) allowed a set of WeChat accounts
and a set of operations. Every use case receives the caller with the request (in
RequestContext), so nothing can act or read outside the caller's accounts by accident.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from fapiao_gateway.domain.status import ReimburseStatus

#: In a caller's account or operation list: all of them.
ANY = "*"


class Operation(StrEnum):
    """What a caller may be allowed to do."""

    READ = "read"  # GetInvoice, GetInvoices, SearchInvoices
    IMPORT = "import"  # ImportInvoices
    LOCK = "lock"  # status -> LOCK (also ImportInvoices with lock)
    UNLOCK = "unlock"  # status -> INIT
    WRITE_OFF = "write_off"  # status -> CLOSURE (irreversible)
    SIGN = "sign"  # SignJsapi
    ISSUE_QR = "issue_qr"  # IssueImportQr
    RECONCILE = "reconcile"  # ReconcileInvoices
    AUDIT = "audit"  # ListAuditEvents


#: The operation a status change needs, by target status.
OPERATION_FOR_STATUS = {
    ReimburseStatus.LOCK: Operation.LOCK,
    ReimburseStatus.INIT: Operation.UNLOCK,
    ReimburseStatus.CLOSURE: Operation.WRITE_OFF,
}


@dataclass(frozen=True, slots=True)
class ImportScope:
    """What an import ticket (a browser's credential, auth/import_tickets.py) allows: for one
    account, signing pages on one origin, importing into and watching one bizCode, until
    `expire_time`. `issued_by` is the caller that issued the import QR code."""

    account: str
    biz_code: str
    origin: str
    expire_time: datetime
    issued_by: str


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated caller. `accounts` holds appids or aliases, or ANY; `rate_limits`
    how many calls it may make, e.g. "20/second" (api/quotas.py)."""

    name: str
    accounts: frozenset[str]
    operations: frozenset[str]
    rate_limits: tuple[str, ...] = ()
    #: Set for a browser holding an import ticket: it may do only what the scope allows.
    scope: ImportScope | None = None

    def may(self, operation: Operation) -> bool:
        return ANY in self.operations or operation.value in self.operations

    def may_use(self, *account_names: str) -> bool:
        """Whether any of the names an account goes by (appid, alias) is allowed."""
        return ANY in self.accounts or any(n in self.accounts for n in account_names if n)
