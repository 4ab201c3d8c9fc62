"""What the gateway tells its operators: metrics, traces, log formatting, per-account health
(docs/observability.md). The adapters report through small observer protocols; this package
is what acts on the reports."""
