"""The reasons in reason_table.REASONS, docs/errors.md and the server's code are the same set.

A failure names the row to add or remove and where the reason was found: the file and line
in the code, or the line of docs/errors.md.
"""

import itertools

import pytest
from fapiao_gateway.domain.accounts import Platform
from fapiao_gateway.domain.invoice import InvoiceRef
from fapiao_gateway.domain.status import ReimburseStatus
from fapiao_gateway.domain.status_changes import KnownInvoice, why_not
from fapiao_gateway.wechat import errcode_tables
from fapiao_gateway.wechat.errcodes import ERRCODES

from tests.api.reason_sources import (
    PASSED_ON,
    code_reasons,
    documented_codes,
    documented_errcodes,
    documented_reasons,
)
from tests.api.reason_table import BY_EFFECT, REASONS


def _listing(found: dict[str, list[str]], reasons: set[str]) -> str:
    return "\n".join(f"  {r}  ({', '.join(found[r][:3])})" for r in sorted(reasons))


def test_every_reason_in_the_docs_has_a_row_and_every_row_is_in_the_docs() -> None:
    documented = documented_reasons()

    undocumented = set(REASONS) - set(documented)
    assert not undocumented, (
        "rows of tests/api/reason_table.py that docs/errors.md does not document (add them "
        f"to its tables): {sorted(undocumented)}"
    )
    unlisted = set(documented) - set(REASONS)
    assert not unlisted, (
        "reasons docs/errors.md documents with no row in tests/api/reason_table.py:\n"
        + _listing(documented, unlisted)
    )


def test_each_row_has_the_codes_the_docs_give_its_reason() -> None:
    documented = documented_codes()

    wrong = {
        reason: (sorted(c.name for c in row.codes), sorted(documented.get(reason, ())))
        for reason, row in REASONS.items()
        if {c.name for c in row.codes} != documented.get(reason, set())
    }
    assert not wrong, f"reason: (codes in reason_table.py, codes in docs/errors.md): {wrong}"


def test_every_reason_the_code_makes_has_a_row_and_every_row_is_made() -> None:
    made, _ = code_reasons()

    unlisted = set(made) - set(REASONS)
    assert not unlisted, (
        "reasons the server makes with no row in tests/api/reason_table.py nor in "
        "docs/errors.md:\n" + _listing(made, unlisted)
    )
    never_made = set(REASONS) - set(made)
    assert not never_made, (
        "rows of tests/api/reason_table.py (and docs/errors.md) no code of the server makes: "
        f"{sorted(never_made)}"
    )


def test_no_reason_is_made_where_the_scan_cannot_see() -> None:
    _, unseen = code_reasons()

    assert not unseen, (
        "reason= arguments that are not literals: list each in reason_sources.PASSED_ON with "
        "the reasons it can carry:\n  " + "\n  ".join(unseen)
    )


def test_passed_on_reasons_are_what_why_not_says() -> None:
    ref = InvoiceRef("card", "code")
    said = set()
    for current, target, owner in itertools.product(
        ReimburseStatus, ReimburseStatus, ("", "someone-else")
    ):
        violation = why_not(ref, KnownInvoice(current, "openid"), target, owner)
        if violation is not None:
            said.add(violation.type)

    assert said == PASSED_ON[("services/status.py", "violations[0].type")]


@pytest.mark.parametrize("platform", [Platform.WORK, Platform.COMPONENT])
def test_the_docs_platform_tables_say_what_the_code_tables_do(platform: Platform) -> None:
    documented = documented_errcodes()[platform.value]
    table = errcode_tables.table(platform)
    # the component table repeats the Official Account's rows: its own are the others
    own = {code: row for code, row in table.items() if ERRCODES.get(code) != row}

    wrong = []
    for errcode, (code, reason, where) in documented.items():
        row = table.get(errcode)
        actual = "no row" if row is None else f"{BY_EFFECT[row.effect][0].name} {row.reason}"
        if actual != f"{code} {reason}":
            wrong.append(f"{where}: {errcode} documented {code} {reason}, the code says {actual}")
    missing = sorted(set(own) - set(documented))
    assert not wrong, "\n".join(wrong)
    assert not missing, f"{platform.value} errcodes with no row in docs/errors.md: {missing}"
