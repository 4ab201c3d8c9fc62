package io.github.fapiaogateway.client;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.github.fapiaogateway.fapiao.v1.InvoiceServiceGrpc;
import io.github.fapiaogateway.fapiao.v1.InvoiceServiceProto;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.lang.reflect.InvocationTargetException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;

/**
 * The Java client's live test driver: calls a running gateway through the generated blocking
 * stub and prints what happened, one JSON line per case; tests/clients/ starts the gateway,
 * writes the cases and checks the lines. Generic: any RPC of InvoiceService, unary or
 * server-streaming, by name (the stub's method of that name, the generated request class).
 *
 * <p>Environment: FAPIAO_ADDRESS (host:port), FAPIAO_API_KEY, FAPIAO_LIVE_CASES (a JSON file:
 * [{"name", "method", "request"}], requests in the proto3 JSON form).
 */
public final class LiveTest {
  private static final String PACKAGE = "io.github.fapiaogateway.fapiao.v1.";

  private LiveTest() {}

  private static JsonElement json(Message message) throws Exception {
    return JsonParser.parseString(JsonFormat.printer().print(message));
  }

  private static JsonObject violation(String... keysAndValues) {
    JsonObject object = new JsonObject();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      object.addProperty(keysAndValues[i], keysAndValues[i + 1]);
    }
    return object;
  }

  static JsonObject errorJson(RichError error) {
    JsonObject out = new JsonObject();
    out.addProperty("code", error.code().value());
    out.addProperty("message", error.message());
    out.addProperty("reason", error.reason());
    out.addProperty("domain", error.domain());
    out.add("metadata", new Gson().toJsonTree(error.metadata()));
    JsonArray fields = new JsonArray();
    error.fieldViolations().forEach(v -> fields.add(
        violation("field", v.getField(), "description", v.getDescription())));
    out.add("fieldViolations", fields);
    JsonArray preconditions = new JsonArray();
    error.preconditionViolations().forEach(v -> preconditions.add(violation(
        "type", v.getType(), "subject", v.getSubject(), "description", v.getDescription())));
    out.add("preconditionViolations", preconditions);
    JsonArray quotas = new JsonArray();
    error.quotaViolations().forEach(v -> quotas.add(
        violation("subject", v.getSubject(), "description", v.getDescription())));
    out.add("quotaViolations", quotas);
    out.add("resource", error.resource()
        .<JsonElement>map(r -> violation("resourceType", r.getResourceType(), "resourceName",
            r.getResourceName(), "owner", r.getOwner(), "description", r.getDescription()))
        .orElse(JsonNull.INSTANCE));
    out.add("retryDelayMs", error.retryDelay()
        .<JsonElement>map(d -> new com.google.gson.JsonPrimitive(d.toMillis()))
        .orElse(JsonNull.INSTANCE));
    out.add("wechatErrcode", error.wechatErrcode().isPresent()
        ? new com.google.gson.JsonPrimitive(error.wechatErrcode().getAsInt())
        : JsonNull.INSTANCE);
    return out;
  }

  private static String lowerCamel(String name) {
    return Character.toLowerCase(name.charAt(0)) + name.substring(1);
  }

  /** Calls the stub's method for the RPC; the response(s) as JSON. */
  static JsonElement call(InvoiceServiceGrpc.InvoiceServiceBlockingStub stub, MethodDescriptor method,
      String requestJson) throws Exception {
    Class<?> requestClass = Class.forName(PACKAGE + method.getInputType().getName());
    Message.Builder builder = (Message.Builder) requestClass.getMethod("newBuilder").invoke(null);
    JsonFormat.parser().merge(requestJson, builder);
    InvoiceServiceGrpc.InvoiceServiceBlockingStub timed = stub.withDeadlineAfter(15, TimeUnit.SECONDS);
    Object result = timed.getClass()
        .getMethod(lowerCamel(method.getName()), requestClass)
        .invoke(timed, builder.build());
    if (!method.isServerStreaming()) {
      return json((Message) result);
    }
    JsonArray responses = new JsonArray();
    for (Iterator<?> it = (Iterator<?>) result; it.hasNext(); ) {
      responses.add(json((Message) it.next()));
    }
    return responses;
  }

  public static void main(String[] args) throws Exception {
    JsonArray cases = JsonParser.parseString(
        Files.readString(Path.of(System.getenv("FAPIAO_LIVE_CASES")))).getAsJsonArray();
    ManagedChannel channel = ManagedChannelBuilder.forTarget(System.getenv("FAPIAO_ADDRESS"))
        .usePlaintext()
        .intercept(ApiKey.interceptor(System.getenv("FAPIAO_API_KEY")))
        .build();
    try {
      InvoiceServiceGrpc.InvoiceServiceBlockingStub stub = InvoiceServiceGrpc.newBlockingStub(channel);
      var service = InvoiceServiceProto.getDescriptor().findServiceByName("InvoiceService");
      for (JsonElement element : cases) {
        JsonObject c = element.getAsJsonObject();
        String name = c.get("name").getAsString();
        MethodDescriptor method = service.findMethodByName(c.get("method").getAsString());
        if (method == null) {
          throw new IllegalStateException(
              "the generated client has no " + c.get("method") + ": regenerate it (make generate)");
        }
        JsonObject line = new JsonObject();
        line.addProperty("name", name);
        try {
          line.add("response", call(stub, method, c.get("request").toString()));
        } catch (InvocationTargetException thrown) {
          RichError error = RichError.from(thrown.getCause())
              .orElseThrow(() -> new IllegalStateException(name, thrown.getCause()));
          line.add("error", errorJson(error));
        } catch (RuntimeException thrown) {
          // A server-streaming call fails while its iterator is read.
          RichError error = RichError.from(thrown).orElseThrow(() -> thrown);
          line.add("error", errorJson(error));
        }
        System.out.println(line);
      }
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
