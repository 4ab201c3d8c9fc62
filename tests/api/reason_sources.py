"""Where the reasons are: the ErrorInfo reasons the server's code can raise, and the reasons
docs/errors.md documents, each with the place it was found so a failure points at it."""

import ast
import functools
import re
from collections import defaultdict
from pathlib import Path

import grpc

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "server" / "fapiao_gateway"
DOCS = ROOT / "docs" / "errors.md"
#: The WeChat emulator answers WeChat's JSON, not the gateway's errors; the archive's ledger
#: stores why a download failed in a column named `reason` (it reaches callers only as the
#: fetch_error metadata of DOCUMENT_FETCH_FAILED, never as a reason).
NOT_SCANNED = ("sandbox", "ledger/documents.py")
REASON = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")

#: Calls that make a reason from a literal, and which argument holds it: the domain errors
#: (reason=...), the errcode tables' rows (Errcode(code, reason, ...)) and GetInvoices'
#: per-invoice failures (LookupFailure(reason, ...)).
_POSITIONAL = {"Errcode": 1, "LookupFailure": 0}

#: `reason=` arguments that are not literals, each with the reasons it can carry. A new one
#: fails test_no_reason_is_made_where_the_scan_cannot_see until it is listed here.
PASSED_ON: dict[tuple[str, str], frozenset[str]] = {
    # The error mapper, the errcode tables' error maker and GetInvoices' slots carry a
    # reason made elsewhere.
    ("api/errors.py", "error.reason"): frozenset(),
    ("api/convert.py", "result.reason"): frozenset(),
    ("services/invoices.py", "error.reason"): frozenset(),
    ("wechat/errcodes.py", "row.reason"): frozenset(),
    # A status change the ledger refuses: the type of its first violation (why_not in
    # domain/status_changes.py, checked by test_passed_on_reasons_are_what_why_not_says).
    ("services/status.py", "violations[0].type"): frozenset(
        {"INVOICE_OWNER_MISMATCH", "INVOICE_NOT_LOCKED", "INVOICE_STATUS_CONFLICT"}
    ),
    # An import ticket refused: malformed or forged (the default), or expired.
    ("auth/import_tickets.py", "reason"): frozenset(
        {"IMPORT_TICKET_INVALID", "IMPORT_TICKET_EXPIRED"}
    ),
    # WatchImport's last message says why the session ended: a proto enum, not an error.
    ("api/servicer.py", "watch_pb.IMPORT_SESSION_END_REASON_EXPIRED"): frozenset(),
    # GetInvoiceDocument's NOT_FOUND, by the state of the document's record.
    ("domain/documents.py", "reason"): frozenset(
        {"DOCUMENT_NOT_ARCHIVED", "DOCUMENT_PENDING", "DOCUMENT_FETCH_FAILED"}
    ),
}


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


@functools.cache
def code_reasons() -> tuple[dict[str, list[str]], list[str]]:
    """{reason: ["file:line", ...]} for every reason the package makes, and the places that
    pass a non-literal reason not listed in PASSED_ON."""
    found: dict[str, list[str]] = defaultdict(list)
    unseen: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith(NOT_SCANNED):
            continue
        source = path.read_text()
        if "reason" not in source and not any(f"{call}(" in source for call in _POSITIONAL):
            continue  # nothing to find: spare the parse
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.Call):
                continue
            where = f"server/fapiao_gateway/{relative}:{node.lineno}"
            values: list[ast.expr] = [k.value for k in node.keywords if k.arg == "reason"]
            index = _POSITIONAL.get(_name(node.func))
            if index is not None and len(node.args) > index:
                values.append(node.args[index])
            for value in values:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    found[value.value].append(where)
                    continue
                text = ast.get_source_segment(source, value) or ""
                passed = PASSED_ON.get((relative, text))
                if passed is None:
                    unseen.append(f"{where}: reason={text}")
                for reason in passed or ():
                    found[reason].append(where)
    return dict(found), unseen


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def documented_reasons() -> dict[str, list[str]]:
    """{reason: ["docs/errors.md:line", ...]}: the UPPER_SNAKE words of every table's
    `reason` column, and those in `backticks` in the prose."""
    return {reason: [where for where, _ in found] for reason, found in _documented().items()}


def documented_codes() -> dict[str, set[str]]:
    """{reason: the gRPC code names docs/errors.md gives it}: the code column of each table
    row the reason is in (none for a reason only the prose names)."""
    return {
        reason: {code for _, codes in found for code in codes}
        for reason, found in _documented().items()
    }


def _documented() -> dict[str, list[tuple[str, frozenset[str]]]]:
    """{reason: [(where, the code names of its row), ...]} from docs/errors.md."""
    found: dict[str, list[tuple[str, frozenset[str]]]] = defaultdict(list)
    column: int | None = None
    code_column = -1
    for number, line in enumerate(DOCS.read_text().splitlines(), start=1):
        where = f"docs/errors.md:{number}"
        if not line.startswith("|"):
            column = None
            for word in re.findall(r"`([A-Z0-9_]+)`", line):
                if REASON.fullmatch(word):
                    found[word].append((where, frozenset()))
            continue
        cells = _cells(line)
        if column is None:  # a table's header
            names = [c.lower() for c in cells]
            column = next((i for i, c in enumerate(names) if c.startswith("reason")), -1)
            code_column = names.index("code") if "code" in names else -1
            continue
        if column < 0 or set(line) <= set("|- "):
            continue
        codes = (
            frozenset(
                word for word in re.findall(r"[A-Z_]+", cells[code_column]) if word in _GRPC_CODES
            )
            if code_column >= 0
            else frozenset()
        )
        for word in REASON.findall(cells[column]):
            found[word].append((where, codes))
    return dict(found)


_GRPC_CODES = frozenset(code.name for code in grpc.StatusCode)


def documented_errcodes() -> dict[str, dict[int, tuple[str, str, str]]]:
    """The platform tables of docs/errors.md: {platform: {errcode: (code, reason, line)}},
    the platform named by the bold `platform = "..."` that opens the table's section."""
    tables: dict[str, dict[int, tuple[str, str, str]]] = defaultdict(dict)
    platform = ""
    for number, line in enumerate(DOCS.read_text().splitlines(), start=1):
        opening = re.match(r'\*\*.*`platform = "(\w+)"`', line)
        if opening:
            platform = opening.group(1)
        cells = _cells(line) if line.startswith("|") else []
        if platform and len(cells) == 4 and re.fullmatch(r"-?\d+", cells[0]):
            tables[platform][int(cells[0])] = (cells[2], cells[3], f"docs/errors.md:{number}")
    return dict(tables)
