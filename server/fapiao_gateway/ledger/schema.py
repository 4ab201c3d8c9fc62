"""The ledger's tables (SQLAlchemy Core). Alembic migrations create them; this is the truth
queries are written against.

Times are integer microseconds since the epoch (UTC): exact, ordered and indexed the same way
on SQLite and PostgreSQL, which keyset paging relies on. Every search index ends in
(update_time_us, id), the order results come in, so a filter plus a page is one index range.
"""

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

#: BIGINT on PostgreSQL, INTEGER (the rowid alias, hence autoincrementing) on SQLite.
RowId = BigInteger().with_variant(Integer(), "sqlite")

imported_invoices = Table(
    "imported_invoices",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("account", String(64), nullable=False),
    Column("card_id", String(128), nullable=False),
    Column("encrypt_code", String(512), nullable=False),
    Column("openid", String(128), nullable=False),
    Column("biz_code", String(64), nullable=False),
    Column("status", String(32), nullable=False),
    Column("invoice_code", String(32), nullable=False),
    Column("invoice_number", String(32), nullable=False),
    Column("buyer_tax_number", String(64), nullable=False),
    Column("seller_tax_number", String(64), nullable=False),
    Column("billing_time_us", BigInteger, nullable=True),
    Column("total_fen", BigInteger, nullable=False),
    #: The invoice as WeChat returned it (getinvoiceinfo JSON), for audits and re-reads.
    Column("payload", Text, nullable=False),
    Column("imported_by", String(128), nullable=False),
    Column("import_time_us", BigInteger, nullable=False),
    Column("update_time_us", BigInteger, nullable=False),
    UniqueConstraint("account", "card_id", "encrypt_code", name="uq_imported_invoice"),
    Index("ix_imported_recent", "account", "update_time_us", "id"),
    Index("ix_imported_biz_code", "account", "biz_code", "update_time_us", "id"),
    Index(
        "ix_imported_code_number",
        "account",
        "invoice_code",
        "invoice_number",
        "update_time_us",
        "id",
    ),
    Index("ix_imported_number", "account", "invoice_number", "update_time_us", "id"),
    Index("ix_imported_buyer", "account", "buyer_tax_number", "update_time_us", "id"),
    Index("ix_imported_seller", "account", "seller_tax_number", "update_time_us", "id"),
    Index("ix_imported_status", "account", "status", "update_time_us", "id"),
    Index("ix_imported_billing", "account", "billing_time_us", "id"),
)
