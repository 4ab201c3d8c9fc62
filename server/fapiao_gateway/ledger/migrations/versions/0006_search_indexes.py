"""Search indexes that keep billing-time searches cheap at a million rows.

A billing-time range cannot be walked in the order results come in (newest update first),
so its matches are sorted: with (account, billing_time_us, id) every match was fetched from
the table to read its update time, 540 ms for a 30-day range at a million rows on SQLite.
With the update time in the index the sort reads index entries only (17 ms); status with
billing time, the combination callers use most, gets its own index (3 ms).
`ix_imported_open` duplicated `ix_imported_status` column for column; it goes.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_BILLING = ["account", "billing_time_us", "update_time_us", "id"]
_STATUS_BILLING = ["account", "status", "billing_time_us", "update_time_us", "id"]


def upgrade() -> None:
    op.drop_index("ix_imported_open", "imported_invoices")
    op.drop_index("ix_imported_billing", "imported_invoices")
    op.create_index("ix_imported_billing", "imported_invoices", _BILLING)
    op.create_index("ix_imported_status_billing", "imported_invoices", _STATUS_BILLING)


def downgrade() -> None:
    op.drop_index("ix_imported_status_billing", "imported_invoices")
    op.drop_index("ix_imported_billing", "imported_invoices")
    op.create_index(
        "ix_imported_billing", "imported_invoices", ["account", "billing_time_us", "id"]
    )
    op.create_index(
        "ix_imported_open", "imported_invoices", ["account", "status", "update_time_us", "id"]
    )
