// Command readandlock reads an invoice, then locks it for an expense report by importing it
// with Lock: true; an invoice another report already holds is a lock conflict, reported
// with its holder.
//
// Usage: FAPIAO_ADDRESS=127.0.0.1:50051 FAPIAO_API_KEY=fpk_... readandlock CARD_ID ENCRYPT_CODE BIZ_CODE
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	fapiaov1 "github.com/fapiao-gateway/fapiao-gateway/clients/go/fapiao/v1"
	"github.com/fapiao-gateway/fapiao-gateway/clients/go/gateway"
)

func main() {
	if len(os.Args) != 4 {
		log.Fatal("usage: readandlock CARD_ID ENCRYPT_CODE BIZ_CODE")
	}
	address := os.Getenv("FAPIAO_ADDRESS")
	if address == "" {
		address = "127.0.0.1:50051"
	}
	// WithInsecure: a gateway on this machine; use TLS credentials otherwise.
	conn, err := grpc.Dial(address, grpc.WithInsecure(),
		grpc.WithPerRPCCredentials(gateway.APIKey{Key: os.Getenv("FAPIAO_API_KEY"), Insecure: true}))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	client := fapiaov1.NewInvoiceServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()

	invoice := &fapiaov1.InvoiceRef{CardId: os.Args[1], EncryptCode: os.Args[2]}
	bizCode := os.Args[3]
	read, err := client.GetInvoice(ctx, &fapiaov1.GetInvoiceRequest{Account: "sandbox", Invoice: invoice})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("read %s: %s, %d fen\n", read.Invoice.InvoiceNumber, read.Invoice.Title, read.Invoice.TotalFen)

	_, err = client.ImportInvoices(ctx, &fapiaov1.ImportInvoicesRequest{
		Account: "sandbox", BizCode: bizCode, Invoices: []*fapiaov1.InvoiceRef{invoice}, Lock: true,
	})
	if rich, ok := gateway.FromError(err); ok && rich.Code == codes.AlreadyExists {
		fmt.Printf("lock conflict: held by %s (%s)\n", rich.Holder(), rich.Reason())
	} else if err != nil {
		log.Fatal(err)
	} else {
		fmt.Printf("locked for %s\n", bizCode)
	}
}
