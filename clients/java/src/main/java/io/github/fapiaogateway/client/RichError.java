package io.github.fapiaogateway.client;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import com.google.rpc.PreconditionFailure;
import com.google.rpc.QuotaFailure;
import com.google.rpc.ResourceInfo;
import com.google.rpc.RetryInfo;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A failed call to the Fapiao gateway with what its google.rpc.Status details say (the
 * {@code grpc-status-details-bin} trailer). Every error the gateway raises carries exactly one
 * ErrorInfo, plus the details that help the caller act: BadRequest, PreconditionFailure,
 * ResourceInfo, QuotaFailure, RetryInfo. Generic over those types, whichever RPC failed.
 */
public final class RichError {
  /** ErrorInfo.domain of the errors the gateway itself raises. */
  public static final String DOMAIN = "fapiao-gateway";

  private final Status.Code code;
  private final String message;
  private final List<Any> details;

  private RichError(Status.Code code, String message, List<Any> details) {
    this.code = code;
    this.message = message;
    this.details = details;
  }

  /** The rich error of a failed call: a StatusRuntimeException or StatusException, or a cause. */
  public static Optional<RichError> from(Throwable thrown) {
    for (Throwable t = thrown; t != null; t = t.getCause()) {
      if (t instanceof StatusRuntimeException || t instanceof StatusException) {
        Status status = Status.fromThrowable(t);
        com.google.rpc.Status rich = StatusProto.fromThrowable(t);
        if (rich == null) {
          String description = status.getDescription();
          return Optional.of(
              new RichError(status.getCode(), description == null ? "" : description, List.of()));
        }
        return Optional.of(new RichError(status.getCode(), rich.getMessage(), rich.getDetailsList()));
      }
    }
    return Optional.empty();
  }

  private <T extends com.google.protobuf.Message> List<T> all(Class<T> type) {
    List<T> found = new ArrayList<>();
    for (Any detail : details) {
      if (detail.is(type)) {
        try {
          found.add(detail.unpack(type));
        } catch (InvalidProtocolBufferException e) {
          throw new IllegalStateException("undecodable " + detail.getTypeUrl(), e);
        }
      }
    }
    return found;
  }

  private <T extends com.google.protobuf.Message> Optional<T> first(Class<T> type) {
    return all(type).stream().findFirst();
  }

  public Status.Code code() {
    return code;
  }

  public String message() {
    return message;
  }

  /** The ErrorInfo; empty only for errors that did not come from the gateway itself. */
  public Optional<ErrorInfo> errorInfo() {
    return first(ErrorInfo.class);
  }

  /** ErrorInfo.reason, e.g. INVALID_REQUEST_FIELDS; "" without an ErrorInfo. */
  public String reason() {
    return errorInfo().map(ErrorInfo::getReason).orElse("");
  }

  /** ErrorInfo.domain: "fapiao-gateway" for the gateway's own errors. */
  public String domain() {
    return errorInfo().map(ErrorInfo::getDomain).orElse("");
  }

  /** ErrorInfo.metadata: account, card_id, wechat_errcode, correlation_id, ... as known. */
  public Map<String, String> metadata() {
    return errorInfo().map(ErrorInfo::getMetadataMap).orElse(Map.of());
  }

  /** The WeChat errcode behind the error, when WeChat answered with one. */
  public OptionalInt wechatErrcode() {
    String value = metadata().get("wechat_errcode");
    return value == null ? OptionalInt.empty() : OptionalInt.of(Integer.parseInt(value));
  }

  /** How long to wait before trying again (RetryInfo); empty: do not retry as is. */
  public Optional<Duration> retryDelay() {
    return first(RetryInfo.class)
        .map(RetryInfo::getRetryDelay)
        .map(d -> Duration.ofSeconds(d.getSeconds(), d.getNanos()));
  }

  /** The request fields that are wrong (BadRequest). */
  public List<BadRequest.FieldViolation> fieldViolations() {
    List<BadRequest.FieldViolation> found = new ArrayList<>();
    all(BadRequest.class).forEach(d -> found.addAll(d.getFieldViolationsList()));
    return found;
  }

  /** The states the call needed and did not find (PreconditionFailure). */
  public List<PreconditionFailure.Violation> preconditionViolations() {
    List<PreconditionFailure.Violation> found = new ArrayList<>();
    all(PreconditionFailure.class).forEach(d -> found.addAll(d.getViolationsList()));
    return found;
  }

  /** The quotas the call ran into (QuotaFailure). */
  public List<QuotaFailure.Violation> quotaViolations() {
    List<QuotaFailure.Violation> found = new ArrayList<>();
    all(QuotaFailure.class).forEach(d -> found.addAll(d.getViolationsList()));
    return found;
  }

  /** The resource the error is about (ResourceInfo), e.g. the invoice. */
  public Optional<ResourceInfo> resource() {
    return first(ResourceInfo.class);
  }

  /** Who holds the resource, when known: e.g. "bizCode:EXP-1001" (ResourceInfo.owner). */
  public Optional<String> holder() {
    return resource().map(ResourceInfo::getOwner).filter(owner -> !owner.isEmpty());
  }

  @Override
  public String toString() {
    return code + " " + reason() + ": " + message;
  }
}
