"""Reads an invoice, then locks it for an expense report by importing it with lock=True; an
invoice another report already holds is a lock conflict, reported with its holder.

Usage: FAPIAO_ADDRESS=127.0.0.1:50051 FAPIAO_API_KEY=fpk_... \
         python read_and_lock.py CARD_ID ENCRYPT_CODE BIZ_CODE
"""

import os
import sys

from fapiao.v1 import invoice_pb2, invoice_service_pb2, invoice_service_pb2_grpc
from fapiao_client import channel, errors


def main(card_id: str, encrypt_code: str, biz_code: str) -> None:
    address = os.environ.get("FAPIAO_ADDRESS", "127.0.0.1:50051")
    invoice = invoice_pb2.InvoiceRef(card_id=card_id, encrypt_code=encrypt_code)
    # insecure=True: a gateway on this machine; give a TLS address otherwise.
    with channel(address, api_key=os.environ["FAPIAO_API_KEY"], insecure=True) as opened:
        stub = invoice_service_pb2_grpc.InvoiceServiceStub(opened)
        read = stub.GetInvoice(
            invoice_service_pb2.GetInvoiceRequest(account="sandbox", invoice=invoice)
        ).invoice
        print(f"read {read.invoice_number}: {read.title}, {read.total_fen} fen")
        try:
            stub.ImportInvoices(
                invoice_service_pb2.ImportInvoicesRequest(
                    account="sandbox", biz_code=biz_code, invoices=[invoice], lock=True
                )
            )
            print(f"locked for {biz_code}")
        except errors.AlreadyExists as conflict:
            print(f"lock conflict: held by {conflict.holder} ({conflict.reason})")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit("usage: read_and_lock.py CARD_ID ENCRYPT_CODE BIZ_CODE")
    main(*sys.argv[1:])
