"""Use cases: what a call means for the gateway, independent of gRPC."""
