"""Import announcements between replicas: in process, PostgreSQL LISTEN/NOTIFY, Redis pub/sub."""
