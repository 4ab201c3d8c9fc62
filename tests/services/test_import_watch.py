"""ImportWatcher with in-memory ports: the session ending while the watcher sleeps."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from fapiao_gateway.domain.errors import NotFound
from fapiao_gateway.domain.import_sessions import ImportSession
from fapiao_gateway.domain.imports import Cursor, SearchFilters, SearchPage
from fapiao_gateway.notify.local import LocalHub
from fapiao_gateway.services.import_watch import ImportWatcher, SessionEnded


class Sessions:
    def __init__(self, session: ImportSession | None) -> None:
        self.session = session

    async def find(self, account: str, biz_code: str) -> ImportSession | None:
        return self.session


class EmptyLedger:
    """Only search is used by the watcher."""

    async def search(self, filters: SearchFilters, cursor: Cursor | None, limit: int) -> SearchPage:
        return SearchPage()

    def __getattr__(self, name: str) -> Sequence[object]:
        raise AssertionError(f"the watcher does not call {name}")


async def test_the_watch_ends_when_the_session_expires_while_it_waits() -> None:
    expiry = datetime.now(UTC) + timedelta(milliseconds=200)
    session = ImportSession("wx1", "EXP-1", "erp", "https://pay.example.com/h5", expiry)
    hub = LocalHub()
    watcher = ImportWatcher(EmptyLedger(), Sessions(session), hub)  # type: ignore[arg-type]
    events = [event async for event in watcher.watch("wx1", "EXP-1")]
    assert events == [SessionEnded(expiry, 0)]
    assert hub.watched == 0  # the watcher left the hub


async def test_a_renewed_session_keeps_the_watch_open_until_the_new_expiry() -> None:
    first = datetime.now(UTC) - timedelta(seconds=1)
    sessions = Sessions(ImportSession("wx1", "EXP-2", "erp", "https://p.example/h5", first))
    renewed = datetime.now(UTC) + timedelta(milliseconds=200)

    class Renewing(Sessions):
        calls = 0

        async def find(self, account: str, biz_code: str) -> ImportSession | None:
            self.calls += 1
            assert sessions.session is not None
            if self.calls == 1:
                return sessions.session
            return ImportSession("wx1", "EXP-2", "erp", "https://p.example/h5", renewed)

    watcher = ImportWatcher(EmptyLedger(), Renewing(None), LocalHub())  # type: ignore[arg-type]
    events = [event async for event in watcher.watch("wx1", "EXP-2")]
    assert events == [SessionEnded(renewed, 0)]


async def test_no_session_is_not_found() -> None:
    watcher = ImportWatcher(EmptyLedger(), Sessions(None), LocalHub())  # type: ignore[arg-type]
    with pytest.raises(NotFound) as missing:
        async for _ in watcher.watch("wx1", "NOPE"):
            pass
    assert missing.value.reason == "IMPORT_SESSION_NOT_FOUND"
