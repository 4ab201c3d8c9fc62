package io.github.fapiaogateway.fapiao.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * The Fapiao gateway: read, import, lock, unlock and write off the e-invoices
 * (发票) employees hold in WeChat, without touching WeChat tokens, signatures or
 * error codes.
 * Conventions every RPC shares:
 * - `account` names the WeChat account (Official Account / Mini Program /
 *   Weixin Work app / a merchant of a third-party platform) the call acts for:
 *   its appid or an alias configured in the gateway; a Weixin Work app also by
 *   its corp ID (while it is the corp's only configured app) or
 *   "&lt;corp_id&gt;/&lt;agent_id&gt;", the key errors and the ledger name it by. One
 *   gateway serves many accounts, and every RPC works the same for each kind.
 * - Mutating RPCs (UpdateStatus, UpdateStatusBatch, ImportInvoices,
 *   IssueImportQr) take `request_id` (AIP-155): a UUID chosen by the caller.
 *   Replaying a request with the same request_id returns the first outcome
 *   without acting again (a concurrent duplicate waits for the first, then
 *   ABORTED REQUEST_IN_PROGRESS if it waited too long); reusing it for a
 *   different request is INVALID_ARGUMENT. A call that failed without changing
 *   anything may be retried with its request_id; one whose outcome was unknown
 *   (the reply was lost, or the gateway died) is settled first by reading
 *   WeChat, then replayed or run again. Empty means "not idempotent": it still
 *   works, but the gateway never retries it once it may have reached WeChat.
 * - Every change at WeChat is recorded in the gateway before it is sent, and
 *   settled after (docs/intents.md): an invoice being changed by one request is
 *   ABORTED INVOICE_CHANGE_IN_PROGRESS (with RetryInfo) for any other until that
 *   one is settled; what a failed or interrupted request did is completed or
 *   undone by the gateway itself.
 * - Failures are google.rpc.Status with exactly one google.rpc.ErrorInfo
 *   (domain "fapiao-gateway"; reason UPPER_SNAKE; metadata carries
 *   wechat_errcode/wechat_errmsg, account and invoice when known) plus a
 *   BadRequest, PreconditionFailure, ResourceInfo, QuotaFailure or RetryInfo
 *   where it helps the caller act. See docs/errors.md.
 * </pre>
 */
@javax.annotation.Generated(
    value = "by gRPC proto compiler",
    comments = "Source: fapiao/v1/invoice_service.proto")
@io.grpc.stub.annotations.GrpcGenerated
public final class InvoiceServiceGrpc {

  private InvoiceServiceGrpc() {}

  public static final String SERVICE_NAME = "fapiao.v1.InvoiceService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<io.github.fapiaogateway.fapiao.v1.GetInvoiceRequest,
      io.github.fapiaogateway.fapiao.v1.GetInvoiceResponse> getGetInvoiceMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetInvoice",
      requestType = io.github.fapiaogateway.fapiao.v1.GetInvoiceRequest.class,
      responseType = io.github.fapiaogateway.fapiao.v1.GetInvoiceResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.github.fapiaogateway.fapiao.v1.GetInvoiceRequest,
      io.github.fapiaogateway.fapiao.v1.GetInvoiceResponse> getGetInvoiceMethod() {
    io.grpc.MethodDescriptor<io.github.fapiaogateway.fapiao.v1.GetInvoiceRequest, io.github.fapiaogateway.fapiao.v1.GetInvoiceResponse> getGetInvoiceMethod;
    if ((getGetInvoiceMethod = InvoiceServiceGrpc.getGetInvoiceMethod) == null) {
      synchronized (InvoiceServiceGrpc.class) {
        if ((getGetInvoiceMethod = InvoiceServiceGrpc.getGetInvoiceMethod) == null) {
          InvoiceServiceGrpc.getGetInvoiceMethod = getGetInvoiceMethod =
              io.grpc.MethodDescriptor.<io.github.fapiaogateway.fapiao.v1.GetInvoiceRequest, io.github.fapiaogateway.fapiao.v1.GetInvoiceResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetInvoice"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.fapiaogateway.fapiao.v1.GetInvoiceRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.fapiaogateway.fapiao.v1.GetInvoiceResponse.getDefaultInstance()))
              .setSchemaDescriptor(new InvoiceServiceMethodDescriptorSupplier("GetInvoice"))
              .build();
        }
      }
    }
    return getGetInvoiceMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.github.fapiaogateway.fapiao.v1.GetInvoicesRequest,
      io.github.fapiaogateway.fapiao.v1.GetInvoicesResponse> getGetInvoicesMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetInvoices",
      requestType = io.github.fapiaogateway.fapiao.v1.GetInvoicesRequest.class,
      responseType = io.github.fapiaogateway.fapiao.v1.GetInvoicesResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.github.fapiaogateway.fapiao.v1.GetInvoicesRequest,
      io.github.fapiaogateway.fapiao.v1.GetInvoicesResponse> getGetInvoicesMethod() {
    io.grpc.MethodDescriptor<io.github.fapiaogateway.fapiao.v1.GetInvoicesRequest, io.github.fapiaogateway.fapiao.v1.GetInvoicesResponse> getGetInvoicesMethod;
    if ((getGetInvoicesMethod = InvoiceServiceGrpc.getGetInvoicesMethod) == null) {
      synchronized (InvoiceServiceGrpc.class) {
        if ((getGetInvoicesMethod = InvoiceServiceGrpc.getGetInvoicesMethod) == null) {
          InvoiceServiceGrpc.getGetInvoicesMethod = getGetInvoicesMethod =
              io.grpc.MethodDescriptor.<io.github.fapiaogateway.fapiao.v1.GetInvoicesRequest, io.github.fapiaogateway.fapiao.v1.GetInvoicesResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetInvoices"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.fapiaogateway.fapiao.v1.GetInvoicesRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.fapiaogateway.fapiao.v1.GetInvoicesResponse.getDefaultInstance()))
              .setSchemaDescriptor(new InvoiceServiceMethodDescriptorSupplier("GetInvoices"))
              .build();
        }
      }
    }
    return getGetInvoicesMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.github.fapiaogateway.fapiao.v1.UpdateStatusRequest,
      io.github.fapiaogateway.fapiao.v1.UpdateStatusResponse> getUpdateStatusMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "UpdateStatus",
      requestType = io.github.fapiaogateway.fapiao.v1.UpdateStatusRequest.class,
      responseType = io.github.fapiaogateway.fapiao.v1.UpdateStatusResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.github.fapiaogateway.fapiao.v1.UpdateStatusRequest,
      io.github.fapiaogateway.fapiao.v1.UpdateStatusResponse> getUpdateStatusMethod() {
    io.grpc.MethodDescriptor<io.github.fapiaogateway.fapiao.v1.UpdateStatusRequest, io.github.fapiaogateway.fapiao.v1.UpdateStatusResponse> getUpdateStatusMethod;
    if ((getUpdateStatusMethod = InvoiceServiceGrpc.getUpdateStatusMethod) == null) {
      synchronized (InvoiceServiceGrpc.class) {
        if ((getUpdateStatusMethod = InvoiceServiceGrpc.getUpdateStatusMethod) == null) {
          InvoiceServiceGrpc.getUpdateStatusMethod = getUpdateStatusMethod =
              io.grpc.MethodDescriptor.<io.github.fapiaogateway.fapiao.v1.UpdateStatusRequest, io.github.fapiaogateway.fapiao.v1.UpdateStatusResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "UpdateStatus"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.fapiaogateway.fapiao.v1.UpdateStatusRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.fapiaogateway.fapiao.v1.UpdateStatusResponse.getDefaultInstance()))
              .setSchemaDescriptor(new InvoiceServiceMethodDescriptorSupplier("UpdateStatus"))
              .build();
        }
      }
    }
    return getUpdateStatusMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.github.fapiaogateway.fapiao.v1.UpdateStatusBatchRequest,
      io.github.fapiaogateway.fapiao.v1.UpdateStatusBatchResponse> getUpdateStatusBatchMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "UpdateStatusBatch",
      requestType = io.github.fapiaogateway.fapiao.v1.UpdateStatusBatchRequest.class,
      responseType = io.github.fapiaogateway.fapiao.v1.UpdateStatusBatchResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.github.fapiaogateway.fapiao.v1.UpdateStatusBatchRequest,
      io.github.fapiaogateway.fapiao.v1.UpdateStatusBatchResponse> getUpdateStatusBatchMethod() {
    io.grpc.MethodDescriptor<io.github.fapiaogateway.fapiao.v1.UpdateStatusBatchRequest, io.github.fapiaogateway.fapiao.v1.UpdateStatusBatchResponse> getUpdateStatusBatchMethod;
    if ((getUpdateStatusBatchMethod = InvoiceServiceGrpc.getUpdateStatusBatchMethod) == null) {
      synchronized (InvoiceServiceGrpc.class) {
        if ((getUpdateStatusBatchMethod = InvoiceServiceGrpc.getUpdateStatusBatchMethod) == null) {
          InvoiceServiceGrpc.getUpdateStatusBatchMethod = getUpdateStatusBatchMethod =
              io.grpc.MethodDescriptor.<io.github.fapiaogateway.fapiao.v1.UpdateStatusBatchRequest, io.github.fapiaogateway.fapiao.v1.UpdateStatusBatchResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "UpdateStatusBatch"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.fapiaogateway.fapiao.v1.UpdateStatusBatchRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.fapiaogateway.fapiao.v1.UpdateStatusBatchResponse.getDefaultInstance()))
              .setSchemaDescriptor(new InvoiceServiceMethodDescriptorSupplier("UpdateStatusBatch"))
              .build();
        }
      }
    }
    return getUpdateStatusBatchMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.github.fapiaogateway.fapiao.v1.SignJsapiRequest,
      io.github.fapiaogateway.fapiao.v1.SignJsapiResponse> getSignJsapiMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "SignJsapi",
      requestType = io.github.fapiaogateway.fapiao.v1.SignJsapiRequest.class,
      responseType = io.github.fapiaogateway.fapiao.v1.SignJsapiResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.github.fapiaogateway.fapiao.v1.SignJsapiRequest,
      io.github.fapiaogateway.fapiao.v1.SignJsapiResponse> getSignJsapiMethod() {
    io.grpc.MethodDescriptor<io.github.fapiaogateway.fapiao.v1.SignJsapiRequest, io.github.fapiaogateway.fapiao.v1.SignJsapiResponse> getSignJsapiMethod;
    if ((getSignJsapiMethod = InvoiceServiceGrpc.getSignJsapiMethod) == null) {
      synchronized (InvoiceServiceGrpc.class) {
        if ((getSignJsapiMethod = InvoiceServiceGrpc.getSignJsapiMethod) == null) {
          InvoiceServiceGrpc.getSignJsapiMethod = getSignJsapiMethod =
              io.grpc.MethodDescriptor.<io.github.fapiaogateway.fapiao.v1.SignJsapiRequest, io.github.fapiaogateway.fapiao.v1.SignJsapiResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "SignJsapi"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.fapiaogateway.fapiao.v1.SignJsapiRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.fapiaogateway.fapiao.v1.SignJsapiResponse.getDefaultInstance()))
              .setSchemaDescriptor(new InvoiceServiceMethodDescriptorSupplier("SignJsapi"))
              .build();
        }
      }
    }
    return getSignJsapiMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.github.fapiaogateway.fapiao.v1.IssueImportQrRequest,
      io.github.fapiaogateway.fapiao.v1.IssueImportQrResponse> getIssueImportQrMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "IssueImportQr",
      requestType = io.github.fapiaogateway.fapiao.v1.IssueImportQrRequest.class,
      responseType = io.github.fapiaogateway.fapiao.v1.IssueImportQrResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.github.fapiaogateway.fapiao.v1.IssueImportQrRequest,
      io.github.fapiaogateway.fapiao.v1.IssueImportQrResponse> getIssueImportQrMethod() {
    io.grpc.MethodDescriptor<io.github.fapiaogateway.fapiao.v1.IssueImportQrRequest, io.github.fapiaogateway.fapiao.v1.IssueImportQrResponse> getIssueImportQrMethod;
    if ((getIssueImportQrMethod = InvoiceServiceGrpc.getIssueImportQrMethod) == null) {
      synchronized (InvoiceServiceGrpc.class) {
        if ((getIssueImportQrMethod = InvoiceServiceGrpc.getIssueImportQrMethod) == null) {
          InvoiceServiceGrpc.getIssueImportQrMethod = getIssueImportQrMethod =
              io.grpc.MethodDescriptor.<io.github.fapiaogateway.fapiao.v1.IssueImportQrRequest, io.github.fapiaogateway.fapiao.v1.IssueImportQrResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "IssueImportQr"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.fapiaogateway.fapiao.v1.IssueImportQrRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.fapiaogateway.fapiao.v1.IssueImportQrResponse.getDefaultInstance()))
              .setSchemaDescriptor(new InvoiceServiceMethodDescriptorSupplier("IssueImportQr"))
              .build();
        }
      }
    }
    return getIssueImportQrMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.github.fapiaogateway.fapiao.v1.ImportInvoicesRequest,
      io.github.fapiaogateway.fapiao.v1.ImportInvoicesResponse> getImportInvoicesMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ImportInvoices",
      requestType = io.github.fapiaogateway.fapiao.v1.ImportInvoicesRequest.class,
      responseType = io.github.fapiaogateway.fapiao.v1.ImportInvoicesResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.github.fapiaogateway.fapiao.v1.ImportInvoicesRequest,
      io.github.fapiaogateway.fapiao.v1.ImportInvoicesResponse> getImportInvoicesMethod() {
    io.grpc.MethodDescriptor<io.github.fapiaogateway.fapiao.v1.ImportInvoicesRequest, io.github.fapiaogateway.fapiao.v1.ImportInvoicesResponse> getImportInvoicesMethod;
    if ((getImportInvoicesMethod = InvoiceServiceGrpc.getImportInvoicesMethod) == null) {
      synchronized (InvoiceServiceGrpc.class) {
        if ((getImportInvoicesMethod = InvoiceServiceGrpc.getImportInvoicesMethod) == null) {
          InvoiceServiceGrpc.getImportInvoicesMethod = getImportInvoicesMethod =
              io.grpc.MethodDescriptor.<io.github.fapiaogateway.fapiao.v1.ImportInvoicesRequest, io.github.fapiaogateway.fapiao.v1.ImportInvoicesResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ImportInvoices"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.fapiaogateway.fapiao.v1.ImportInvoicesRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.fapiaogateway.fapiao.v1.ImportInvoicesResponse.getDefaultInstance()))
              .setSchemaDescriptor(new InvoiceServiceMethodDescriptorSupplier("ImportInvoices"))
              .build();
        }
      }
    }
    return getImportInvoicesMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.github.fapiaogateway.fapiao.v1.SearchInvoicesRequest,
      io.github.fapiaogateway.fapiao.v1.SearchInvoicesResponse> getSearchInvoicesMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "SearchInvoices",
      requestType = io.github.fapiaogateway.fapiao.v1.SearchInvoicesRequest.class,
      responseType = io.github.fapiaogateway.fapiao.v1.SearchInvoicesResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.github.fapiaogateway.fapiao.v1.SearchInvoicesRequest,
      io.github.fapiaogateway.fapiao.v1.SearchInvoicesResponse> getSearchInvoicesMethod() {
    io.grpc.MethodDescriptor<io.github.fapiaogateway.fapiao.v1.SearchInvoicesRequest, io.github.fapiaogateway.fapiao.v1.SearchInvoicesResponse> getSearchInvoicesMethod;
    if ((getSearchInvoicesMethod = InvoiceServiceGrpc.getSearchInvoicesMethod) == null) {
      synchronized (InvoiceServiceGrpc.class) {
        if ((getSearchInvoicesMethod = InvoiceServiceGrpc.getSearchInvoicesMethod) == null) {
          InvoiceServiceGrpc.getSearchInvoicesMethod = getSearchInvoicesMethod =
              io.grpc.MethodDescriptor.<io.github.fapiaogateway.fapiao.v1.SearchInvoicesRequest, io.github.fapiaogateway.fapiao.v1.SearchInvoicesResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "SearchInvoices"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.fapiaogateway.fapiao.v1.SearchInvoicesRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.fapiaogateway.fapiao.v1.SearchInvoicesResponse.getDefaultInstance()))
              .setSchemaDescriptor(new InvoiceServiceMethodDescriptorSupplier("SearchInvoices"))
              .build();
        }
      }
    }
    return getSearchInvoicesMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.github.fapiaogateway.fapiao.v1.ReconcileInvoicesRequest,
      io.github.fapiaogateway.fapiao.v1.ReconcileInvoicesResponse> getReconcileInvoicesMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ReconcileInvoices",
      requestType = io.github.fapiaogateway.fapiao.v1.ReconcileInvoicesRequest.class,
      responseType = io.github.fapiaogateway.fapiao.v1.ReconcileInvoicesResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.github.fapiaogateway.fapiao.v1.ReconcileInvoicesRequest,
      io.github.fapiaogateway.fapiao.v1.ReconcileInvoicesResponse> getReconcileInvoicesMethod() {
    io.grpc.MethodDescriptor<io.github.fapiaogateway.fapiao.v1.ReconcileInvoicesRequest, io.github.fapiaogateway.fapiao.v1.ReconcileInvoicesResponse> getReconcileInvoicesMethod;
    if ((getReconcileInvoicesMethod = InvoiceServiceGrpc.getReconcileInvoicesMethod) == null) {
      synchronized (InvoiceServiceGrpc.class) {
        if ((getReconcileInvoicesMethod = InvoiceServiceGrpc.getReconcileInvoicesMethod) == null) {
          InvoiceServiceGrpc.getReconcileInvoicesMethod = getReconcileInvoicesMethod =
              io.grpc.MethodDescriptor.<io.github.fapiaogateway.fapiao.v1.ReconcileInvoicesRequest, io.github.fapiaogateway.fapiao.v1.ReconcileInvoicesResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ReconcileInvoices"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.fapiaogateway.fapiao.v1.ReconcileInvoicesRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.fapiaogateway.fapiao.v1.ReconcileInvoicesResponse.getDefaultInstance()))
              .setSchemaDescriptor(new InvoiceServiceMethodDescriptorSupplier("ReconcileInvoices"))
              .build();
        }
      }
    }
    return getReconcileInvoicesMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.github.fapiaogateway.fapiao.v1.ListAuditEventsRequest,
      io.github.fapiaogateway.fapiao.v1.ListAuditEventsResponse> getListAuditEventsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListAuditEvents",
      requestType = io.github.fapiaogateway.fapiao.v1.ListAuditEventsRequest.class,
      responseType = io.github.fapiaogateway.fapiao.v1.ListAuditEventsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.github.fapiaogateway.fapiao.v1.ListAuditEventsRequest,
      io.github.fapiaogateway.fapiao.v1.ListAuditEventsResponse> getListAuditEventsMethod() {
    io.grpc.MethodDescriptor<io.github.fapiaogateway.fapiao.v1.ListAuditEventsRequest, io.github.fapiaogateway.fapiao.v1.ListAuditEventsResponse> getListAuditEventsMethod;
    if ((getListAuditEventsMethod = InvoiceServiceGrpc.getListAuditEventsMethod) == null) {
      synchronized (InvoiceServiceGrpc.class) {
        if ((getListAuditEventsMethod = InvoiceServiceGrpc.getListAuditEventsMethod) == null) {
          InvoiceServiceGrpc.getListAuditEventsMethod = getListAuditEventsMethod =
              io.grpc.MethodDescriptor.<io.github.fapiaogateway.fapiao.v1.ListAuditEventsRequest, io.github.fapiaogateway.fapiao.v1.ListAuditEventsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListAuditEvents"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.fapiaogateway.fapiao.v1.ListAuditEventsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.fapiaogateway.fapiao.v1.ListAuditEventsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new InvoiceServiceMethodDescriptorSupplier("ListAuditEvents"))
              .build();
        }
      }
    }
    return getListAuditEventsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.github.fapiaogateway.fapiao.v1.GetInvoiceDocumentRequest,
      io.github.fapiaogateway.fapiao.v1.GetInvoiceDocumentResponse> getGetInvoiceDocumentMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetInvoiceDocument",
      requestType = io.github.fapiaogateway.fapiao.v1.GetInvoiceDocumentRequest.class,
      responseType = io.github.fapiaogateway.fapiao.v1.GetInvoiceDocumentResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
  public static io.grpc.MethodDescriptor<io.github.fapiaogateway.fapiao.v1.GetInvoiceDocumentRequest,
      io.github.fapiaogateway.fapiao.v1.GetInvoiceDocumentResponse> getGetInvoiceDocumentMethod() {
    io.grpc.MethodDescriptor<io.github.fapiaogateway.fapiao.v1.GetInvoiceDocumentRequest, io.github.fapiaogateway.fapiao.v1.GetInvoiceDocumentResponse> getGetInvoiceDocumentMethod;
    if ((getGetInvoiceDocumentMethod = InvoiceServiceGrpc.getGetInvoiceDocumentMethod) == null) {
      synchronized (InvoiceServiceGrpc.class) {
        if ((getGetInvoiceDocumentMethod = InvoiceServiceGrpc.getGetInvoiceDocumentMethod) == null) {
          InvoiceServiceGrpc.getGetInvoiceDocumentMethod = getGetInvoiceDocumentMethod =
              io.grpc.MethodDescriptor.<io.github.fapiaogateway.fapiao.v1.GetInvoiceDocumentRequest, io.github.fapiaogateway.fapiao.v1.GetInvoiceDocumentResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetInvoiceDocument"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.fapiaogateway.fapiao.v1.GetInvoiceDocumentRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.fapiaogateway.fapiao.v1.GetInvoiceDocumentResponse.getDefaultInstance()))
              .setSchemaDescriptor(new InvoiceServiceMethodDescriptorSupplier("GetInvoiceDocument"))
              .build();
        }
      }
    }
    return getGetInvoiceDocumentMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.github.fapiaogateway.fapiao.v1.WatchImportRequest,
      io.github.fapiaogateway.fapiao.v1.WatchImportResponse> getWatchImportMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "WatchImport",
      requestType = io.github.fapiaogateway.fapiao.v1.WatchImportRequest.class,
      responseType = io.github.fapiaogateway.fapiao.v1.WatchImportResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
  public static io.grpc.MethodDescriptor<io.github.fapiaogateway.fapiao.v1.WatchImportRequest,
      io.github.fapiaogateway.fapiao.v1.WatchImportResponse> getWatchImportMethod() {
    io.grpc.MethodDescriptor<io.github.fapiaogateway.fapiao.v1.WatchImportRequest, io.github.fapiaogateway.fapiao.v1.WatchImportResponse> getWatchImportMethod;
    if ((getWatchImportMethod = InvoiceServiceGrpc.getWatchImportMethod) == null) {
      synchronized (InvoiceServiceGrpc.class) {
        if ((getWatchImportMethod = InvoiceServiceGrpc.getWatchImportMethod) == null) {
          InvoiceServiceGrpc.getWatchImportMethod = getWatchImportMethod =
              io.grpc.MethodDescriptor.<io.github.fapiaogateway.fapiao.v1.WatchImportRequest, io.github.fapiaogateway.fapiao.v1.WatchImportResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "WatchImport"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.fapiaogateway.fapiao.v1.WatchImportRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.github.fapiaogateway.fapiao.v1.WatchImportResponse.getDefaultInstance()))
              .setSchemaDescriptor(new InvoiceServiceMethodDescriptorSupplier("WatchImport"))
              .build();
        }
      }
    }
    return getWatchImportMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static InvoiceServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<InvoiceServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<InvoiceServiceStub>() {
        @java.lang.Override
        public InvoiceServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new InvoiceServiceStub(channel, callOptions);
        }
      };
    return InvoiceServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static InvoiceServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<InvoiceServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<InvoiceServiceBlockingStub>() {
        @java.lang.Override
        public InvoiceServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new InvoiceServiceBlockingStub(channel, callOptions);
        }
      };
    return InvoiceServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static InvoiceServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<InvoiceServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<InvoiceServiceFutureStub>() {
        @java.lang.Override
        public InvoiceServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new InvoiceServiceFutureStub(channel, callOptions);
        }
      };
    return InvoiceServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * The Fapiao gateway: read, import, lock, unlock and write off the e-invoices
   * (发票) employees hold in WeChat, without touching WeChat tokens, signatures or
   * error codes.
   * Conventions every RPC shares:
   * - `account` names the WeChat account (Official Account / Mini Program /
   *   Weixin Work app / a merchant of a third-party platform) the call acts for:
   *   its appid or an alias configured in the gateway; a Weixin Work app also by
   *   its corp ID (while it is the corp's only configured app) or
   *   "&lt;corp_id&gt;/&lt;agent_id&gt;", the key errors and the ledger name it by. One
   *   gateway serves many accounts, and every RPC works the same for each kind.
   * - Mutating RPCs (UpdateStatus, UpdateStatusBatch, ImportInvoices,
   *   IssueImportQr) take `request_id` (AIP-155): a UUID chosen by the caller.
   *   Replaying a request with the same request_id returns the first outcome
   *   without acting again (a concurrent duplicate waits for the first, then
   *   ABORTED REQUEST_IN_PROGRESS if it waited too long); reusing it for a
   *   different request is INVALID_ARGUMENT. A call that failed without changing
   *   anything may be retried with its request_id; one whose outcome was unknown
   *   (the reply was lost, or the gateway died) is settled first by reading
   *   WeChat, then replayed or run again. Empty means "not idempotent": it still
   *   works, but the gateway never retries it once it may have reached WeChat.
   * - Every change at WeChat is recorded in the gateway before it is sent, and
   *   settled after (docs/intents.md): an invoice being changed by one request is
   *   ABORTED INVOICE_CHANGE_IN_PROGRESS (with RetryInfo) for any other until that
   *   one is settled; what a failed or interrupted request did is completed or
   *   undone by the gateway itself.
   * - Failures are google.rpc.Status with exactly one google.rpc.ErrorInfo
   *   (domain "fapiao-gateway"; reason UPPER_SNAKE; metadata carries
   *   wechat_errcode/wechat_errmsg, account and invoice when known) plus a
   *   BadRequest, PreconditionFailure, ResourceInfo, QuotaFailure or RetryInfo
   *   where it helps the caller act. See docs/errors.md.
   * </pre>
   */
  public static abstract class InvoiceServiceImplBase implements io.grpc.BindableService {

    /**
     * <pre>
     * Reads one invoice from WeChat (getinvoiceinfo).
     * Errors: INVALID_ARGUMENT (BadRequest) for missing fields; NOT_FOUND
     * (ResourceInfo) when WeChat does not know the card_id/encrypt_code;
     * UNAVAILABLE (RetryInfo) when WeChat stays busy.
     * </pre>
     */
    public void getInvoice(io.github.fapiaogateway.fapiao.v1.GetInvoiceRequest request,
        io.grpc.stub.StreamObserver<io.github.fapiaogateway.fapiao.v1.GetInvoiceResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetInvoiceMethod(), responseObserver);
    }

    /**
     * <pre>
     * Reads many invoices at once (getinvoicebatch, split into upstream batches).
     * The results keep the request's order; an invoice WeChat did not return is
     * reported in its slot with the reason, never silently dropped.
     * </pre>
     */
    public void getInvoices(io.github.fapiaogateway.fapiao.v1.GetInvoicesRequest request,
        io.grpc.stub.StreamObserver<io.github.fapiaogateway.fapiao.v1.GetInvoicesResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetInvoicesMethod(), responseObserver);
    }

    /**
     * <pre>
     * Moves one invoice to a new reimbursement status (updateinvoicestatus):
     * LOCK on submit, INIT on rejection, CLOSURE on payment (irreversible).
     * A lock belongs to a report: only an invoice imported under its bizCode
     * (ImportInvoices) can be locked; another is FAILED_PRECONDITION
     * INVOICE_NOT_IMPORTED, and nothing is sent to WeChat.
     * </pre>
     */
    public void updateStatus(io.github.fapiaogateway.fapiao.v1.UpdateStatusRequest request,
        io.grpc.stub.StreamObserver<io.github.fapiaogateway.fapiao.v1.UpdateStatusResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getUpdateStatusMethod(), responseObserver);
    }

    /**
     * <pre>
     * Moves several invoices of one WeChat user to a new status at once
     * (updatestatusbatch). Atomic: either every invoice changes or none does;
     * so it is never split, and takes at most 50 invoices (the configured
     * upstream batch size). As for UpdateStatus, only imported invoices can be
     * locked.
     * </pre>
     */
    public void updateStatusBatch(io.github.fapiaogateway.fapiao.v1.UpdateStatusBatchRequest request,
        io.grpc.stub.StreamObserver<io.github.fapiaogateway.fapiao.v1.UpdateStatusBatchResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getUpdateStatusBatchMethod(), responseObserver);
    }

    /**
     * <pre>
     * Signs what a page inside WeChat (or Weixin Work) needs, each purpose with
     * its own ticket of the account:
     * - SIGN_PURPOSE_WX_CONFIG: wx.config's signature, with the jsapi ticket
     *   (Weixin Work: the corp's jsapi_ticket; appId is then the corp ID);
     * - SIGN_PURPOSE_CHOOSE_INVOICE: chooseInvoice's cardSign, with the wx_card
     *   ticket (Weixin Work: ww.chooseInvoice's, signed over the corp ID);
     * - SIGN_PURPOSE_AGENT_CONFIG (Weixin Work only): wx.agentConfig's
     *   signature, with the app's agent_config ticket.
     * Native apps use the chooseInvoice part too. A purpose the account's kind
     * has no ticket for is INVALID_ARGUMENT on `purposes`.
     * </pre>
     */
    public void signJsapi(io.github.fapiaogateway.fapiao.v1.SignJsapiRequest request,
        io.grpc.stub.StreamObserver<io.github.fapiaogateway.fapiao.v1.SignJsapiResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getSignJsapiMethod(), responseObserver);
    }

    /**
     * <pre>
     * Issues a QR code (PNG) that opens the configured import page on the
     * phone for a business document (bizCode); the PC page shows it, and later
     * finds what the phone imported with SearchInvoices(biz_code). The page URL
     * gets `bizCode` and `appid` query parameters. ImportInvoices refuses that
     * bizCode once the QR code has expired (FAILED_PRECONDITION,
     * IMPORT_SESSION_EXPIRED).
     * </pre>
     */
    public void issueImportQr(io.github.fapiaogateway.fapiao.v1.IssueImportQrRequest request,
        io.grpc.stub.StreamObserver<io.github.fapiaogateway.fapiao.v1.IssueImportQrResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getIssueImportQrMethod(), responseObserver);
    }

    /**
     * <pre>
     * Fetches the invoices a user picked from WeChat, optionally locks them, and
     * stores them in the gateway's ledger under a bizCode. All or nothing: on any
     * failure nothing is stored and every lock the call took is released.
     * Importing again under the same bizCode changes nothing. An invoice another
     * bizCode holds while it is LOCK or CLOSURE (in a reimbursement process) is
     * ALREADY_EXISTS, with a ResourceInfo whose owner is "bizCode:&lt;the other&gt;";
     * an INIT invoice (e.g. unlocked after a rejection) moves to the new bizCode.
     * With lock, only INIT invoices can be locked (FAILED_PRECONDITION otherwise).
     * </pre>
     */
    public void importInvoices(io.github.fapiaogateway.fapiao.v1.ImportInvoicesRequest request,
        io.grpc.stub.StreamObserver<io.github.fapiaogateway.fapiao.v1.ImportInvoicesResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getImportInvoicesMethod(), responseObserver);
    }

    /**
     * <pre>
     * Searches the ledger of imported invoices, newest first, with paging.
     * </pre>
     */
    public void searchInvoices(io.github.fapiaogateway.fapiao.v1.SearchInvoicesRequest request,
        io.grpc.stub.StreamObserver<io.github.fapiaogateway.fapiao.v1.SearchInvoicesResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getSearchInvoicesMethod(), responseObserver);
    }

    /**
     * <pre>
     * Makes the ledger follow WeChat for one bizCode now: re-reads its invoices
     * that can still change (INIT, LOCK) and applies every difference found
     * (status changed elsewhere, red-flushed, card expired or deleted), each one
     * audited (RECONCILIATION). The gateway also does this in the background for
     * every account, within a share of WeChat's daily quota. Needs the
     * `reconcile` permission. Changes nothing at WeChat.
     * </pre>
     */
    public void reconcileInvoices(io.github.fapiaogateway.fapiao.v1.ReconcileInvoicesRequest request,
        io.grpc.stub.StreamObserver<io.github.fapiaogateway.fapiao.v1.ReconcileInvoicesResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getReconcileInvoicesMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists the audit trail of one account, newest first, with paging: every
     * state-changing action (status changes, an import's locks and the releases
     * that undo them, import QR sessions, and the ledger following WeChat after a
     * read or by reconciliation), with who caused it and how it ended. Needs the
     * `audit` permission.
     * </pre>
     */
    public void listAuditEvents(io.github.fapiaogateway.fapiao.v1.ListAuditEventsRequest request,
        io.grpc.stub.StreamObserver<io.github.fapiaogateway.fapiao.v1.ListAuditEventsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListAuditEventsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Streams the archived original of an imported invoice's document (its PDF,
     * or a trip itinerary attachment) as the gateway downloaded it from WeChat's
     * pdf_url after the import: the first message carries the document's SHA-256,
     * size and content type, the following ones (and the first) the bytes in
     * order, so a caller can verify what it stores. NOT_FOUND while the download
     * is pending (DOCUMENT_PENDING), after every attempt failed
     * (DOCUMENT_FETCH_FAILED), or when the invoice has no such document or was
     * never imported into this account (DOCUMENT_NOT_ARCHIVED). Needs `read`.
     * </pre>
     */
    public void getInvoiceDocument(io.github.fapiaogateway.fapiao.v1.GetInvoiceDocumentRequest request,
        io.grpc.stub.StreamObserver<io.github.fapiaogateway.fapiao.v1.GetInvoiceDocumentResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetInvoiceDocumentMethod(), responseObserver);
    }

    /**
     * <pre>
     * Follows one import session (a bizCode from IssueImportQr) live: first every
     * invoice already imported under the bizCode, then each one as it is
     * imported (by any replica), then the end of the session (its expiry), after
     * which the stream closes. Needs the `read` permission, or the session's
     * import ticket. A bizCode without an import session is NOT_FOUND
     * (IMPORT_SESSION_NOT_FOUND).
     * </pre>
     */
    public void watchImport(io.github.fapiaogateway.fapiao.v1.WatchImportRequest request,
        io.grpc.stub.StreamObserver<io.github.fapiaogateway.fapiao.v1.WatchImportResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getWatchImportMethod(), responseObserver);
    }

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
          .addMethod(
            getGetInvoiceMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.github.fapiaogateway.fapiao.v1.GetInvoiceRequest,
                io.github.fapiaogateway.fapiao.v1.GetInvoiceResponse>(
                  this, METHODID_GET_INVOICE)))
          .addMethod(
            getGetInvoicesMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.github.fapiaogateway.fapiao.v1.GetInvoicesRequest,
                io.github.fapiaogateway.fapiao.v1.GetInvoicesResponse>(
                  this, METHODID_GET_INVOICES)))
          .addMethod(
            getUpdateStatusMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.github.fapiaogateway.fapiao.v1.UpdateStatusRequest,
                io.github.fapiaogateway.fapiao.v1.UpdateStatusResponse>(
                  this, METHODID_UPDATE_STATUS)))
          .addMethod(
            getUpdateStatusBatchMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.github.fapiaogateway.fapiao.v1.UpdateStatusBatchRequest,
                io.github.fapiaogateway.fapiao.v1.UpdateStatusBatchResponse>(
                  this, METHODID_UPDATE_STATUS_BATCH)))
          .addMethod(
            getSignJsapiMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.github.fapiaogateway.fapiao.v1.SignJsapiRequest,
                io.github.fapiaogateway.fapiao.v1.SignJsapiResponse>(
                  this, METHODID_SIGN_JSAPI)))
          .addMethod(
            getIssueImportQrMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.github.fapiaogateway.fapiao.v1.IssueImportQrRequest,
                io.github.fapiaogateway.fapiao.v1.IssueImportQrResponse>(
                  this, METHODID_ISSUE_IMPORT_QR)))
          .addMethod(
            getImportInvoicesMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.github.fapiaogateway.fapiao.v1.ImportInvoicesRequest,
                io.github.fapiaogateway.fapiao.v1.ImportInvoicesResponse>(
                  this, METHODID_IMPORT_INVOICES)))
          .addMethod(
            getSearchInvoicesMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.github.fapiaogateway.fapiao.v1.SearchInvoicesRequest,
                io.github.fapiaogateway.fapiao.v1.SearchInvoicesResponse>(
                  this, METHODID_SEARCH_INVOICES)))
          .addMethod(
            getReconcileInvoicesMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.github.fapiaogateway.fapiao.v1.ReconcileInvoicesRequest,
                io.github.fapiaogateway.fapiao.v1.ReconcileInvoicesResponse>(
                  this, METHODID_RECONCILE_INVOICES)))
          .addMethod(
            getListAuditEventsMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.github.fapiaogateway.fapiao.v1.ListAuditEventsRequest,
                io.github.fapiaogateway.fapiao.v1.ListAuditEventsResponse>(
                  this, METHODID_LIST_AUDIT_EVENTS)))
          .addMethod(
            getGetInvoiceDocumentMethod(),
            io.grpc.stub.ServerCalls.asyncServerStreamingCall(
              new MethodHandlers<
                io.github.fapiaogateway.fapiao.v1.GetInvoiceDocumentRequest,
                io.github.fapiaogateway.fapiao.v1.GetInvoiceDocumentResponse>(
                  this, METHODID_GET_INVOICE_DOCUMENT)))
          .addMethod(
            getWatchImportMethod(),
            io.grpc.stub.ServerCalls.asyncServerStreamingCall(
              new MethodHandlers<
                io.github.fapiaogateway.fapiao.v1.WatchImportRequest,
                io.github.fapiaogateway.fapiao.v1.WatchImportResponse>(
                  this, METHODID_WATCH_IMPORT)))
          .build();
    }
  }

  /**
   * <pre>
   * The Fapiao gateway: read, import, lock, unlock and write off the e-invoices
   * (发票) employees hold in WeChat, without touching WeChat tokens, signatures or
   * error codes.
   * Conventions every RPC shares:
   * - `account` names the WeChat account (Official Account / Mini Program /
   *   Weixin Work app / a merchant of a third-party platform) the call acts for:
   *   its appid or an alias configured in the gateway; a Weixin Work app also by
   *   its corp ID (while it is the corp's only configured app) or
   *   "&lt;corp_id&gt;/&lt;agent_id&gt;", the key errors and the ledger name it by. One
   *   gateway serves many accounts, and every RPC works the same for each kind.
   * - Mutating RPCs (UpdateStatus, UpdateStatusBatch, ImportInvoices,
   *   IssueImportQr) take `request_id` (AIP-155): a UUID chosen by the caller.
   *   Replaying a request with the same request_id returns the first outcome
   *   without acting again (a concurrent duplicate waits for the first, then
   *   ABORTED REQUEST_IN_PROGRESS if it waited too long); reusing it for a
   *   different request is INVALID_ARGUMENT. A call that failed without changing
   *   anything may be retried with its request_id; one whose outcome was unknown
   *   (the reply was lost, or the gateway died) is settled first by reading
   *   WeChat, then replayed or run again. Empty means "not idempotent": it still
   *   works, but the gateway never retries it once it may have reached WeChat.
   * - Every change at WeChat is recorded in the gateway before it is sent, and
   *   settled after (docs/intents.md): an invoice being changed by one request is
   *   ABORTED INVOICE_CHANGE_IN_PROGRESS (with RetryInfo) for any other until that
   *   one is settled; what a failed or interrupted request did is completed or
   *   undone by the gateway itself.
   * - Failures are google.rpc.Status with exactly one google.rpc.ErrorInfo
   *   (domain "fapiao-gateway"; reason UPPER_SNAKE; metadata carries
   *   wechat_errcode/wechat_errmsg, account and invoice when known) plus a
   *   BadRequest, PreconditionFailure, ResourceInfo, QuotaFailure or RetryInfo
   *   where it helps the caller act. See docs/errors.md.
   * </pre>
   */
  public static final class InvoiceServiceStub extends io.grpc.stub.AbstractAsyncStub<InvoiceServiceStub> {
    private InvoiceServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected InvoiceServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new InvoiceServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Reads one invoice from WeChat (getinvoiceinfo).
     * Errors: INVALID_ARGUMENT (BadRequest) for missing fields; NOT_FOUND
     * (ResourceInfo) when WeChat does not know the card_id/encrypt_code;
     * UNAVAILABLE (RetryInfo) when WeChat stays busy.
     * </pre>
     */
    public void getInvoice(io.github.fapiaogateway.fapiao.v1.GetInvoiceRequest request,
        io.grpc.stub.StreamObserver<io.github.fapiaogateway.fapiao.v1.GetInvoiceResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetInvoiceMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Reads many invoices at once (getinvoicebatch, split into upstream batches).
     * The results keep the request's order; an invoice WeChat did not return is
     * reported in its slot with the reason, never silently dropped.
     * </pre>
     */
    public void getInvoices(io.github.fapiaogateway.fapiao.v1.GetInvoicesRequest request,
        io.grpc.stub.StreamObserver<io.github.fapiaogateway.fapiao.v1.GetInvoicesResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetInvoicesMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Moves one invoice to a new reimbursement status (updateinvoicestatus):
     * LOCK on submit, INIT on rejection, CLOSURE on payment (irreversible).
     * A lock belongs to a report: only an invoice imported under its bizCode
     * (ImportInvoices) can be locked; another is FAILED_PRECONDITION
     * INVOICE_NOT_IMPORTED, and nothing is sent to WeChat.
     * </pre>
     */
    public void updateStatus(io.github.fapiaogateway.fapiao.v1.UpdateStatusRequest request,
        io.grpc.stub.StreamObserver<io.github.fapiaogateway.fapiao.v1.UpdateStatusResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getUpdateStatusMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Moves several invoices of one WeChat user to a new status at once
     * (updatestatusbatch). Atomic: either every invoice changes or none does;
     * so it is never split, and takes at most 50 invoices (the configured
     * upstream batch size). As for UpdateStatus, only imported invoices can be
     * locked.
     * </pre>
     */
    public void updateStatusBatch(io.github.fapiaogateway.fapiao.v1.UpdateStatusBatchRequest request,
        io.grpc.stub.StreamObserver<io.github.fapiaogateway.fapiao.v1.UpdateStatusBatchResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getUpdateStatusBatchMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Signs what a page inside WeChat (or Weixin Work) needs, each purpose with
     * its own ticket of the account:
     * - SIGN_PURPOSE_WX_CONFIG: wx.config's signature, with the jsapi ticket
     *   (Weixin Work: the corp's jsapi_ticket; appId is then the corp ID);
     * - SIGN_PURPOSE_CHOOSE_INVOICE: chooseInvoice's cardSign, with the wx_card
     *   ticket (Weixin Work: ww.chooseInvoice's, signed over the corp ID);
     * - SIGN_PURPOSE_AGENT_CONFIG (Weixin Work only): wx.agentConfig's
     *   signature, with the app's agent_config ticket.
     * Native apps use the chooseInvoice part too. A purpose the account's kind
     * has no ticket for is INVALID_ARGUMENT on `purposes`.
     * </pre>
     */
    public void signJsapi(io.github.fapiaogateway.fapiao.v1.SignJsapiRequest request,
        io.grpc.stub.StreamObserver<io.github.fapiaogateway.fapiao.v1.SignJsapiResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getSignJsapiMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Issues a QR code (PNG) that opens the configured import page on the
     * phone for a business document (bizCode); the PC page shows it, and later
     * finds what the phone imported with SearchInvoices(biz_code). The page URL
     * gets `bizCode` and `appid` query parameters. ImportInvoices refuses that
     * bizCode once the QR code has expired (FAILED_PRECONDITION,
     * IMPORT_SESSION_EXPIRED).
     * </pre>
     */
    public void issueImportQr(io.github.fapiaogateway.fapiao.v1.IssueImportQrRequest request,
        io.grpc.stub.StreamObserver<io.github.fapiaogateway.fapiao.v1.IssueImportQrResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getIssueImportQrMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Fetches the invoices a user picked from WeChat, optionally locks them, and
     * stores them in the gateway's ledger under a bizCode. All or nothing: on any
     * failure nothing is stored and every lock the call took is released.
     * Importing again under the same bizCode changes nothing. An invoice another
     * bizCode holds while it is LOCK or CLOSURE (in a reimbursement process) is
     * ALREADY_EXISTS, with a ResourceInfo whose owner is "bizCode:&lt;the other&gt;";
     * an INIT invoice (e.g. unlocked after a rejection) moves to the new bizCode.
     * With lock, only INIT invoices can be locked (FAILED_PRECONDITION otherwise).
     * </pre>
     */
    public void importInvoices(io.github.fapiaogateway.fapiao.v1.ImportInvoicesRequest request,
        io.grpc.stub.StreamObserver<io.github.fapiaogateway.fapiao.v1.ImportInvoicesResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getImportInvoicesMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Searches the ledger of imported invoices, newest first, with paging.
     * </pre>
     */
    public void searchInvoices(io.github.fapiaogateway.fapiao.v1.SearchInvoicesRequest request,
        io.grpc.stub.StreamObserver<io.github.fapiaogateway.fapiao.v1.SearchInvoicesResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getSearchInvoicesMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Makes the ledger follow WeChat for one bizCode now: re-reads its invoices
     * that can still change (INIT, LOCK) and applies every difference found
     * (status changed elsewhere, red-flushed, card expired or deleted), each one
     * audited (RECONCILIATION). The gateway also does this in the background for
     * every account, within a share of WeChat's daily quota. Needs the
     * `reconcile` permission. Changes nothing at WeChat.
     * </pre>
     */
    public void reconcileInvoices(io.github.fapiaogateway.fapiao.v1.ReconcileInvoicesRequest request,
        io.grpc.stub.StreamObserver<io.github.fapiaogateway.fapiao.v1.ReconcileInvoicesResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getReconcileInvoicesMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists the audit trail of one account, newest first, with paging: every
     * state-changing action (status changes, an import's locks and the releases
     * that undo them, import QR sessions, and the ledger following WeChat after a
     * read or by reconciliation), with who caused it and how it ended. Needs the
     * `audit` permission.
     * </pre>
     */
    public void listAuditEvents(io.github.fapiaogateway.fapiao.v1.ListAuditEventsRequest request,
        io.grpc.stub.StreamObserver<io.github.fapiaogateway.fapiao.v1.ListAuditEventsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListAuditEventsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Streams the archived original of an imported invoice's document (its PDF,
     * or a trip itinerary attachment) as the gateway downloaded it from WeChat's
     * pdf_url after the import: the first message carries the document's SHA-256,
     * size and content type, the following ones (and the first) the bytes in
     * order, so a caller can verify what it stores. NOT_FOUND while the download
     * is pending (DOCUMENT_PENDING), after every attempt failed
     * (DOCUMENT_FETCH_FAILED), or when the invoice has no such document or was
     * never imported into this account (DOCUMENT_NOT_ARCHIVED). Needs `read`.
     * </pre>
     */
    public void getInvoiceDocument(io.github.fapiaogateway.fapiao.v1.GetInvoiceDocumentRequest request,
        io.grpc.stub.StreamObserver<io.github.fapiaogateway.fapiao.v1.GetInvoiceDocumentResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncServerStreamingCall(
          getChannel().newCall(getGetInvoiceDocumentMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Follows one import session (a bizCode from IssueImportQr) live: first every
     * invoice already imported under the bizCode, then each one as it is
     * imported (by any replica), then the end of the session (its expiry), after
     * which the stream closes. Needs the `read` permission, or the session's
     * import ticket. A bizCode without an import session is NOT_FOUND
     * (IMPORT_SESSION_NOT_FOUND).
     * </pre>
     */
    public void watchImport(io.github.fapiaogateway.fapiao.v1.WatchImportRequest request,
        io.grpc.stub.StreamObserver<io.github.fapiaogateway.fapiao.v1.WatchImportResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncServerStreamingCall(
          getChannel().newCall(getWatchImportMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * <pre>
   * The Fapiao gateway: read, import, lock, unlock and write off the e-invoices
   * (发票) employees hold in WeChat, without touching WeChat tokens, signatures or
   * error codes.
   * Conventions every RPC shares:
   * - `account` names the WeChat account (Official Account / Mini Program /
   *   Weixin Work app / a merchant of a third-party platform) the call acts for:
   *   its appid or an alias configured in the gateway; a Weixin Work app also by
   *   its corp ID (while it is the corp's only configured app) or
   *   "&lt;corp_id&gt;/&lt;agent_id&gt;", the key errors and the ledger name it by. One
   *   gateway serves many accounts, and every RPC works the same for each kind.
   * - Mutating RPCs (UpdateStatus, UpdateStatusBatch, ImportInvoices,
   *   IssueImportQr) take `request_id` (AIP-155): a UUID chosen by the caller.
   *   Replaying a request with the same request_id returns the first outcome
   *   without acting again (a concurrent duplicate waits for the first, then
   *   ABORTED REQUEST_IN_PROGRESS if it waited too long); reusing it for a
   *   different request is INVALID_ARGUMENT. A call that failed without changing
   *   anything may be retried with its request_id; one whose outcome was unknown
   *   (the reply was lost, or the gateway died) is settled first by reading
   *   WeChat, then replayed or run again. Empty means "not idempotent": it still
   *   works, but the gateway never retries it once it may have reached WeChat.
   * - Every change at WeChat is recorded in the gateway before it is sent, and
   *   settled after (docs/intents.md): an invoice being changed by one request is
   *   ABORTED INVOICE_CHANGE_IN_PROGRESS (with RetryInfo) for any other until that
   *   one is settled; what a failed or interrupted request did is completed or
   *   undone by the gateway itself.
   * - Failures are google.rpc.Status with exactly one google.rpc.ErrorInfo
   *   (domain "fapiao-gateway"; reason UPPER_SNAKE; metadata carries
   *   wechat_errcode/wechat_errmsg, account and invoice when known) plus a
   *   BadRequest, PreconditionFailure, ResourceInfo, QuotaFailure or RetryInfo
   *   where it helps the caller act. See docs/errors.md.
   * </pre>
   */
  public static final class InvoiceServiceBlockingStub extends io.grpc.stub.AbstractBlockingStub<InvoiceServiceBlockingStub> {
    private InvoiceServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected InvoiceServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new InvoiceServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Reads one invoice from WeChat (getinvoiceinfo).
     * Errors: INVALID_ARGUMENT (BadRequest) for missing fields; NOT_FOUND
     * (ResourceInfo) when WeChat does not know the card_id/encrypt_code;
     * UNAVAILABLE (RetryInfo) when WeChat stays busy.
     * </pre>
     */
    public io.github.fapiaogateway.fapiao.v1.GetInvoiceResponse getInvoice(io.github.fapiaogateway.fapiao.v1.GetInvoiceRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetInvoiceMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Reads many invoices at once (getinvoicebatch, split into upstream batches).
     * The results keep the request's order; an invoice WeChat did not return is
     * reported in its slot with the reason, never silently dropped.
     * </pre>
     */
    public io.github.fapiaogateway.fapiao.v1.GetInvoicesResponse getInvoices(io.github.fapiaogateway.fapiao.v1.GetInvoicesRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetInvoicesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Moves one invoice to a new reimbursement status (updateinvoicestatus):
     * LOCK on submit, INIT on rejection, CLOSURE on payment (irreversible).
     * A lock belongs to a report: only an invoice imported under its bizCode
     * (ImportInvoices) can be locked; another is FAILED_PRECONDITION
     * INVOICE_NOT_IMPORTED, and nothing is sent to WeChat.
     * </pre>
     */
    public io.github.fapiaogateway.fapiao.v1.UpdateStatusResponse updateStatus(io.github.fapiaogateway.fapiao.v1.UpdateStatusRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getUpdateStatusMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Moves several invoices of one WeChat user to a new status at once
     * (updatestatusbatch). Atomic: either every invoice changes or none does;
     * so it is never split, and takes at most 50 invoices (the configured
     * upstream batch size). As for UpdateStatus, only imported invoices can be
     * locked.
     * </pre>
     */
    public io.github.fapiaogateway.fapiao.v1.UpdateStatusBatchResponse updateStatusBatch(io.github.fapiaogateway.fapiao.v1.UpdateStatusBatchRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getUpdateStatusBatchMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Signs what a page inside WeChat (or Weixin Work) needs, each purpose with
     * its own ticket of the account:
     * - SIGN_PURPOSE_WX_CONFIG: wx.config's signature, with the jsapi ticket
     *   (Weixin Work: the corp's jsapi_ticket; appId is then the corp ID);
     * - SIGN_PURPOSE_CHOOSE_INVOICE: chooseInvoice's cardSign, with the wx_card
     *   ticket (Weixin Work: ww.chooseInvoice's, signed over the corp ID);
     * - SIGN_PURPOSE_AGENT_CONFIG (Weixin Work only): wx.agentConfig's
     *   signature, with the app's agent_config ticket.
     * Native apps use the chooseInvoice part too. A purpose the account's kind
     * has no ticket for is INVALID_ARGUMENT on `purposes`.
     * </pre>
     */
    public io.github.fapiaogateway.fapiao.v1.SignJsapiResponse signJsapi(io.github.fapiaogateway.fapiao.v1.SignJsapiRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getSignJsapiMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Issues a QR code (PNG) that opens the configured import page on the
     * phone for a business document (bizCode); the PC page shows it, and later
     * finds what the phone imported with SearchInvoices(biz_code). The page URL
     * gets `bizCode` and `appid` query parameters. ImportInvoices refuses that
     * bizCode once the QR code has expired (FAILED_PRECONDITION,
     * IMPORT_SESSION_EXPIRED).
     * </pre>
     */
    public io.github.fapiaogateway.fapiao.v1.IssueImportQrResponse issueImportQr(io.github.fapiaogateway.fapiao.v1.IssueImportQrRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getIssueImportQrMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Fetches the invoices a user picked from WeChat, optionally locks them, and
     * stores them in the gateway's ledger under a bizCode. All or nothing: on any
     * failure nothing is stored and every lock the call took is released.
     * Importing again under the same bizCode changes nothing. An invoice another
     * bizCode holds while it is LOCK or CLOSURE (in a reimbursement process) is
     * ALREADY_EXISTS, with a ResourceInfo whose owner is "bizCode:&lt;the other&gt;";
     * an INIT invoice (e.g. unlocked after a rejection) moves to the new bizCode.
     * With lock, only INIT invoices can be locked (FAILED_PRECONDITION otherwise).
     * </pre>
     */
    public io.github.fapiaogateway.fapiao.v1.ImportInvoicesResponse importInvoices(io.github.fapiaogateway.fapiao.v1.ImportInvoicesRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getImportInvoicesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Searches the ledger of imported invoices, newest first, with paging.
     * </pre>
     */
    public io.github.fapiaogateway.fapiao.v1.SearchInvoicesResponse searchInvoices(io.github.fapiaogateway.fapiao.v1.SearchInvoicesRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getSearchInvoicesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Makes the ledger follow WeChat for one bizCode now: re-reads its invoices
     * that can still change (INIT, LOCK) and applies every difference found
     * (status changed elsewhere, red-flushed, card expired or deleted), each one
     * audited (RECONCILIATION). The gateway also does this in the background for
     * every account, within a share of WeChat's daily quota. Needs the
     * `reconcile` permission. Changes nothing at WeChat.
     * </pre>
     */
    public io.github.fapiaogateway.fapiao.v1.ReconcileInvoicesResponse reconcileInvoices(io.github.fapiaogateway.fapiao.v1.ReconcileInvoicesRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getReconcileInvoicesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists the audit trail of one account, newest first, with paging: every
     * state-changing action (status changes, an import's locks and the releases
     * that undo them, import QR sessions, and the ledger following WeChat after a
     * read or by reconciliation), with who caused it and how it ended. Needs the
     * `audit` permission.
     * </pre>
     */
    public io.github.fapiaogateway.fapiao.v1.ListAuditEventsResponse listAuditEvents(io.github.fapiaogateway.fapiao.v1.ListAuditEventsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListAuditEventsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Streams the archived original of an imported invoice's document (its PDF,
     * or a trip itinerary attachment) as the gateway downloaded it from WeChat's
     * pdf_url after the import: the first message carries the document's SHA-256,
     * size and content type, the following ones (and the first) the bytes in
     * order, so a caller can verify what it stores. NOT_FOUND while the download
     * is pending (DOCUMENT_PENDING), after every attempt failed
     * (DOCUMENT_FETCH_FAILED), or when the invoice has no such document or was
     * never imported into this account (DOCUMENT_NOT_ARCHIVED). Needs `read`.
     * </pre>
     */
    public java.util.Iterator<io.github.fapiaogateway.fapiao.v1.GetInvoiceDocumentResponse> getInvoiceDocument(
        io.github.fapiaogateway.fapiao.v1.GetInvoiceDocumentRequest request) {
      return io.grpc.stub.ClientCalls.blockingServerStreamingCall(
          getChannel(), getGetInvoiceDocumentMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Follows one import session (a bizCode from IssueImportQr) live: first every
     * invoice already imported under the bizCode, then each one as it is
     * imported (by any replica), then the end of the session (its expiry), after
     * which the stream closes. Needs the `read` permission, or the session's
     * import ticket. A bizCode without an import session is NOT_FOUND
     * (IMPORT_SESSION_NOT_FOUND).
     * </pre>
     */
    public java.util.Iterator<io.github.fapiaogateway.fapiao.v1.WatchImportResponse> watchImport(
        io.github.fapiaogateway.fapiao.v1.WatchImportRequest request) {
      return io.grpc.stub.ClientCalls.blockingServerStreamingCall(
          getChannel(), getWatchImportMethod(), getCallOptions(), request);
    }
  }

  /**
   * <pre>
   * The Fapiao gateway: read, import, lock, unlock and write off the e-invoices
   * (发票) employees hold in WeChat, without touching WeChat tokens, signatures or
   * error codes.
   * Conventions every RPC shares:
   * - `account` names the WeChat account (Official Account / Mini Program /
   *   Weixin Work app / a merchant of a third-party platform) the call acts for:
   *   its appid or an alias configured in the gateway; a Weixin Work app also by
   *   its corp ID (while it is the corp's only configured app) or
   *   "&lt;corp_id&gt;/&lt;agent_id&gt;", the key errors and the ledger name it by. One
   *   gateway serves many accounts, and every RPC works the same for each kind.
   * - Mutating RPCs (UpdateStatus, UpdateStatusBatch, ImportInvoices,
   *   IssueImportQr) take `request_id` (AIP-155): a UUID chosen by the caller.
   *   Replaying a request with the same request_id returns the first outcome
   *   without acting again (a concurrent duplicate waits for the first, then
   *   ABORTED REQUEST_IN_PROGRESS if it waited too long); reusing it for a
   *   different request is INVALID_ARGUMENT. A call that failed without changing
   *   anything may be retried with its request_id; one whose outcome was unknown
   *   (the reply was lost, or the gateway died) is settled first by reading
   *   WeChat, then replayed or run again. Empty means "not idempotent": it still
   *   works, but the gateway never retries it once it may have reached WeChat.
   * - Every change at WeChat is recorded in the gateway before it is sent, and
   *   settled after (docs/intents.md): an invoice being changed by one request is
   *   ABORTED INVOICE_CHANGE_IN_PROGRESS (with RetryInfo) for any other until that
   *   one is settled; what a failed or interrupted request did is completed or
   *   undone by the gateway itself.
   * - Failures are google.rpc.Status with exactly one google.rpc.ErrorInfo
   *   (domain "fapiao-gateway"; reason UPPER_SNAKE; metadata carries
   *   wechat_errcode/wechat_errmsg, account and invoice when known) plus a
   *   BadRequest, PreconditionFailure, ResourceInfo, QuotaFailure or RetryInfo
   *   where it helps the caller act. See docs/errors.md.
   * </pre>
   */
  public static final class InvoiceServiceFutureStub extends io.grpc.stub.AbstractFutureStub<InvoiceServiceFutureStub> {
    private InvoiceServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected InvoiceServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new InvoiceServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Reads one invoice from WeChat (getinvoiceinfo).
     * Errors: INVALID_ARGUMENT (BadRequest) for missing fields; NOT_FOUND
     * (ResourceInfo) when WeChat does not know the card_id/encrypt_code;
     * UNAVAILABLE (RetryInfo) when WeChat stays busy.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.github.fapiaogateway.fapiao.v1.GetInvoiceResponse> getInvoice(
        io.github.fapiaogateway.fapiao.v1.GetInvoiceRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetInvoiceMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Reads many invoices at once (getinvoicebatch, split into upstream batches).
     * The results keep the request's order; an invoice WeChat did not return is
     * reported in its slot with the reason, never silently dropped.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.github.fapiaogateway.fapiao.v1.GetInvoicesResponse> getInvoices(
        io.github.fapiaogateway.fapiao.v1.GetInvoicesRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetInvoicesMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Moves one invoice to a new reimbursement status (updateinvoicestatus):
     * LOCK on submit, INIT on rejection, CLOSURE on payment (irreversible).
     * A lock belongs to a report: only an invoice imported under its bizCode
     * (ImportInvoices) can be locked; another is FAILED_PRECONDITION
     * INVOICE_NOT_IMPORTED, and nothing is sent to WeChat.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.github.fapiaogateway.fapiao.v1.UpdateStatusResponse> updateStatus(
        io.github.fapiaogateway.fapiao.v1.UpdateStatusRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getUpdateStatusMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Moves several invoices of one WeChat user to a new status at once
     * (updatestatusbatch). Atomic: either every invoice changes or none does;
     * so it is never split, and takes at most 50 invoices (the configured
     * upstream batch size). As for UpdateStatus, only imported invoices can be
     * locked.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.github.fapiaogateway.fapiao.v1.UpdateStatusBatchResponse> updateStatusBatch(
        io.github.fapiaogateway.fapiao.v1.UpdateStatusBatchRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getUpdateStatusBatchMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Signs what a page inside WeChat (or Weixin Work) needs, each purpose with
     * its own ticket of the account:
     * - SIGN_PURPOSE_WX_CONFIG: wx.config's signature, with the jsapi ticket
     *   (Weixin Work: the corp's jsapi_ticket; appId is then the corp ID);
     * - SIGN_PURPOSE_CHOOSE_INVOICE: chooseInvoice's cardSign, with the wx_card
     *   ticket (Weixin Work: ww.chooseInvoice's, signed over the corp ID);
     * - SIGN_PURPOSE_AGENT_CONFIG (Weixin Work only): wx.agentConfig's
     *   signature, with the app's agent_config ticket.
     * Native apps use the chooseInvoice part too. A purpose the account's kind
     * has no ticket for is INVALID_ARGUMENT on `purposes`.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.github.fapiaogateway.fapiao.v1.SignJsapiResponse> signJsapi(
        io.github.fapiaogateway.fapiao.v1.SignJsapiRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getSignJsapiMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Issues a QR code (PNG) that opens the configured import page on the
     * phone for a business document (bizCode); the PC page shows it, and later
     * finds what the phone imported with SearchInvoices(biz_code). The page URL
     * gets `bizCode` and `appid` query parameters. ImportInvoices refuses that
     * bizCode once the QR code has expired (FAILED_PRECONDITION,
     * IMPORT_SESSION_EXPIRED).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.github.fapiaogateway.fapiao.v1.IssueImportQrResponse> issueImportQr(
        io.github.fapiaogateway.fapiao.v1.IssueImportQrRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getIssueImportQrMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Fetches the invoices a user picked from WeChat, optionally locks them, and
     * stores them in the gateway's ledger under a bizCode. All or nothing: on any
     * failure nothing is stored and every lock the call took is released.
     * Importing again under the same bizCode changes nothing. An invoice another
     * bizCode holds while it is LOCK or CLOSURE (in a reimbursement process) is
     * ALREADY_EXISTS, with a ResourceInfo whose owner is "bizCode:&lt;the other&gt;";
     * an INIT invoice (e.g. unlocked after a rejection) moves to the new bizCode.
     * With lock, only INIT invoices can be locked (FAILED_PRECONDITION otherwise).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.github.fapiaogateway.fapiao.v1.ImportInvoicesResponse> importInvoices(
        io.github.fapiaogateway.fapiao.v1.ImportInvoicesRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getImportInvoicesMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Searches the ledger of imported invoices, newest first, with paging.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.github.fapiaogateway.fapiao.v1.SearchInvoicesResponse> searchInvoices(
        io.github.fapiaogateway.fapiao.v1.SearchInvoicesRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getSearchInvoicesMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Makes the ledger follow WeChat for one bizCode now: re-reads its invoices
     * that can still change (INIT, LOCK) and applies every difference found
     * (status changed elsewhere, red-flushed, card expired or deleted), each one
     * audited (RECONCILIATION). The gateway also does this in the background for
     * every account, within a share of WeChat's daily quota. Needs the
     * `reconcile` permission. Changes nothing at WeChat.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.github.fapiaogateway.fapiao.v1.ReconcileInvoicesResponse> reconcileInvoices(
        io.github.fapiaogateway.fapiao.v1.ReconcileInvoicesRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getReconcileInvoicesMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists the audit trail of one account, newest first, with paging: every
     * state-changing action (status changes, an import's locks and the releases
     * that undo them, import QR sessions, and the ledger following WeChat after a
     * read or by reconciliation), with who caused it and how it ended. Needs the
     * `audit` permission.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.github.fapiaogateway.fapiao.v1.ListAuditEventsResponse> listAuditEvents(
        io.github.fapiaogateway.fapiao.v1.ListAuditEventsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListAuditEventsMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_GET_INVOICE = 0;
  private static final int METHODID_GET_INVOICES = 1;
  private static final int METHODID_UPDATE_STATUS = 2;
  private static final int METHODID_UPDATE_STATUS_BATCH = 3;
  private static final int METHODID_SIGN_JSAPI = 4;
  private static final int METHODID_ISSUE_IMPORT_QR = 5;
  private static final int METHODID_IMPORT_INVOICES = 6;
  private static final int METHODID_SEARCH_INVOICES = 7;
  private static final int METHODID_RECONCILE_INVOICES = 8;
  private static final int METHODID_LIST_AUDIT_EVENTS = 9;
  private static final int METHODID_GET_INVOICE_DOCUMENT = 10;
  private static final int METHODID_WATCH_IMPORT = 11;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final InvoiceServiceImplBase serviceImpl;
    private final int methodId;

    MethodHandlers(InvoiceServiceImplBase serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_GET_INVOICE:
          serviceImpl.getInvoice((io.github.fapiaogateway.fapiao.v1.GetInvoiceRequest) request,
              (io.grpc.stub.StreamObserver<io.github.fapiaogateway.fapiao.v1.GetInvoiceResponse>) responseObserver);
          break;
        case METHODID_GET_INVOICES:
          serviceImpl.getInvoices((io.github.fapiaogateway.fapiao.v1.GetInvoicesRequest) request,
              (io.grpc.stub.StreamObserver<io.github.fapiaogateway.fapiao.v1.GetInvoicesResponse>) responseObserver);
          break;
        case METHODID_UPDATE_STATUS:
          serviceImpl.updateStatus((io.github.fapiaogateway.fapiao.v1.UpdateStatusRequest) request,
              (io.grpc.stub.StreamObserver<io.github.fapiaogateway.fapiao.v1.UpdateStatusResponse>) responseObserver);
          break;
        case METHODID_UPDATE_STATUS_BATCH:
          serviceImpl.updateStatusBatch((io.github.fapiaogateway.fapiao.v1.UpdateStatusBatchRequest) request,
              (io.grpc.stub.StreamObserver<io.github.fapiaogateway.fapiao.v1.UpdateStatusBatchResponse>) responseObserver);
          break;
        case METHODID_SIGN_JSAPI:
          serviceImpl.signJsapi((io.github.fapiaogateway.fapiao.v1.SignJsapiRequest) request,
              (io.grpc.stub.StreamObserver<io.github.fapiaogateway.fapiao.v1.SignJsapiResponse>) responseObserver);
          break;
        case METHODID_ISSUE_IMPORT_QR:
          serviceImpl.issueImportQr((io.github.fapiaogateway.fapiao.v1.IssueImportQrRequest) request,
              (io.grpc.stub.StreamObserver<io.github.fapiaogateway.fapiao.v1.IssueImportQrResponse>) responseObserver);
          break;
        case METHODID_IMPORT_INVOICES:
          serviceImpl.importInvoices((io.github.fapiaogateway.fapiao.v1.ImportInvoicesRequest) request,
              (io.grpc.stub.StreamObserver<io.github.fapiaogateway.fapiao.v1.ImportInvoicesResponse>) responseObserver);
          break;
        case METHODID_SEARCH_INVOICES:
          serviceImpl.searchInvoices((io.github.fapiaogateway.fapiao.v1.SearchInvoicesRequest) request,
              (io.grpc.stub.StreamObserver<io.github.fapiaogateway.fapiao.v1.SearchInvoicesResponse>) responseObserver);
          break;
        case METHODID_RECONCILE_INVOICES:
          serviceImpl.reconcileInvoices((io.github.fapiaogateway.fapiao.v1.ReconcileInvoicesRequest) request,
              (io.grpc.stub.StreamObserver<io.github.fapiaogateway.fapiao.v1.ReconcileInvoicesResponse>) responseObserver);
          break;
        case METHODID_LIST_AUDIT_EVENTS:
          serviceImpl.listAuditEvents((io.github.fapiaogateway.fapiao.v1.ListAuditEventsRequest) request,
              (io.grpc.stub.StreamObserver<io.github.fapiaogateway.fapiao.v1.ListAuditEventsResponse>) responseObserver);
          break;
        case METHODID_GET_INVOICE_DOCUMENT:
          serviceImpl.getInvoiceDocument((io.github.fapiaogateway.fapiao.v1.GetInvoiceDocumentRequest) request,
              (io.grpc.stub.StreamObserver<io.github.fapiaogateway.fapiao.v1.GetInvoiceDocumentResponse>) responseObserver);
          break;
        case METHODID_WATCH_IMPORT:
          serviceImpl.watchImport((io.github.fapiaogateway.fapiao.v1.WatchImportRequest) request,
              (io.grpc.stub.StreamObserver<io.github.fapiaogateway.fapiao.v1.WatchImportResponse>) responseObserver);
          break;
        default:
          throw new AssertionError();
      }
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public io.grpc.stub.StreamObserver<Req> invoke(
        io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        default:
          throw new AssertionError();
      }
    }
  }

  private static abstract class InvoiceServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    InvoiceServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return io.github.fapiaogateway.fapiao.v1.InvoiceServiceProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("InvoiceService");
    }
  }

  private static final class InvoiceServiceFileDescriptorSupplier
      extends InvoiceServiceBaseDescriptorSupplier {
    InvoiceServiceFileDescriptorSupplier() {}
  }

  private static final class InvoiceServiceMethodDescriptorSupplier
      extends InvoiceServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final String methodName;

    InvoiceServiceMethodDescriptorSupplier(String methodName) {
      this.methodName = methodName;
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.MethodDescriptor getMethodDescriptor() {
      return getServiceDescriptor().findMethodByName(methodName);
    }
  }

  private static volatile io.grpc.ServiceDescriptor serviceDescriptor;

  public static io.grpc.ServiceDescriptor getServiceDescriptor() {
    io.grpc.ServiceDescriptor result = serviceDescriptor;
    if (result == null) {
      synchronized (InvoiceServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new InvoiceServiceFileDescriptorSupplier())
              .addMethod(getGetInvoiceMethod())
              .addMethod(getGetInvoicesMethod())
              .addMethod(getUpdateStatusMethod())
              .addMethod(getUpdateStatusBatchMethod())
              .addMethod(getSignJsapiMethod())
              .addMethod(getIssueImportQrMethod())
              .addMethod(getImportInvoicesMethod())
              .addMethod(getSearchInvoicesMethod())
              .addMethod(getReconcileInvoicesMethod())
              .addMethod(getListAuditEventsMethod())
              .addMethod(getGetInvoiceDocumentMethod())
              .addMethod(getWatchImportMethod())
              .build();
        }
      }
    }
    return result;
  }
}
