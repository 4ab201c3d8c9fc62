package io.github.fapiaogateway.client;

import io.grpc.ClientInterceptor;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;

/** The caller's API key (fpk_...), sent as {@code authorization: Bearer <key>} with every call. */
public final class ApiKey {
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private ApiKey() {}

  /** For {@code ManagedChannelBuilder.intercept(...)} or {@code stub.withInterceptors(...)}. */
  public static ClientInterceptor interceptor(String key) {
    Metadata headers = new Metadata();
    headers.put(AUTHORIZATION, "Bearer " + key);
    return MetadataUtils.newAttachHeadersInterceptor(headers);
  }
}
