"""The complete audit trail, card states, and reconciliation's call counts.

- `status_audit` records every state-changing action: `action` (what kind), `biz_code`,
  `detail` (JSON of further facts); existing rows get their action from their rpc and
  outcome. `audit_invoices` indexes each entry's invoices, so the trail is found by invoice;
  it is filled from the existing rows' JSON.
- `imported_invoices.card_status`: the card's last known state (WeChat's user_card_status),
  "" where it is not known (every row imported before).
- `reconcile_calls`: how many upstream calls reconciliation spent per account and day (in
  the ledger, so every replica draws from one daily share).

Revision ID: 0005
Revises: 0004
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_CHUNK = 1000


def upgrade() -> None:
    with op.batch_alter_table("status_audit") as batch:
        batch.add_column(sa.Column("action", sa.String(24), nullable=False, server_default=""))
        batch.add_column(sa.Column("biz_code", sa.String(64), nullable=False, server_default=""))
        batch.add_column(sa.Column("detail", sa.Text, nullable=False, server_default=""))
    op.execute(
        """
        UPDATE status_audit SET action = CASE
            WHEN outcome = 'COMPENSATED' THEN 'COMPENSATION'
            WHEN rpc = 'ImportInvoices' THEN 'IMPORT_LOCK'
            ELSE 'STATUS_CHANGE' END
        """
    )
    op.create_index("ix_audit_biz_code", "status_audit", ["account", "biz_code", "created_us"])
    op.create_index("ix_audit_time", "status_audit", ["created_us", "id"])
    op.create_table(
        "audit_invoices",
        sa.Column("id", _ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("audit_id", sa.BigInteger, nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("card_id", sa.String(128), nullable=False),
        sa.Column("encrypt_code", sa.String(512), nullable=False),
    )
    op.create_index(
        "ix_audit_invoice", "audit_invoices", ["account", "card_id", "encrypt_code", "audit_id"]
    )
    _index_existing_entries()
    with op.batch_alter_table("imported_invoices") as batch:
        batch.add_column(sa.Column("card_status", sa.String(16), nullable=False, server_default=""))
    op.create_index(
        "ix_imported_open", "imported_invoices", ["account", "status", "update_time_us", "id"]
    )
    op.create_table(
        "reconcile_calls",
        sa.Column("account", sa.String(64), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("calls", sa.BigInteger, nullable=False),
    )


def _index_existing_entries() -> None:
    bind = op.get_bind()
    audit = sa.table("status_audit", sa.column("id"), sa.column("account"), sa.column("invoices"))
    index = sa.table(
        "audit_invoices",
        sa.column("audit_id"),
        sa.column("account"),
        sa.column("card_id"),
        sa.column("encrypt_code"),
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(audit.c.id, audit.c.account, audit.c.invoices)
            .where(audit.c.id > last)
            .order_by(audit.c.id)
            .limit(_CHUNK)
        ).all()
        if not rows:
            return
        values = [
            {
                "audit_id": row.id,
                "account": row.account,
                "card_id": item["card_id"],
                "encrypt_code": item["encrypt_code"],
            }
            for row in rows
            for item in json.loads(row.invoices)
        ]
        if values:
            bind.execute(sa.insert(index), values)
        last = rows[-1].id


def downgrade() -> None:
    raise NotImplementedError("0005 is not reversible: the audit trail only grows")
