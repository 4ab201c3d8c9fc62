"""The gRPC entrypoint: servicer (proto <-> domain only), error mapping, server assembly."""
