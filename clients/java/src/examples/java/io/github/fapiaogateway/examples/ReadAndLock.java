package io.github.fapiaogateway.examples;

import io.github.fapiaogateway.client.ApiKey;
import io.github.fapiaogateway.client.RichError;
import io.github.fapiaogateway.fapiao.v1.GetInvoiceRequest;
import io.github.fapiaogateway.fapiao.v1.ImportInvoicesRequest;
import io.github.fapiaogateway.fapiao.v1.Invoice;
import io.github.fapiaogateway.fapiao.v1.InvoiceRef;
import io.github.fapiaogateway.fapiao.v1.InvoiceServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.TimeUnit;

/**
 * Reads an invoice, then locks it for an expense report by importing it with lock = true; an
 * invoice another report already holds is a lock conflict, reported with its holder.
 *
 * <p>Usage: FAPIAO_ADDRESS=127.0.0.1:50051 FAPIAO_API_KEY=fpk_... java ... ReadAndLock CARD_ID
 * ENCRYPT_CODE BIZ_CODE
 */
public final class ReadAndLock {
  private ReadAndLock() {}

  public static void main(String[] args) throws InterruptedException {
    if (args.length != 3) {
      System.err.println("usage: ReadAndLock CARD_ID ENCRYPT_CODE BIZ_CODE");
      System.exit(2);
    }
    String address = System.getenv().getOrDefault("FAPIAO_ADDRESS", "127.0.0.1:50051");
    ManagedChannel channel = ManagedChannelBuilder.forTarget(address)
        .usePlaintext() // a gateway on this machine; use TLS otherwise
        .intercept(ApiKey.interceptor(System.getenv("FAPIAO_API_KEY")))
        .build();
    try {
      InvoiceServiceGrpc.InvoiceServiceBlockingStub stub = InvoiceServiceGrpc.newBlockingStub(channel)
          .withDeadlineAfter(15, TimeUnit.SECONDS);
      InvoiceRef invoice = InvoiceRef.newBuilder().setCardId(args[0]).setEncryptCode(args[1]).build();
      Invoice read = stub.getInvoice(
          GetInvoiceRequest.newBuilder().setAccount("sandbox").setInvoice(invoice).build()).getInvoice();
      System.out.printf("read %s: %s, %d fen%n", read.getInvoiceNumber(), read.getTitle(), read.getTotalFen());
      try {
        stub.importInvoices(ImportInvoicesRequest.newBuilder()
            .setAccount("sandbox").setBizCode(args[2]).addInvoices(invoice).setLock(true).build());
        System.out.printf("locked for %s%n", args[2]);
      } catch (StatusRuntimeException e) {
        RichError error = RichError.from(e).orElseThrow(() -> e);
        if (error.code() != Status.Code.ALREADY_EXISTS) {
          throw e;
        }
        System.out.printf("lock conflict: held by %s (%s)%n", error.holder().orElse("?"), error.reason());
      }
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
