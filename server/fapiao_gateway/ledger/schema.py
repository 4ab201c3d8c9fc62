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

#: Every status change attempt: who, for which account, which invoices, from what to what,
#: and how it ended (OK, REPLAYED, or the failure's reason and WeChat errcode).
status_audit = Table(
    "status_audit",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("account", String(64), nullable=False),
    Column("caller", String(128), nullable=False),
    Column("request_id", String(64), nullable=False),
    Column("rpc", String(32), nullable=False),
    #: JSON: [{"card_id", "encrypt_code", "from"}], "from" "" where the gateway did not know it.
    Column("invoices", Text, nullable=False),
    Column("to_status", String(32), nullable=False),
    Column("outcome", String(64), nullable=False),
    Column("wechat_errcode", Integer, nullable=True),
    Column("created_us", BigInteger, nullable=False),
    Index("ix_audit_account_time", "account", "created_us"),
    Index("ix_audit_request", "account", "request_id"),
)

#: AIP-155 request ids of mutating calls: PENDING while a call runs, DONE with its result,
#: UNKNOWN when WeChat may or may not have applied it (the next retry reads before writing).
#: A call that certainly changed nothing leaves no record, so retrying it runs it again.
idempotency_records = Table(
    "idempotency_records",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("account", String(64), nullable=False),
    Column("request_id", String(64), nullable=False),
    Column("caller", String(128), nullable=False),
    Column("rpc", String(32), nullable=False),
    #: SHA-256 of the request without its request_id: the same id with another request is refused.
    Column("fingerprint", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    #: JSON of the outcome when DONE (the changes made).
    Column("outcome", Text, nullable=False),
    #: A PENDING record whose lease has passed belongs to a process that died mid-call.
    Column("lease_until_us", BigInteger, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    UniqueConstraint("account", "request_id", name="uq_idempotency_request"),
)

#: Import sessions opened by IssueImportQr: the bizCode a QR code carries, for which account,
#: until when ImportInvoices accepts it, and who issued it.
import_sessions = Table(
    "import_sessions",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("account", String(64), nullable=False),
    Column("biz_code", String(64), nullable=False),
    Column("issued_by", String(128), nullable=False),
    Column("request_id", String(64), nullable=False),
    Column("url", Text, nullable=False),
    Column("expire_us", BigInteger, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    UniqueConstraint("account", "biz_code", name="uq_import_session"),
    Index("ix_import_session_request", "account", "request_id"),
)
