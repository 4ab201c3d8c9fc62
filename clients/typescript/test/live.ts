// Live test driver: calls a running gateway through the generated client and prints what
// happened, one JSON line per case; tests/clients/ starts the gateway, writes the cases and
// checks the lines. Generic: any RPC of InvoiceService, unary or server-streaming, by name.
//
// Environment: FAPIAO_ADDRESS (host:port), FAPIAO_API_KEY, FAPIAO_LIVE_CASES (a JSON file:
// [{"name", "method", "request"}], requests in the proto3 JSON form).

import { readFileSync } from "node:fs";
import { createClient } from "@connectrpc/connect";
import { fromJson, toJson, type DescMethod, type JsonValue } from "@bufbuild/protobuf";
import { InvoiceService, createGatewayTransport, richError, type RichError } from "../src/index.js";

interface Case {
  name: string;
  method: string;
  request: JsonValue;
}

function env(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set`);
  }
  return value;
}

function errorJson(error: RichError): JsonValue {
  return {
    code: error.code,
    message: error.message,
    reason: error.reason,
    domain: error.domain,
    metadata: error.metadata,
    fieldViolations: error.fieldViolations.map((v) => ({ ...v })),
    preconditionViolations: error.preconditionViolations.map((v) => ({ ...v })),
    quotaViolations: error.quotaViolations.map((v) => ({ ...v })),
    resource: error.resource
      ? {
          resourceType: error.resource.resourceType,
          resourceName: error.resource.resourceName,
          owner: error.resource.owner,
          description: error.resource.description,
        }
      : null,
    retryDelayMs: error.retryDelayMs ?? null,
    wechatErrcode: error.wechatErrcode ?? null,
  };
}

type AnyCall = (request: unknown) => unknown;

async function call(client: Record<string, AnyCall>, method: DescMethod, request: JsonValue) {
  const input = fromJson(method.input, request);
  const invoke = client[method.localName];
  if (invoke === undefined) {
    throw new Error(`the client has no ${method.localName}`);
  }
  if (method.methodKind === "unary") {
    return toJson(method.output, (await invoke(input)) as never);
  }
  if (method.methodKind === "server_streaming") {
    const responses: JsonValue[] = [];
    for await (const response of invoke(input) as AsyncIterable<never>) {
      responses.push(toJson(method.output, response));
    }
    return responses;
  }
  throw new Error(`${method.name}: ${method.methodKind} methods are not driven yet`);
}

async function main() {
  const cases = JSON.parse(readFileSync(env("FAPIAO_LIVE_CASES"), "utf8")) as Case[];
  const transport = createGatewayTransport({
    baseUrl: `http://${env("FAPIAO_ADDRESS")}`,
    apiKey: env("FAPIAO_API_KEY"),
  });
  const client = createClient(InvoiceService, transport) as unknown as Record<string, AnyCall>;
  for (const c of cases) {
    const method = InvoiceService.methods.find((m) => m.name === c.method);
    if (method === undefined) {
      throw new Error(`the generated client has no ${c.method}: regenerate it (make generate)`);
    }
    let line: JsonValue;
    try {
      line = { name: c.name, response: await call(client, method, c.request) };
    } catch (thrown) {
      line = { name: c.name, error: errorJson(richError(thrown)) };
    }
    console.log(JSON.stringify(line));
  }
}

await main();
