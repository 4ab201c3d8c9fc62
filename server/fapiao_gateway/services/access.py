"""The one way to an account: through the caller's permissions (AIP-193: checked first).

Use cases never look accounts up themselves; they act for the account this policy handed
out for the caller, so a caller cannot reach another tenant's account.
"""

import logging

from fapiao_gateway.domain.accounts import WeChatAccount
from fapiao_gateway.domain.callers import Operation
from fapiao_gateway.domain.context import RequestContext
from fapiao_gateway.domain.errors import FieldViolation, PermissionDenied, invalid_fields
from fapiao_gateway.services.ports import AccountDirectory

log = logging.getLogger("fapiao_gateway.access")


class AccessPolicy:
    """Decides whether the caller may do `operation` for the named account."""

    def __init__(self, accounts: AccountDirectory) -> None:
        self._accounts = accounts

    def authorize(
        self, ctx: RequestContext, account_name: str, *operations: Operation
    ) -> WeChatAccount:
        """The account, if the caller may use it for every operation; PERMISSION_DENIED otherwise.

        An account the caller may not use is refused the same way whether or not it exists.
        A missing name is INVALID_ARGUMENT (it reveals nothing); an unknown name is
        INVALID_ARGUMENT only for callers allowed every account.
        """
        if not account_name.strip():
            raise invalid_fields([FieldViolation("account", "Required; must not be empty.")])
        account = self._accounts.find(account_name)
        names = (account_name,) if account is None else (account_name, *account.names)
        caller = ctx.caller
        refused = [op.value for op in operations if not caller.may(op)]
        if refused or not caller.may_use(*names):
            what = ",".join(refused or [op.value for op in operations])
            log.warning(
                "permission denied caller=%s operation=%s account=%s",
                caller.name,
                what,
                account_name,
            )
            raise PermissionDenied(
                f"Caller {caller.name!r} may not {what} for account {account_name!r}.",
                reason="PERMISSION_DENIED",
                account=account_name,
                metadata={"caller": caller.name, "operation": what},
            )
        if account is None:
            raise invalid_fields(
                [FieldViolation("account", f"No WeChat account {account_name!r} is configured.")]
            )
        return account

    def readable(self, ctx: RequestContext, operation: Operation) -> tuple[WeChatAccount, ...]:
        """Every configured account the caller may use for `operation` (a search across
        accounts); PERMISSION_DENIED if there is none."""
        caller = ctx.caller
        allowed = (
            tuple(a for a in self._accounts.listed() if caller.may_use(*a.names))
            if caller.may(operation)
            else ()
        )
        if not allowed:
            log.warning(
                "permission denied caller=%s operation=%s account=*",
                caller.name,
                operation.value,
            )
            raise PermissionDenied(
                f"Caller {caller.name!r} may not {operation.value} for any account.",
                reason="PERMISSION_DENIED",
                metadata={"caller": caller.name, "operation": operation.value},
            )
        return allowed
