// A small Connect-protocol client for the gateway's browser endpoint (no build step).
// Unary calls are JSON POSTs; WatchImport is a stream of length-prefixed JSON messages.
export class GatewayError extends Error {
  constructor(code, message, reason) {
    super(message);
    this.code = code;      // Connect code name, e.g. "permission_denied"
    this.reason = reason;  // ErrorInfo.reason, e.g. "IMPORT_TICKET_OUT_OF_SCOPE"
  }
}

function errorOf(body, fallbackCode) {
  const details = (body && body.details) || [];
  const info = details.find((d) => d.type === "google.rpc.ErrorInfo");
  const reason = info && info.debug ? info.debug.reason : "";
  return new GatewayError(
    (body && body.code) || fallbackCode || "unknown",
    (body && body.message) || "",
    reason || "",
  );
}

const SERVICE = "/fapiao.v1.InvoiceService/";

export async function call(method, request, ticket) {
  let answer;
  try {
    answer = await fetch(SERVICE + method, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Ticket ${ticket}` },
      body: JSON.stringify(request),
    });
  } catch (failure) {
    throw new GatewayError("unavailable", String(failure), "NETWORK");
  }
  const body = await answer.json().catch(() => ({}));
  if (!answer.ok) throw errorOf(body, "unknown");
  return body;
}

// Calls `onMessage` for each message of a server stream; resolves when it ends cleanly,
// rejects with a GatewayError when it ends with one.
export async function stream(method, request, ticket, onMessage, signal) {
  const payload = new TextEncoder().encode(JSON.stringify(request));
  const framed = new Uint8Array(5 + payload.length);
  new DataView(framed.buffer).setUint32(1, payload.length);
  framed.set(payload, 5);
  let answer;
  try {
    answer = await fetch(SERVICE + method, {
      method: "POST",
      headers: { "content-type": "application/connect+json", authorization: `Ticket ${ticket}` },
      body: framed,
      signal,
    });
  } catch (failure) {
    throw new GatewayError("unavailable", String(failure), "NETWORK");
  }
  if (!answer.ok || !answer.body) throw new GatewayError("unavailable", `HTTP ${answer.status}`, "");
  const reader = answer.body.getReader();
  let buffer = new Uint8Array(0);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new GatewayError("unavailable", "The stream ended early.", "NETWORK");
    const joined = new Uint8Array(buffer.length + value.length);
    joined.set(buffer);
    joined.set(value, buffer.length);
    buffer = joined;
    while (buffer.length >= 5) {
      const flags = buffer[0];
      const size = new DataView(buffer.buffer, buffer.byteOffset).getUint32(1);
      if (buffer.length < 5 + size) break;
      const message = JSON.parse(new TextDecoder().decode(buffer.subarray(5, 5 + size)));
      buffer = buffer.slice(5 + size);
      if (flags & 0x02) {
        if (message.error) throw errorOf(message.error);
        return;
      }
      onMessage(message);
    }
  }
}

export function fragmentParam(name) {
  return new URLSearchParams(location.hash.replace(/^#/, "")).get(name) || "";
}

export function yuan(fen) {
  const value = Number(fen || 0) / 100;
  return "¥" + value.toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}
