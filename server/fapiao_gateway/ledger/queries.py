"""Conditions several ledger modules put on rows: exactly these refs of an account (in a form
both backends answer from the (account, card_id, encrypt_code) indexes), and "an intent
other than this one is changing the invoice"."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, exists, or_, tuple_

from fapiao_gateway.domain.invoice import InvoiceRef
from fapiao_gateway.ledger.schema import imported_invoices as t
from fapiao_gateway.ledger.schema import invoice_claims as claims


def refs_condition(account: str, refs: Sequence[InvoiceRef], table: Any = t) -> Any:
    """`table`'s rows of `account` for exactly these refs, in a form both backends answer
    from the (account, card_id, encrypt_code) index."""
    pairs = sorted({(r.card_id, r.encrypt_code) for r in refs})
    return and_(
        table.c.account == account,
        table.c.card_id.in_(sorted({card for card, _ in pairs})),
        tuple_(table.c.card_id, table.c.encrypt_code).in_(pairs),
    )


def claimed_by_other(account: str, now_us: int, intent_id: int = 0) -> Any:
    """Rows of `account` whose invoice an unsettled (or lately settled) intent other than
    `intent_id` holds: what no reader or other writer may change."""
    return exists().where(
        claims.c.account == account,
        claims.c.card_id == t.c.card_id,
        claims.c.encrypt_code == t.c.encrypt_code,
        claims.c.intent_id != intent_id,
        or_(claims.c.expires_us == 0, claims.c.expires_us > now_us),
    )
