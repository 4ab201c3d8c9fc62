"""The company-wide duplicate guard in the import use case: another card of a fapiao the
ledger holds is refused before anything is locked at WeChat."""

from fapiao_gateway.domain.errors import GatewayError, InvoiceDuplicate
from fapiao_gateway.domain.imports import ImportResult
from fapiao_gateway.domain.status import ReimburseStatus

from tests.services.world import World, import_picks, invoices, ref, run

ZHANG, TWIN = invoices()[:6], invoices()[-1]


async def test_another_card_of_a_held_fapiao_is_refused_with_no_lock_written() -> None:
    world = World.new()
    first = await run(world.process("p"), import_picks("a", "EXP-A", ZHANG[:1], lock=False))
    assert isinstance(first, ImportResult)
    writes = world.wechat.writes_sent
    refused = await run(world.process("p"), import_picks("b", "EXP-B", [ZHANG[1], TWIN]))
    assert isinstance(refused, InvoiceDuplicate), refused
    assert refused.metadata["biz_code"] == "EXP-A"
    assert refused.metadata["holder_account"] == first.invoices[0].account
    assert refused.metadata["holder_import_time"] == first.invoices[0].import_time.isoformat()
    assert world.wechat.writes_sent == writes  # nothing locked at WeChat
    assert world.status(ZHANG[1]) is ReimburseStatus.INIT
    account = first.invoices[0].account
    assert await world.ledger.entries(account, [ref(ZHANG[1]), ref(TWIN)]) == {}


async def test_two_cards_of_one_fapiao_in_one_request_are_invalid() -> None:
    world = World.new()
    refused = await run(world.process("p"), import_picks("a", "EXP-A", [ZHANG[0], TWIN]))
    assert isinstance(refused, GatewayError) and refused.reason == "INVALID_REQUEST_FIELDS"
    assert [v.field for v in refused.field_violations] == ["invoices[1]"]
    assert world.wechat.writes_sent == 0
