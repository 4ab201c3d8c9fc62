"""WeChat's invoice reimbursement APIs as typed async methods returning domain objects."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from fapiao_gateway.domain.context import Deadline
from fapiao_gateway.domain.errors import GatewayError
from fapiao_gateway.domain.invoice import Invoice, InvoiceRef
from fapiao_gateway.domain.status import ReimburseStatus
from fapiao_gateway.wechat.accounts import Account
from fapiao_gateway.wechat.models import InvoiceInfo
from fapiao_gateway.wechat.platforms import Api
from fapiao_gateway.wechat.tokens import AccessTokens
from fapiao_gateway.wechat.upstream import parse_reply


@dataclass(frozen=True, slots=True)
class FetchedInvoice:
    """An invoice and the JSON WeChat returned for it (kept by the ledger)."""

    invoice: Invoice
    payload: dict[str, Any]


class _BatchReply(BaseModel):
    item_list: list[dict[str, Any]] = Field(default_factory=list)


def card_id_unique_batches(refs: Sequence[InvoiceRef], size: int) -> list[list[InvoiceRef]]:
    """Splits refs into batches of at most `size` in which no card_id repeats.

    getinvoicebatch answers with card_id but not encrypt_code, and one issuer's invoices
    share a card_id: only within such a batch can every item be matched to its ref.
    """
    batches: list[list[InvoiceRef]] = []
    for ref in refs:
        for batch in batches:
            if len(batch) < size and all(other.card_id != ref.card_id for other in batch):
                batch.append(ref)
                break
        else:
            batches.append([ref])
    return batches


def _ref_json(ref: InvoiceRef) -> dict[str, str]:
    return {"card_id": ref.card_id, "encrypt_code": ref.encrypt_code}


class WeChatInvoices:
    """getinvoiceinfo, getinvoicebatch, updateinvoicestatus and updatestatusbatch."""

    def __init__(self, tokens: AccessTokens, *, batch_size: int = 50, parallel: int = 4) -> None:
        self._tokens = tokens
        self._batch_size = batch_size
        self._parallel = parallel

    async def get_invoice(self, account: Account, ref: InvoiceRef, deadline: Deadline) -> Invoice:
        """One invoice, or NOT_FOUND / UNAVAILABLE / ... as the errcode table says."""
        return (await self.fetch_invoice(account, ref, deadline)).invoice

    async def fetch_invoice(
        self, account: Account, ref: InvoiceRef, deadline: Deadline
    ) -> FetchedInvoice:
        """One invoice with its JSON."""
        payload = await self._tokens.call(
            account, Api.GET_INVOICE_INFO, deadline=deadline, body=_ref_json(ref), ref=ref
        )
        info = parse_reply(InvoiceInfo, payload, account, Api.GET_INVOICE_INFO, ref)
        return FetchedInvoice(info.to_domain(ref.encrypt_code), _invoice_json(payload))

    async def fetch_all(
        self, account: Account, refs: Sequence[InvoiceRef], deadline: Deadline
    ) -> dict[InvoiceRef, FetchedInvoice]:
        """Every ref's invoice: in batches, then one by one for what the batches left out, so
        a missing invoice fails with WeChat's own reason (e.g. NOT_FOUND), not a guess."""
        fetched = await self.fetch_batch(account, refs, deadline)
        missing = [ref for ref in refs if ref not in fetched]
        singles = await asyncio.gather(
            *(self.fetch_invoice(account, ref, deadline) for ref in missing)
        )
        fetched.update(zip(missing, singles, strict=True))
        return fetched

    async def fetch_batch(
        self, account: Account, refs: Sequence[InvoiceRef], deadline: Deadline
    ) -> dict[InvoiceRef, FetchedInvoice]:
        """Whatever WeChat returns of `refs`, by ref; the first failed batch fails the call."""
        fetched, failed = await self.fetch_batches(account, refs, deadline)
        if failed:
            raise next(iter(failed.values()))
        return fetched

    async def fetch_batches(
        self, account: Account, refs: Sequence[InvoiceRef], deadline: Deadline
    ) -> tuple[dict[InvoiceRef, FetchedInvoice], dict[InvoiceRef, GatewayError]]:
        """`refs` in upstream batches of at most batch_size, `parallel` at a time.

        Returns what WeChat returned, by ref, and the error of every ref whose batch failed.
        WeChat may answer errcode 0 and leave invoices out: those refs are in neither map,
        for the caller to report.
        """
        limit = asyncio.Semaphore(self._parallel)

        async def one(batch: list[InvoiceRef]) -> dict[InvoiceRef, FetchedInvoice]:
            async with limit:
                payload = await self._tokens.call(
                    account,
                    Api.GET_INVOICE_BATCH,
                    deadline=deadline,
                    body={"item_list": [_ref_json(ref) for ref in batch]},
                )
            reply = parse_reply(_BatchReply, payload, account, Api.GET_INVOICE_BATCH)
            by_card = {ref.card_id: ref for ref in batch}
            found: dict[InvoiceRef, FetchedInvoice] = {}
            for item in reply.item_list:
                info = parse_reply(InvoiceInfo, item, account, Api.GET_INVOICE_BATCH)
                ref = by_card.get(info.card_id)
                if ref is not None:
                    found[ref] = FetchedInvoice(info.to_domain(ref.encrypt_code), item)
            return found

        batches = card_id_unique_batches(refs, self._batch_size)
        results = await asyncio.gather(*(one(batch) for batch in batches), return_exceptions=True)
        fetched: dict[InvoiceRef, FetchedInvoice] = {}
        failed: dict[InvoiceRef, GatewayError] = {}
        for batch, result in zip(batches, results, strict=True):
            if isinstance(result, GatewayError):
                failed |= dict.fromkeys(batch, result)
            elif isinstance(result, BaseException):
                raise result
            else:
                fetched |= result
        return fetched, failed

    async def update_status(
        self, account: Account, ref: InvoiceRef, status: ReimburseStatus, deadline: Deadline
    ) -> None:
        """Sets one invoice's status (updateinvoicestatus)."""
        await self._tokens.call(
            account,
            Api.UPDATE_INVOICE_STATUS,
            deadline=deadline,
            body={**_ref_json(ref), "reimburse_status": status.value},
            ref=ref,
        )

    async def update_status_batch(
        self,
        account: Account,
        openid: str,
        refs: Sequence[InvoiceRef],
        status: ReimburseStatus,
        deadline: Deadline,
    ) -> None:
        """Sets several invoices' status, all or none (updatestatusbatch)."""
        await self._tokens.call(
            account,
            Api.UPDATE_STATUS_BATCH,
            deadline=deadline,
            body={
                "openid": openid,
                "reimburse_status": status.value,
                "invoice_list": [_ref_json(ref) for ref in refs],
            },
        )


def _invoice_json(payload: dict[str, Any]) -> dict[str, Any]:
    """The invoice part of a getinvoiceinfo reply (without errcode and errmsg)."""
    return {key: value for key, value in payload.items() if key not in ("errcode", "errmsg")}
