"""Write-ahead intents and invoice claims replace the idempotency records; invoices get the
domain document the ledger reads back.

- `intents` takes over every idempotency record: DONE records keep replaying their outcome
  (the same JSON), an UNKNOWN or PENDING one becomes an ARMED status change with no plan,
  which the next retry with its request_id settles by reading WeChat.
- `imported_invoices.document` is added empty; the gateway fills it at start from the
  stored WeChat JSON (InvoiceLedger.backfill_documents), because the ledger has no WeChat
  parser of its own.
- IssueImportQr's request ids move to the intents too; those recorded before this migration
  are not carried over (a QR session lives at most a day, and replaying one after the
  upgrade simply reopens the bizCode's session).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("imported_invoices") as batch:
        batch.add_column(sa.Column("document", sa.Text, nullable=True))
    op.create_table(
        "intents",
        sa.Column("id", _ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("rpc", sa.String(32), nullable=False),
        sa.Column("caller", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("plan", sa.Text, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("error", sa.String(128), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("lease_until_us", sa.BigInteger, nullable=False),
        sa.Column("sent_us", sa.BigInteger, nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("updated_us", sa.BigInteger, nullable=False),
    )
    op.create_index(
        "uq_intent_request",
        "intents",
        ["account", "request_id"],
        unique=True,
        sqlite_where=sa.text("request_id <> ''"),
        postgresql_where=sa.text("request_id <> ''"),
    )
    op.create_index("ix_intent_state", "intents", ["state", "lease_until_us"])
    op.create_table(
        "invoice_claims",
        sa.Column("account", sa.String(64), primary_key=True),
        sa.Column("card_id", sa.String(128), primary_key=True),
        sa.Column("encrypt_code", sa.String(512), primary_key=True),
        sa.Column("intent_id", sa.BigInteger, nullable=False),
        sa.Column("expires_us", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_claim_intent", "invoice_claims", ["intent_id"])
    op.execute(
        """
        INSERT INTO intents (account, request_id, rpc, caller, kind, fingerprint, state, plan,
                             outcome, error, owner, lease_until_us, sent_us, created_us,
                             updated_us)
        SELECT account, request_id, rpc, caller, 'STATUS_CHANGE', fingerprint,
               CASE WHEN state = 'DONE' THEN 'DONE' ELSE 'ARMED' END, '',
               CASE WHEN state = 'DONE' THEN outcome ELSE '' END, '', '', 0, updated_us,
               created_us, updated_us
        FROM idempotency_records
        """
    )
    op.drop_table("idempotency_records")
    op.drop_index("ix_import_session_request", table_name="import_sessions")
    with op.batch_alter_table("import_sessions") as batch:
        batch.drop_column("request_id")


def downgrade() -> None:
    raise NotImplementedError("0004 is not reversible: intents hold outcomes still replayed")
