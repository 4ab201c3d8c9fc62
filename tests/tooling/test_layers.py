"""The layering rule, checked on the source: dependencies point inward.

services/ (use cases) and domain/ import neither the WeChat adapter nor the ledger; the
ledger does not import the WeChat adapter; domain/ imports nothing of the gateway but
domain/; protobuf stops at api/ (and the composition root that registers the server); metrics
and tracing libraries stay out of the adapters and the use cases."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "server" / "fapiao_gateway"

#: The adapters and use cases report to observers (wechat/observer.py, services.ports
#: ReplayObserver); what acts on the reports (telemetry/) is plugged in by bootstrap.
_TELEMETRY = ("fapiao_gateway.telemetry", "prometheus_client", "opentelemetry")
#: (folder, prefixes its modules may not import)
FORBIDDEN = [
    (
        "services",
        ("fapiao_gateway.ledger", "fapiao_gateway.wechat", "fapiao_gateway.api", "fapiao."),
    ),
    (
        "domain",
        (
            "fapiao_gateway.ledger",
            "fapiao_gateway.wechat",
            "fapiao_gateway.services",
            "fapiao_gateway.api",
            "fapiao_gateway.sandbox",
            "fapiao.",
            "grpc",
            "sqlalchemy",
        ),
    ),
    (
        "ledger",
        (
            "fapiao_gateway.wechat",
            "fapiao_gateway.services",
            "fapiao_gateway.api",
            "fapiao.",
            *_TELEMETRY,
        ),
    ),
    (
        "wechat",
        (
            "fapiao_gateway.ledger",
            "fapiao_gateway.services",
            "fapiao_gateway.api",
            "fapiao.",
            *_TELEMETRY,
        ),
    ),
    ("services", _TELEMETRY),
]


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize(("folder", "forbidden"), FORBIDDEN, ids=[f for f, _ in FORBIDDEN])
def test_dependencies_point_inward(folder: str, forbidden: tuple[str, ...]) -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in sorted((PACKAGE / folder).rglob("*.py"))
        for name in sorted(imports(path))
        if any(
            name == p.rstrip(".") or name.startswith(p if p.endswith(".") else p + ".") or name == p
            for p in forbidden
        )
    ]
    assert not offenders, "\n".join(offenders)


def test_the_check_sees_imports() -> None:
    """The rule is not vacuous: bootstrap does import every layer."""
    found = imports(PACKAGE / "bootstrap.py")
    assert {"fapiao_gateway.ledger.intents", "fapiao_gateway.wechat.invoices"} <= found
