"""Import tickets and page origins, without a server."""

from datetime import UTC, datetime, timedelta

import pytest
from fapiao_gateway.auth.directory import CallerDirectory
from fapiao_gateway.auth.import_tickets import ImportTickets
from fapiao_gateway.domain.callers import ImportScope
from fapiao_gateway.domain.errors import Unauthenticated
from fapiao_gateway.domain.import_sessions import origin_of

NOW = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
SCOPE = ImportScope("wx1", "EXP-1", "https://pay.example.com", NOW + timedelta(minutes=5), "erp")


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://Pay.Example.com/h5?x=1#f", "https://pay.example.com"),
        ("https://pay.example.com:443/h5", "https://pay.example.com"),
        ("http://pay.example.com:80/", "http://pay.example.com"),
        ("https://pay.example.com:8443/h5", "https://pay.example.com:8443"),
        ("https://user@pay.example.com/h5", "https://pay.example.com"),
        ("javascript:alert(1)", ""),
        ("https://pay.example.com:99999/", ""),
        ("", ""),
    ],
)
def test_origins_are_normalised(url: str, origin: str) -> None:
    assert origin_of(url) == origin


def test_a_ticket_round_trips_and_is_deterministic() -> None:
    tickets = ImportTickets(b"secret")
    ticket = tickets.mint(SCOPE)
    assert ticket == tickets.mint(SCOPE)
    assert tickets.check(ticket, NOW) == SCOPE
    assert len(ticket) < 250  # it rides in a QR code


def test_expired_forged_and_foreign_tickets_are_refused() -> None:
    tickets = ImportTickets(b"secret")
    ticket = tickets.mint(SCOPE)
    with pytest.raises(Unauthenticated) as expired:
        tickets.check(ticket, SCOPE.expire_time)
    assert expired.value.reason == "IMPORT_TICKET_EXPIRED"
    for bad in (ImportTickets(b"other").mint(SCOPE), ticket + "x", "fit1..", "x" * 2000):
        with pytest.raises(Unauthenticated) as refused:
            tickets.check(bad, NOW)
        assert refused.value.reason == "IMPORT_TICKET_INVALID"


def test_the_directory_turns_a_ticket_into_a_confined_caller_never_cached() -> None:
    directory = CallerDirectory(b"secret", clock=lambda: NOW)
    assert directory.tickets is not None
    ticket = directory.tickets.mint(SCOPE)
    holder = directory.check_key(f"Ticket {ticket}")
    assert holder.scope == SCOPE and holder.accounts == frozenset({"wx1"})
    assert holder.name == "erp/import-ticket"
    directory.clock = lambda: SCOPE.expire_time
    with pytest.raises(Unauthenticated):
        directory.check_key(f"Ticket {ticket}")


def test_without_a_secret_there_are_no_tickets() -> None:
    directory = CallerDirectory(b"")
    assert directory.tickets is None
    forged = ImportTickets(b"guess").mint(SCOPE)
    with pytest.raises(Unauthenticated):
        directory.check_key(f"Ticket {forged}")
    with pytest.raises(ValueError, match="server secret"):
        ImportTickets(b"")
