"""The ledger: imported invoices (and, with the status work, the audit trail and idempotency
records), in SQLite by default or PostgreSQL for several replicas, one schema for both."""
