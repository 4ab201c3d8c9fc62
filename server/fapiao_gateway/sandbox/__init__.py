"""A WeChat emulator: the same HTTP API and rules as WeChat's invoice APIs, in memory.

`emulator` holds the state and the rules, `faults` the failures tests and users can inject,
`seed` the invoices and accounts it starts with, `app` the ASGI front (usable in process via
httpx.ASGITransport, or standalone with `fapiao-gateway sandbox`).
"""
