"""Caller authentication: API keys (stored hashed) and mutual-TLS identities."""
