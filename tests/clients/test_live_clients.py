"""Every language's generated client against a live gateway: every RPC, and rich errors.

For each language: the standalone WeChat sandbox (`fapiao-gateway sandbox`, told the
faults in cases.FAULTS) and a real gateway process (`fapiao-gateway serve`) configured
against it, with its own SQLite ledger in a temp dir. The language's driver runs the cases
of cases.py through its generated stub and error-detail helper; its read-and-lock example
then runs twice, the second time meeting the lock of the first.

The sandbox runs standalone rather than inside the gateway (`serve --sandbox`) so that a
test in another process can inject faults: that is how RetryInfo and QuotaFailure reach
every language.
"""

import json
import os
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fapiao.v1 import invoice_service_pb2
from fapiao_gateway.sandbox import seed

from tests.clients import cases
from tests.clients.toolchains import CLIENTS, Client
from tests.support import auth
from tests.support.processes import standalone_sandbox, started

SERVICE = invoice_service_pb2.DESCRIPTOR.services_by_name["InvoiceService"]
IMPORT_PAGE = "https://reimburse.example.com/wechat/import"


@dataclass(frozen=True)
class LiveGateway:
    address: str
    api_key: str

    def env(self, **more: str) -> dict[str, str]:
        return {
            **os.environ,
            "FAPIAO_ADDRESS": self.address,
            "FAPIAO_API_KEY": self.api_key,
            **more,
        }


def gateway_env(sandbox_url: str, stored_key: str, ledger: Path) -> dict[str, str]:
    """A production-shaped configuration: accounts at the sandbox, one caller, fast retries."""
    accounts = [
        {"appid": a.appid, "secret": a.secret, "alias": a.alias, "base_url": sandbox_url}
        for a in seed.ACCOUNTS
    ]
    callers = [auth.caller("live-test", ["*"], ["*"], stored_key)]
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("FAPIAO_")}
    return inherited | {
        "FAPIAO_ACCOUNTS": json.dumps(accounts),
        "FAPIAO_CALLERS": json.dumps(callers),
        "FAPIAO_AUTH_SECRET": auth.TEST_AUTH_SECRET,
        "FAPIAO_DATABASE_URL": f"sqlite+aiosqlite:///{ledger}",
        "FAPIAO_IMPORT_PAGE_URL": IMPORT_PAGE,
        "FAPIAO_UPSTREAM__MAX_ATTEMPTS": "2",
        "FAPIAO_UPSTREAM__BACKOFF_BASE_SECONDS": "0.001",
        "FAPIAO_UPSTREAM__BACKOFF_MAX_SECONDS": "0.005",
    }


@asynccontextmanager
async def live_gateway(tmp_path: Path) -> AsyncIterator[LiveGateway]:
    """The sandbox with the cases' faults, and a gateway process in front of it."""
    async with asynccontextmanager(standalone_sandbox)() as sandbox_url:
        async with httpx.AsyncClient() as http:
            for fault in cases.FAULTS:
                body = fault | {"appid": cases.FAULTED_ACCOUNT.appid}
                (await http.post(f"{sandbox_url}/sandbox/faults", json=body)).raise_for_status()
        key, stored = auth.new_key()
        env = gateway_env(sandbox_url, stored, tmp_path / "ledger.db")
        process, banner = await started(
            "serve", "--listen", "127.0.0.1:0", env=env, ready="Fapiao gateway listening on"
        )
        try:
            address = banner.rsplit("listening on ", 1)[1].split()[0]
            yield LiveGateway(address, key)
        finally:
            process.terminate()
            await process.wait()


def available(client: Client) -> Client:
    missing = client.missing()
    if missing:
        pytest.skip(f"the {client.language} client cannot be built here: {missing}")
    return client


def run(command: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def check_outputs(lines: list[dict], table: list[cases.Case]) -> None:
    assert [line["name"] for line in lines] == [c.name for c in table]
    for line, case in zip(lines, table, strict=True):
        if "error" in line:
            assert set(line["error"]) == cases.error_json_paths(), case.name
        else:
            assert "response" in line, line
        for path, expected in case.expect.items():
            try:
                found = cases.at(line, path)
            except KeyError as missing:
                raise AssertionError(f"{case.name}: {missing}; got {line}") from None
            assert found == expected, f"{case.name}: {path} is {found!r}, not {expected!r}"


def test_every_rpc_has_a_case() -> None:
    called = {c.method for c in cases.cases()}
    assert called == {m.name for m in SERVICE.methods}


def test_the_cases_read_every_error_detail_type() -> None:
    errors = [c.expect for c in cases.cases() if "error.code" in c.expect]
    read = {path.split(".")[1] for expect in errors for path in expect}
    assert read >= {
        "reason",  # ErrorInfo
        "fieldViolations",  # BadRequest
        "preconditionViolations",  # PreconditionFailure
        "retryDelayMs",  # RetryInfo
        "resource",  # ResourceInfo
        "quotaViolations",  # QuotaFailure
    }


@pytest.mark.parametrize("language", sorted(CLIENTS))
async def test_client_calls_every_rpc_and_reads_rich_errors(language: str, tmp_path: Path) -> None:
    client = available(CLIENTS[language])
    built = client.build()
    table = cases.cases()
    case_file = tmp_path / "cases.json"
    case_file.write_text(json.dumps([c.wire() for c in table]))
    async with live_gateway(tmp_path) as gateway:
        env = gateway.env(FAPIAO_LIVE_CASES=str(case_file))
        out = run(client.driver(built), env)
        lines = [json.loads(line) for line in out.splitlines() if line.strip()]
        check_outputs(lines, table)

        example = [*client.example(built), cases.EXAMPLE.card_id, cases.EXAMPLE.encrypt_code]
        first = run([*example, "EXAMPLE-1"], gateway.env())
        second = run([*example, "EXAMPLE-2"], gateway.env())
    number = cases.EXAMPLE.payload["user_info"]["billing_no"]
    assert first.splitlines()[0].startswith(f"read {number}: ")
    assert first.splitlines()[1] == "locked for EXAMPLE-1"
    assert second.splitlines()[1] == (
        "lock conflict: held by bizCode:EXAMPLE-1 (INVOICE_ALREADY_IMPORTED)"
    )
