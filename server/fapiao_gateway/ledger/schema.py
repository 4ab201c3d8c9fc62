"""The ledger's tables (SQLAlchemy Core). Alembic migrations create them; this is the truth
queries are written against.

Times are integer microseconds since the epoch (UTC): exact, ordered and indexed the same way
on SQLite and PostgreSQL, which keyset paging relies on. Every search index ends in
(update_time_us, id), the order results come in, so a filter plus a page is one index range;
a billing-time range is the exception (its matches are sorted, from index entries alone).
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
    text,
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
    #: The invoice as WeChat returned it (getinvoiceinfo JSON), kept verbatim for audits.
    Column("payload", Text, nullable=False),
    #: The invoice as the gateway reads it back (ledger/codecs.py): the domain's own form,
    #: so reading the ledger needs no WeChat parser. NULL only in rows written before it
    #: existed, until the backfill at start fills them.
    Column("document", Text, nullable=True),
    #: The card's last known state (WeChat's user_card_status): "" when not known. Like
    #: `status`, it overrides the document's, which holds what the import read.
    Column("card_status", String(16), nullable=False, server_default=""),
    Column("imported_by", String(128), nullable=False),
    Column("import_time_us", BigInteger, nullable=False),
    Column("update_time_us", BigInteger, nullable=False),
    #: The invoice's tax identity (domain/tax_identity.py), NULL when it has none: searched
    #: across accounts; which row holds it is `tax_identities`.
    Column("tax_identity", String(64), nullable=True),
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
    # A billing-time range is sorted by update time: with it in the index, from entries only.
    Index("ix_imported_billing", "account", "billing_time_us", "update_time_us", "id"),
    Index(
        "ix_imported_status_billing",
        "account",
        "status",
        "billing_time_us",
        "update_time_us",
        "id",
    ),
    Index("ix_imported_tax_identity", "tax_identity", "update_time_us", "id"),
)

#: The company-wide duplicate guard: which imported row (account and card) holds each tax
#: identity. The primary key makes "one fapiao, one holder" atomic on both backends: of two
#: imports racing with one identity, the second's insert finds the first's row.
tax_identities = Table(
    "tax_identities",
    metadata,
    Column("tax_identity", String(64), primary_key=True),
    Column("account", String(64), nullable=False),
    Column("card_id", String(128), nullable=False),
    Column("encrypt_code", String(512), nullable=False),
    Column("created_us", BigInteger, nullable=False),
)

#: The archive of each imported invoice's documents (domain/documents.py): one row per
#: account, invoice and document kind, PENDING until stored (digest, size, fetch time) or
#: FAILED after its last attempt; the bytes are in the archive store, by digest.
invoice_documents = Table(
    "invoice_documents",
    metadata,
    Column("account", String(64), primary_key=True),
    Column("card_id", String(128), primary_key=True),
    Column("encrypt_code", String(512), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("url", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("digest", String(64), nullable=False, server_default=""),
    Column("size", BigInteger, nullable=False, server_default="0"),
    Column("fetched_us", BigInteger, nullable=False, server_default="0"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    #: When the next download may be tried (PENDING only).
    Column("next_attempt_us", BigInteger, nullable=False, server_default="0"),
    #: Why the last attempt failed ("" once archived).
    Column("reason", String(128), nullable=False, server_default=""),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    Index("ix_document_due", "state", "next_attempt_us"),
)

#: Every state-changing action (domain/status_changes.py AuditAction): who, for which account
#: and bizCode, which invoices, from what to what, and how it ended (OK, REPLAYED,
#: RECONCILED, ..., or the failure's reason and WeChat errcode).
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
    #: "" for an action that sets no status (an import session).
    Column("to_status", String(32), nullable=False),
    Column("outcome", String(64), nullable=False),
    Column("wechat_errcode", Integer, nullable=True),
    Column("created_us", BigInteger, nullable=False),
    Column("action", String(24), nullable=False, server_default=""),
    Column("biz_code", String(64), nullable=False, server_default=""),
    #: JSON object of further facts (card status before and after, a session's URL), or "".
    Column("detail", Text, nullable=False, server_default=""),
    Index("ix_audit_account_time", "account", "created_us"),
    Index("ix_audit_request", "account", "request_id"),
    Index("ix_audit_biz_code", "account", "biz_code", "created_us"),
    Index("ix_audit_time", "created_us", "id"),
)

#: Which invoices each audit entry is about: the trail of one invoice is an index range.
audit_invoices = Table(
    "audit_invoices",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("audit_id", BigInteger, nullable=False),
    Column("account", String(64), nullable=False),
    Column("card_id", String(128), nullable=False),
    Column("encrypt_code", String(512), nullable=False),
    Index("ix_audit_invoice", "account", "card_id", "encrypt_code", "audit_id"),
)

#: Upstream calls reconciliation spent, per account and day (China Standard Time, when
#: WeChat's daily quotas reset): kept in the ledger so every replica draws from one share.
reconcile_calls = Table(
    "reconcile_calls",
    metadata,
    Column("account", String(64), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("calls", BigInteger, nullable=False),
)

#: Write-ahead intents (domain/intents.py): every mutating request, recorded before WeChat is
#: called and settled after; with a request_id, also its AIP-155 record (one row per
#: account and request_id, never deleted, the first outcome kept for replays).
intents = Table(
    "intents",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("account", String(64), nullable=False),
    #: "" when the caller sent none (the request is still recorded, just not replayable).
    Column("request_id", String(64), nullable=False),
    Column("rpc", String(32), nullable=False),
    Column("caller", String(128), nullable=False),
    Column("kind", String(16), nullable=False),
    #: SHA-256 of the request without its request_id: the same id with another body is refused.
    Column("fingerprint", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    #: JSON of the Plan once ARMED: target, openid, bizCode, and the invoices with their
    #: status before.
    Column("plan", Text, nullable=False),
    #: JSON of the first outcome once DONE.
    Column("outcome", Text, nullable=False),
    #: Why it did not apply (FAILED, COMPENSATED), for operators.
    Column("error", String(128), nullable=False),
    #: The gateway process working on it, and until when it is presumed alive (it renews).
    Column("owner", String(64), nullable=False),
    Column("lease_until_us", BigInteger, nullable=False),
    #: When its last write was sent to WeChat (0: none).
    Column("sent_us", BigInteger, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    Index(
        "uq_intent_request",
        "account",
        "request_id",
        unique=True,
        sqlite_where=text("request_id <> ''"),
        postgresql_where=text("request_id <> ''"),
    ),
    Index("ix_intent_state", "state", "lease_until_us"),
)

#: Which intent may change an invoice at WeChat right now: at most one per invoice. A claim
#: of an unsettled intent is held; a settled intent's claim is kept until `expires_us` (when
#: a write's fate was unknown for a while, a late request could still land) and then free.
invoice_claims = Table(
    "invoice_claims",
    metadata,
    Column("account", String(64), primary_key=True),
    Column("card_id", String(128), primary_key=True),
    Column("encrypt_code", String(512), primary_key=True),
    Column("intent_id", BigInteger, nullable=False),
    #: 0 while the intent is unsettled; afterwards, when the claim lapses (unix µs).
    Column("expires_us", BigInteger, nullable=False),
    Index("ix_claim_intent", "intent_id"),
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
    Column("url", Text, nullable=False),
    Column("expire_us", BigInteger, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    UniqueConstraint("account", "biz_code", name="uq_import_session"),
)
