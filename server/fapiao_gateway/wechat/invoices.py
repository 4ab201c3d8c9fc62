"""WeChat's invoice reimbursement APIs for the use cases: services.ports.InvoiceSource and
StatusWriter, by appid, returning domain values and raising domain errors."""

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, Field

from fapiao_gateway.domain.context import Deadline, wall_clock_us
from fapiao_gateway.domain.errors import GatewayError
from fapiao_gateway.domain.invoice import FetchedInvoice, InvoiceRef
from fapiao_gateway.domain.status import ReimburseStatus
from fapiao_gateway.wechat.accounts import AccountRegistry
from fapiao_gateway.wechat.boundary import wechat_call
from fapiao_gateway.wechat.models import InvoiceInfo
from fapiao_gateway.wechat.platforms import PLATFORMS, Api
from fapiao_gateway.wechat.tokens import AccessTokens
from fapiao_gateway.wechat.upstream import parse_reply


class _BatchReply(BaseModel):
    item_list: list[dict[str, Any]] = Field(default_factory=list)


def card_id_unique_batches(refs: Sequence[InvoiceRef], size: int) -> list[list[InvoiceRef]]:
    """Splits refs into batches of at most `size` in which no card_id repeats.

    getinvoicebatch answers with card_id but not encrypt_code, and one issuer's invoices
    share a card_id: only within such a batch can every item be matched to its ref. Refs
    are spread round-robin by card_id, so n refs sharing one card_id need n batches however
    they are ordered, and never more.
    """
    by_card: dict[str, list[InvoiceRef]] = {}
    for ref in refs:
        by_card.setdefault(ref.card_id, []).append(ref)
    batches: list[list[InvoiceRef]] = []
    depth = max((len(group) for group in by_card.values()), default=0)
    for level in range(depth):
        layer = [group[level] for group in by_card.values() if level < len(group)]
        batches += [layer[start : start + size] for start in range(0, len(layer), size)]
    return batches


def _ref_json(ref: InvoiceRef) -> dict[str, str]:
    return {"card_id": ref.card_id, "encrypt_code": ref.encrypt_code}


def _invoice_json(payload: dict[str, Any]) -> dict[str, Any]:
    """The invoice part of a getinvoiceinfo reply (without errcode and errmsg)."""
    return {key: value for key, value in payload.items() if key not in ("errcode", "errmsg")}


def parse_invoice(payload: Any, encrypt_code: str) -> Any:
    """An invoice from WeChat's JSON as the ledger stored it (for the document backfill)."""
    return InvoiceInfo.model_validate(payload).to_domain(encrypt_code)


class WeChatInvoices:
    """getinvoiceinfo, getinvoicebatch (getinvoiceinfobatch), updateinvoicestatus and
    updatestatusbatch, for every platform."""

    def __init__(
        self,
        accounts: AccountRegistry,
        tokens: AccessTokens,
        *,
        batch_size: int = 50,
        parallel: int = 4,
        clock: Callable[[], int] = wall_clock_us,
    ) -> None:
        self._clock = clock
        self._accounts = accounts
        self._tokens = tokens
        self._batch_size = batch_size
        self._parallel = parallel

    def batches_needed(self, refs: Sequence[InvoiceRef]) -> int:
        """How many getinvoicebatch calls reading `refs` takes."""
        return len(card_id_unique_batches(refs, self._batch_size))

    async def fetch(self, appid: str, ref: InvoiceRef, deadline: Deadline) -> FetchedInvoice:
        """One invoice with its JSON, or NOT_FOUND / UNAVAILABLE / ... as the errcode says."""
        with wechat_call(appid, Api.GET_INVOICE_INFO, ref):
            account = self._accounts.credentials(appid)
            sent = self._clock()
            payload = await self._tokens.call(
                account, Api.GET_INVOICE_INFO, deadline=deadline, body=_ref_json(ref)
            )
            info = parse_reply(InvoiceInfo, payload, account, Api.GET_INVOICE_INFO)
            return FetchedInvoice(info.to_domain(ref.encrypt_code), _invoice_json(payload), sent)

    async def fetch_batches(
        self, appid: str, refs: Sequence[InvoiceRef], deadline: Deadline
    ) -> tuple[dict[InvoiceRef, FetchedInvoice], dict[InvoiceRef, GatewayError]]:
        """`refs` in upstream batches of at most batch_size, `parallel` at a time.

        Returns what WeChat returned, by ref, and the error of every ref whose batch failed.
        WeChat may answer errcode 0 and leave invoices out: those refs are in neither map,
        for the caller to report.
        """
        limit = asyncio.Semaphore(self._parallel)

        with wechat_call(appid, Api.GET_INVOICE_BATCH):
            account = self._accounts.credentials(appid)
        # getinvoicebatch; Weixin Work's is getinvoiceinfobatch (same body, same item_list).
        api = PLATFORMS[account.platform].batch_read

        async def one(batch: list[InvoiceRef]) -> dict[InvoiceRef, FetchedInvoice]:
            with wechat_call(appid, api):
                async with limit:
                    sent = self._clock()
                    payload = await self._tokens.call(
                        account,
                        api,
                        deadline=deadline,
                        body={"item_list": [_ref_json(ref) for ref in batch]},
                    )
                reply = parse_reply(_BatchReply, payload, account, api)
                by_card = {ref.card_id: ref for ref in batch}
                found: dict[InvoiceRef, FetchedInvoice] = {}
                for item in reply.item_list:
                    info = parse_reply(InvoiceInfo, item, account, api)
                    ref = by_card.get(info.card_id)
                    if ref is not None:
                        found[ref] = FetchedInvoice(info.to_domain(ref.encrypt_code), item, sent)
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

    async def set_status(
        self, appid: str, ref: InvoiceRef, target: ReimburseStatus, deadline: Deadline
    ) -> None:
        """Sets one invoice's status (updateinvoicestatus)."""
        with wechat_call(appid, Api.UPDATE_INVOICE_STATUS, ref):
            await self._tokens.call(
                self._accounts.credentials(appid),
                Api.UPDATE_INVOICE_STATUS,
                deadline=deadline,
                body={**_ref_json(ref), "reimburse_status": target.value},
            )

    async def set_statuses(
        self,
        appid: str,
        openid: str,
        refs: Sequence[InvoiceRef],
        target: ReimburseStatus,
        deadline: Deadline,
    ) -> None:
        """Sets several invoices' status, all or none (updatestatusbatch)."""
        with wechat_call(appid, Api.UPDATE_STATUS_BATCH):
            await self._tokens.call(
                self._accounts.credentials(appid),
                Api.UPDATE_STATUS_BATCH,
                deadline=deadline,
                body={
                    "openid": openid,
                    "reimburse_status": target.value,
                    "invoice_list": [_ref_json(ref) for ref in refs],
                },
            )
