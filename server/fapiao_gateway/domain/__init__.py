"""Plain-Python heart of the gateway: invoices, statuses, errors. No I/O, no protobuf."""
