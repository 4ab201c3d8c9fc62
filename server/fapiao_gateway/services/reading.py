"""Reading every one of a set of invoices from WeChat, within a budget of upstream calls."""

import asyncio
from collections.abc import Sequence

from fapiao_gateway.domain.context import Deadline
from fapiao_gateway.domain.errors import FieldViolation, invalid_fields
from fapiao_gateway.domain.invoice import FetchedInvoice, InvoiceRef
from fapiao_gateway.services.ports import InvoiceSource


def check_budget(
    source: InvoiceSource, refs: Sequence[InvoiceRef], budget: int, *, field: str = "invoices"
) -> None:
    """INVALID_ARGUMENT (on `field`) when reading `refs` would take more than `budget`
    upstream calls.

    getinvoicebatch cannot tell apart invoices that share a card_id (one issuer's), so each
    of those costs a call of its own; the budget keeps one request from costing hundreds.
    """
    needed = source.batches_needed(refs)
    if needed > budget:
        raise invalid_fields(
            [
                FieldViolation(
                    field,
                    f"Reading these invoices takes {needed} upstream calls (invoices sharing a "
                    f"card_id are read one call each); at most {budget} per request: split "
                    "them over several requests.",
                )
            ]
        )


async def fetch_all(
    source: InvoiceSource, appid: str, refs: Sequence[InvoiceRef], deadline: Deadline
) -> dict[InvoiceRef, FetchedInvoice]:
    """Every ref's invoice: in batches, then one by one for what the batches left out, so
    a missing invoice fails with WeChat's own reason (e.g. NOT_FOUND), not a guess."""
    fetched, failed = await source.fetch_batches(appid, refs, deadline)
    if failed:
        raise next(iter(failed.values()))
    missing = [ref for ref in refs if ref not in fetched]
    singles = await asyncio.gather(*(source.fetch(appid, ref, deadline) for ref in missing))
    fetched.update(zip(missing, singles, strict=True))
    return fetched
