// The transport callers should use: gRPC over HTTP/2 (Node), the API key on every call, and a
// deadline unless a call sets its own (`timeoutMs` in the call options).

import type { Interceptor, Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";

export interface GatewayTransportOptions {
  /** e.g. "https://fapiao-gateway.internal:443", or "http://127.0.0.1:50051" on this machine. */
  baseUrl: string;
  /** The caller's API key (fpk_...), sent as `authorization: Bearer <key>`. */
  apiKey?: string;
  /** The deadline of a call that sets none, in milliseconds (default 15 s). */
  defaultTimeoutMs?: number;
  /** More interceptors, run after the one that adds the key. */
  interceptors?: Interceptor[];
}

/** A gRPC transport to the gateway for `createClient(InvoiceService, transport)`. */
export function createGatewayTransport(options: GatewayTransportOptions): Transport {
  const { apiKey } = options;
  const authorize: Interceptor = (next) => async (request) => {
    if (apiKey !== undefined) {
      request.header.set("authorization", `Bearer ${apiKey}`);
    }
    return next(request);
  };
  return createGrpcTransport({
    baseUrl: options.baseUrl,
    defaultTimeoutMs: options.defaultTimeoutMs ?? 15_000,
    interceptors: [authorize, ...(options.interceptors ?? [])],
  });
}
