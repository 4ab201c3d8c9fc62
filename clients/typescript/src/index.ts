// The Fapiao gateway's TypeScript client: the generated messages and InvoiceService
// descriptor (protoc-gen-es v2, used by Connect's createClient), the google.rpc error
// details, a transport with the key and a deadline, and the rich-error decoder.

export * from "./gen/fapiao/v1/invoice_pb.js";
export * from "./gen/fapiao/v1/invoice_service_pb.js";
export * from "./errors.js";
export * from "./transport.js";
