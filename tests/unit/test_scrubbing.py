"""The scrubber's quick check (logs.py): it never lets through text the full patterns would
change, whatever its case or alphabet."""

from fapiao_gateway import logs
from hypothesis import given
from hypothesis import strategies as st

_WORDS = ("bearer", "fpk_", "token", "secret", "ticket", "aes_key", "password")
_SPELLINGS = st.sampled_from(_WORDS).flatmap(
    lambda word: st.tuples(*(st.sampled_from([c, c.upper()]) for c in word)).map("".join)
)
_TEXT = st.lists(st.one_of(st.text(max_size=20), _SPELLINGS), max_size=6).map("".join)


@given(_TEXT)
def test_the_quick_check_misses_nothing_the_ignore_case_search_finds(text: str) -> None:
    if logs._TRIGGER.search(text):
        assert logs._may_carry_credentials(text)


@given(_TEXT, st.text(alphabet="abcXYZ0123", min_size=1, max_size=12))
def test_credentials_are_redacted_in_any_case(text: str, value: str) -> None:
    for name in ("access_token", "ACCESS_TOKEN", "Secret"):
        line = f"{text} GET /x?{name}={value}"
        assert f"{name}={value}" not in logs.scrub(line)


def test_non_ascii_text_takes_the_full_search() -> None:
    # U+017F (long s) matches "s" under re.IGNORECASE but does not lower to it.
    assert logs._may_carry_credentials("ſecret=abc")
    assert "abc" not in logs.scrub("ſecret=abc")
