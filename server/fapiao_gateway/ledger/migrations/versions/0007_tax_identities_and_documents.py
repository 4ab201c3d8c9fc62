"""The company-wide duplicate guard (invoices keyed by their tax identity), and the archive of
the invoices' documents.

- `imported_invoices.tax_identity`: the invoice's tax identity (domain/tax_identity.py),
  NULL when it lacks one; indexed for the search across accounts. Existing rows get theirs
  from their stored invoice code and number.
- `tax_identities`: which row (account and card) holds each identity. Existing rows are
  entered in the order they were first stored (by id): where the ledger already holds one
  fapiao through several cards, the first holds it, and the others stay as they are
  (findable by the search; a new import of them is refused as a duplicate).
- `invoice_documents`: each imported invoice's documents (PDF, trip attachment) and their
  archiving state. Empty here: the archiver enters the invoices imported before it existed
  as it goes (services/archiving.py).

Revision ID: 0007
Revises: 0006
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_CHUNK = 1000
_DIGITAL_NUMBER = re.compile(r"\d{20}")


def _tax_identity(invoice_code: str, invoice_number: str) -> str | None:
    """domain.tax_identity.tax_identity, frozen here as this revision applies it."""
    code, number = invoice_code.strip(), invoice_number.strip()
    if _DIGITAL_NUMBER.fullmatch(number):
        return number
    if code and number:
        return f"{code}:{number}"
    return None


def upgrade() -> None:
    with op.batch_alter_table("imported_invoices") as batch:
        batch.add_column(sa.Column("tax_identity", sa.String(64), nullable=True))
    op.create_index(
        "ix_imported_tax_identity", "imported_invoices", ["tax_identity", "update_time_us", "id"]
    )
    op.create_table(
        "tax_identities",
        sa.Column("tax_identity", sa.String(64), primary_key=True),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("card_id", sa.String(128), nullable=False),
        sa.Column("encrypt_code", sa.String(512), nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
    )
    _backfill()
    op.create_table(
        "invoice_documents",
        sa.Column("account", sa.String(64), primary_key=True),
        sa.Column("card_id", sa.String(128), primary_key=True),
        sa.Column("encrypt_code", sa.String(512), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False, server_default=""),
        sa.Column("size", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("fetched_us", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_us", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("reason", sa.String(128), nullable=False, server_default=""),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("updated_us", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_document_due", "invoice_documents", ["state", "next_attempt_us"])


def _backfill() -> None:
    bind = op.get_bind()
    rows_t = sa.table(
        "imported_invoices",
        sa.column("id"),
        sa.column("account"),
        sa.column("card_id"),
        sa.column("encrypt_code"),
        sa.column("invoice_code"),
        sa.column("invoice_number"),
        sa.column("import_time_us"),
        sa.column("tax_identity"),
    )
    holders = sa.table(
        "tax_identities",
        sa.column("tax_identity"),
        sa.column("account"),
        sa.column("card_id"),
        sa.column("encrypt_code"),
        sa.column("created_us"),
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(rows_t).where(rows_t.c.id > last).order_by(rows_t.c.id).limit(_CHUNK)
        ).all()
        if not rows:
            return
        keyed = [(row, _tax_identity(row.invoice_code, row.invoice_number)) for row in rows]
        keys = {key for _, key in keyed if key is not None}
        held = set(
            bind.execute(
                sa.select(holders.c.tax_identity).where(holders.c.tax_identity.in_(sorted(keys)))
            ).scalars()
        )
        for row, key in keyed:
            if key is None:
                continue
            bind.execute(sa.update(rows_t).where(rows_t.c.id == row.id).values(tax_identity=key))
            if key not in held:
                held.add(key)
                bind.execute(
                    sa.insert(holders).values(
                        tax_identity=key,
                        account=row.account,
                        card_id=row.card_id,
                        encrypt_code=row.encrypt_code,
                        created_us=row.import_time_us,
                    )
                )
        last = rows[-1].id


def downgrade() -> None:
    op.drop_table("invoice_documents")
    op.drop_table("tax_identities")
    op.drop_index("ix_imported_tax_identity", table_name="imported_invoices")
    with op.batch_alter_table("imported_invoices") as batch:
        batch.drop_column("tax_identity")
