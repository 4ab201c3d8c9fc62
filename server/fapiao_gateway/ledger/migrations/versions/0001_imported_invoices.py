"""Imported invoices, with an index per search filter.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "imported_invoices",
        sa.Column("id", _ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("card_id", sa.String(128), nullable=False),
        sa.Column("encrypt_code", sa.String(512), nullable=False),
        sa.Column("openid", sa.String(128), nullable=False),
        sa.Column("biz_code", sa.String(64), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("invoice_code", sa.String(32), nullable=False),
        sa.Column("invoice_number", sa.String(32), nullable=False),
        sa.Column("buyer_tax_number", sa.String(64), nullable=False),
        sa.Column("seller_tax_number", sa.String(64), nullable=False),
        sa.Column("billing_time_us", sa.BigInteger, nullable=True),
        sa.Column("total_fen", sa.BigInteger, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("imported_by", sa.String(128), nullable=False),
        sa.Column("import_time_us", sa.BigInteger, nullable=False),
        sa.Column("update_time_us", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("account", "card_id", "encrypt_code", name="uq_imported_invoice"),
    )
    for name, columns in [
        ("ix_imported_recent", ["account", "update_time_us", "id"]),
        ("ix_imported_biz_code", ["account", "biz_code", "update_time_us", "id"]),
        (
            "ix_imported_code_number",
            ["account", "invoice_code", "invoice_number", "update_time_us", "id"],
        ),
        ("ix_imported_number", ["account", "invoice_number", "update_time_us", "id"]),
        ("ix_imported_buyer", ["account", "buyer_tax_number", "update_time_us", "id"]),
        ("ix_imported_seller", ["account", "seller_tax_number", "update_time_us", "id"]),
        ("ix_imported_status", ["account", "status", "update_time_us", "id"]),
        ("ix_imported_billing", ["account", "billing_time_us", "id"]),
    ]:
        op.create_index(name, "imported_invoices", columns)


def downgrade() -> None:
    op.drop_table("imported_invoices")
