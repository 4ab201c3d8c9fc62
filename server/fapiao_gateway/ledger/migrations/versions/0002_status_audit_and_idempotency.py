"""The status-change audit trail and AIP-155 idempotency records.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "status_audit",
        sa.Column("id", _ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("caller", sa.String(128), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("rpc", sa.String(32), nullable=False),
        sa.Column("invoices", sa.Text, nullable=False),
        sa.Column("to_status", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(64), nullable=False),
        sa.Column("wechat_errcode", sa.Integer, nullable=True),
        sa.Column("created_us", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_audit_account_time", "status_audit", ["account", "created_us"])
    op.create_index("ix_audit_request", "status_audit", ["account", "request_id"])
    op.create_table(
        "idempotency_records",
        sa.Column("id", _ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("caller", sa.String(128), nullable=False),
        sa.Column("rpc", sa.String(32), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("lease_until_us", sa.BigInteger, nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("updated_us", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("account", "request_id", name="uq_idempotency_request"),
    )


def downgrade() -> None:
    op.drop_table("idempotency_records")
    op.drop_table("status_audit")
