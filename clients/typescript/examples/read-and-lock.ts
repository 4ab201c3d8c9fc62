// Reads an invoice, then locks it for an expense report by importing it with lock=true; an
// invoice another report already holds is a lock conflict, reported with its holder.
//
// Usage: FAPIAO_ADDRESS=127.0.0.1:50051 FAPIAO_API_KEY=fpk_... \
//          node read-and-lock.js CARD_ID ENCRYPT_CODE BIZ_CODE

import { Code, createClient } from "@connectrpc/connect";
import { InvoiceService, createGatewayTransport, richError } from "../src/index.js";

const [cardId, encryptCode, bizCode] = process.argv.slice(2);
if (!cardId || !encryptCode || !bizCode) {
  console.error("usage: read-and-lock CARD_ID ENCRYPT_CODE BIZ_CODE");
  process.exit(2);
}
const client = createClient(
  InvoiceService,
  createGatewayTransport({
    baseUrl: `http://${process.env.FAPIAO_ADDRESS ?? "127.0.0.1:50051"}`,
    apiKey: process.env.FAPIAO_API_KEY,
  }),
);
const invoice = { cardId, encryptCode };

const { invoice: read } = await client.getInvoice({ account: "sandbox", invoice });
console.log(`read ${read?.invoiceNumber}: ${read?.title}, ${read?.totalFen} fen`);

try {
  await client.importInvoices({ account: "sandbox", bizCode, invoices: [invoice], lock: true });
  console.log(`locked for ${bizCode}`);
} catch (thrown) {
  const error = richError(thrown);
  if (error.code === Code.AlreadyExists) {
    console.log(`lock conflict: held by ${error.holder} (${error.reason})`);
  } else {
    throw thrown;
  }
}
