"""ListAuditEvents: the audit trail of one account, filtered, newest first, with page tokens."""

from fapiao_gateway.domain.status_changes import AuditCursor, AuditFilters, AuditPage
from fapiao_gateway.services.page_tokens import decode_page_token, encode_page_token
from fapiao_gateway.services.ports import AuditLog


class AuditReader:
    """The ListAuditEvents use case."""

    def __init__(self, log: AuditLog) -> None:
        self._log = log

    async def list(
        self, filters: AuditFilters, page_token: str, size: int
    ) -> tuple[AuditPage, str]:
        """A page and the token for the next one ("" on the last page)."""
        after = decode_page_token(page_token, filters)
        page = await self._log.page(filters, AuditCursor(*after) if after else None, size)
        last = page.next_cursor
        token = encode_page_token(filters, last.created_us, last.entry_id) if last else ""
        return page, token
