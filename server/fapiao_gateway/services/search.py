"""SearchInvoices: filters in, one page out, with an opaque page token (services/page_tokens.py)."""

from fapiao_gateway.domain.imports import Cursor, SearchFilters, SearchPage
from fapiao_gateway.services.page_tokens import decode_page_token, encode_page_token
from fapiao_gateway.services.ports import InvoiceLedger


class InvoiceSearch:
    """The SearchInvoices use case."""

    def __init__(self, ledger: InvoiceLedger) -> None:
        self._ledger = ledger

    async def search(
        self, filters: SearchFilters, page_token: str, size: int
    ) -> tuple[SearchPage, str]:
        """A page and the token for the next one ("" on the last page)."""
        after = decode_page_token(page_token, filters)
        cursor = Cursor(*after) if after else None
        page = await self._ledger.search(filters, cursor, size)
        last = page.next_cursor
        token = encode_page_token(filters, last.update_time_us, last.row_id) if last else ""
        return page, token
