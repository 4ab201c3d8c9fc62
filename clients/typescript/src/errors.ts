// Decodes the gateway's rich errors: the google.rpc.Status a failed call carries in its
// `grpc-status-details-bin` trailer (Connect puts it in ConnectError's details). Generic over
// the detail types of google/rpc/error_details.proto, whichever RPC failed.

import { ConnectError, type Code } from "@connectrpc/connect";
import { durationMs } from "@bufbuild/protobuf/wkt";
import {
  BadRequestSchema,
  ErrorInfoSchema,
  PreconditionFailureSchema,
  QuotaFailureSchema,
  ResourceInfoSchema,
  RetryInfoSchema,
  type ErrorInfo,
  type ResourceInfo,
} from "./googleapis/google/rpc/error_details_pb.js";

/** ErrorInfo.domain of the errors the gateway itself raises. */
export const GATEWAY_DOMAIN = "fapiao-gateway";

/** A request field that is wrong (BadRequest), e.g. `invoice.card_id`. */
export interface FieldViolation {
  field: string;
  description: string;
}

/** A state the call needed and did not find (PreconditionFailure). */
export interface PreconditionViolation {
  type: string;
  subject: string;
  description: string;
}

/** A quota the call ran into (QuotaFailure). */
export interface QuotaViolation {
  subject: string;
  description: string;
}

/** A failed call, with what its details say. */
export interface RichError {
  /** The status code (Connect's Code: the gRPC code number). */
  code: Code;
  /** The message without Connect's "[code]" prefix. */
  message: string;
  /** The ErrorInfo; every error the gateway raises has exactly one. */
  errorInfo: ErrorInfo | undefined;
  /** ErrorInfo.reason, e.g. INVALID_REQUEST_FIELDS; "" without an ErrorInfo. */
  reason: string;
  /** ErrorInfo.domain: "fapiao-gateway" for the gateway's own errors. */
  domain: string;
  /** ErrorInfo.metadata: account, card_id, wechat_errcode, correlation_id, ... as known. */
  metadata: Record<string, string>;
  /** The WeChat errcode behind the error, when WeChat answered with one. */
  wechatErrcode: number | undefined;
  /** How long to wait before trying again (RetryInfo); undefined: do not retry as is. */
  retryDelayMs: number | undefined;
  fieldViolations: FieldViolation[];
  preconditionViolations: PreconditionViolation[];
  quotaViolations: QuotaViolation[];
  /** The resource the error is about (ResourceInfo), e.g. the invoice. */
  resource: ResourceInfo | undefined;
  /** Who holds the resource, when known: e.g. "bizCode:EXP-1001" (ResourceInfo.owner). */
  holder: string | undefined;
}

/** The rich error of anything a Connect client threw (a ConnectError, or wrapped as one). */
export function richError(thrown: unknown): RichError {
  const error = ConnectError.from(thrown);
  const errorInfo = error.findDetails(ErrorInfoSchema)[0];
  const metadata = { ...(errorInfo?.metadata ?? {}) };
  const retry = error.findDetails(RetryInfoSchema)[0];
  const resource = error.findDetails(ResourceInfoSchema)[0];
  const errcode = metadata["wechat_errcode"];
  return {
    code: error.code,
    message: error.rawMessage,
    errorInfo,
    reason: errorInfo?.reason ?? "",
    domain: errorInfo?.domain ?? "",
    metadata,
    wechatErrcode: errcode === undefined ? undefined : Number(errcode),
    retryDelayMs: retry?.retryDelay ? durationMs(retry.retryDelay) : undefined,
    fieldViolations: error
      .findDetails(BadRequestSchema)
      .flatMap((d) => d.fieldViolations.map(({ field, description }) => ({ field, description }))),
    preconditionViolations: error
      .findDetails(PreconditionFailureSchema)
      .flatMap((d) =>
        d.violations.map(({ type, subject, description }) => ({ type, subject, description })),
      ),
    quotaViolations: error
      .findDetails(QuotaFailureSchema)
      .flatMap((d) => d.violations.map(({ subject, description }) => ({ subject, description }))),
    resource,
    holder: resource?.owner || undefined,
  };
}
