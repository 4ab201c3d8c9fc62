"""The command line: `serve` runs the gateway, `sandbox` runs the WeChat emulator alone."""

import argparse
import asyncio
import json
import logging
import shutil
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from fapiao_gateway.auth.keys import create_key
from fapiao_gateway.bootstrap import Gateway, StartupRefused, start_gateway
from fapiao_gateway.config import load_settings

log = logging.getLogger("fapiao_gateway")

#: How many seeded invoices the sandbox banner shows.
_BANNER_INVOICES = 4


def _grpcurl() -> str:
    """grpcurl as the user can type it: on PATH, else the project virtualenv's copy."""
    if shutil.which("grpcurl"):
        return "grpcurl"
    local = Path(sys.executable).parent / "grpcurl"
    return str(local) if local.exists() else "grpcurl"


def sandbox_banner(gateway: Gateway) -> str:
    """What `serve --sandbox` prints: where it listens, what to try, copy-paste commands."""
    assert gateway.sandbox is not None
    address, grpcurl = gateway.address, _grpcurl()
    emulator = gateway.sandbox.emulator
    accounts = "\n".join(f"  {a.alias:<16} appid {a.appid}" for a in emulator.accounts.values())
    refs = list(emulator.invoices.values())[:_BANNER_INVOICES]
    invoices = "\n".join(
        f"  {inv.status.value:<26} card_id={inv.card_id} encrypt_code={inv.encrypt_code}"
        for inv in refs
    )
    first = refs[0]
    request = json.dumps(
        {
            "account": "sandbox",
            "invoice": {"card_id": first.card_id, "encrypt_code": first.encrypt_code},
        }
    )
    key = gateway.callers.development_key
    auth = f"-H 'authorization: Bearer {key}' " if key else ""
    key_notice = (
        f"\nDEVELOPMENT KEY (sandbox only, new at every start; never use in production):\n  {key}\n"
        if key
        else ""
    )
    return f"""
Fapiao gateway listening on {address} (SANDBOX MODE: WeChat is emulated in process)
{key_notice}
Sandbox accounts (use the alias or the appid as `account`):
{accounts}

Some seeded invoices:
{invoices}

Try:
  {grpcurl} -plaintext {address} list
  {grpcurl} -plaintext {address} describe fapiao.v1.InvoiceService
  {grpcurl} -plaintext {address} grpc.health.v1.Health/Check
  {grpcurl} -plaintext {auth}-d '{request}' {address} fapiao.v1.InvoiceService/GetInvoice

Ctrl-C (SIGINT) or SIGTERM stops it gracefully; SIGHUP reloads the callers (key rotation).
"""


async def serve(args: argparse.Namespace) -> None:
    overrides: dict[str, object] = {}
    if args.sandbox:
        overrides["sandbox"] = True
    if args.listen:
        overrides["listen"] = args.listen
    settings = load_settings(args.config, **overrides)
    logging.getLogger().setLevel(settings.log_level)
    try:
        gateway = await start_gateway(settings)
    except (OSError, StartupRefused) as exc:
        print(f"fapiao-gateway: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    if gateway.sandbox is not None:
        print(sandbox_banner(gateway), flush=True)
    else:
        print(f"Fapiao gateway listening on {gateway.address}", flush=True)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    loop.add_signal_handler(signal.SIGHUP, lambda: reload_callers(gateway, args))
    await stopping.wait()
    log.info("shutting down: health NOT_SERVING, draining calls")
    await gateway.stop()
    print("Fapiao gateway stopped.", flush=True)


def reload_callers(gateway: Gateway, args: argparse.Namespace) -> None:
    """SIGHUP: read the configuration again and put its callers in force (or keep the old)."""
    try:
        gateway.reload_callers(load_settings(args.config))
    except Exception as exc:  # a bad edit must not take the running gateway down
        log.error("reload refused, keeping the callers in force: %s", exc)
        return
    log.info("callers reloaded")


def create_key_command(args: argparse.Namespace) -> None:
    """Prints a new API key once, and the stored form to put in the configuration."""
    settings = load_settings(args.config)
    if settings.auth_secret is None:
        print(
            "fapiao-gateway: set auth_secret first (FAPIAO_AUTH_SECRET or the config file), "
            "e.g. `openssl rand -hex 32`; keys are hashed with it.",
            file=sys.stderr,
        )
        raise SystemExit(2)
    key, stored = create_key(settings.auth_secret.get_secret_value().encode())
    print(f"""API key for the caller (shown only now; send it as `authorization: Bearer <key>`):
  {key}
Stored form (add it to the caller's `keys` in the configuration, then reload with SIGHUP):
  {stored}""")


def migrate_command(args: argparse.Namespace) -> None:
    """Brings the ledger database to the newest schema (serve also does this at start)."""
    from fapiao_gateway.ledger.engine import create_engine, migrate

    settings = load_settings(args.config)

    async def run() -> None:
        engine = create_engine(settings.database_url)
        try:
            await migrate(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())
    print("ledger database is at the newest schema")


def audit_command(args: argparse.Namespace) -> None:
    """Prints the status-change audit trail, newest first, one JSON object per line."""
    from fapiao_gateway.ledger.engine import create_engine, migrate
    from fapiao_gateway.ledger.status_changes import StatusChangeStore

    settings = load_settings(args.config)

    async def run() -> None:
        engine = create_engine(settings.database_url)
        try:
            await migrate(engine)
            entries = await StatusChangeStore(engine).audit_trail(
                accounts=args.account or (), request_id=args.request_id or "", limit=args.limit
            )
        finally:
            await engine.dispose()
        for entry in entries:
            print(
                json.dumps(
                    {
                        "time": entry.created.isoformat() if entry.created else "",
                        "account": entry.account,
                        "caller": entry.caller,
                        "request_id": entry.request_id,
                        "rpc": entry.rpc,
                        "to": entry.to_status.value,
                        "outcome": entry.outcome,
                        "wechat_errcode": entry.wechat_errcode,
                        "invoices": [
                            {
                                "card_id": ref.card_id,
                                "encrypt_code": ref.encrypt_code,
                                "from": s.value if s else "",
                            }
                            for ref, s in entry.invoices
                        ],
                    },
                    ensure_ascii=False,
                )
            )

    asyncio.run(run())


def run_sandbox(args: argparse.Namespace) -> None:
    import uvicorn

    from fapiao_gateway.sandbox.app import create_app, create_sandbox

    print(
        f"WeChat sandbox on http://{args.host}:{args.port} (controls under /sandbox/)", flush=True
    )
    uvicorn.run(create_app(create_sandbox()), host=args.host, port=args.port, log_level="warning")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="fapiao-gateway", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="run the gRPC gateway")
    serve_cmd.add_argument(
        "--sandbox", action="store_true", help="use the built-in WeChat emulator"
    )
    serve_cmd.add_argument("--listen", help="host:port (default 127.0.0.1:50051; port 0 = any)")
    serve_cmd.add_argument("--config", help="TOML config file (also $FAPIAO_CONFIG_FILE)")
    key_cmd = commands.add_parser("create-key", help="make an API key for a caller")
    key_cmd.add_argument("--config", help="TOML config file (also $FAPIAO_CONFIG_FILE)")
    migrate_cmd = commands.add_parser("migrate", help="bring the ledger database schema up to date")
    migrate_cmd.add_argument("--config", help="TOML config file (also $FAPIAO_CONFIG_FILE)")
    audit_cmd = commands.add_parser(
        "audit", help="print the status-change audit trail (JSON lines)"
    )
    audit_cmd.add_argument("--config", help="TOML config file (also $FAPIAO_CONFIG_FILE)")
    audit_cmd.add_argument("--account", action="append", help="only this appid (repeatable)")
    audit_cmd.add_argument("--request-id", help="only this request_id")
    audit_cmd.add_argument("--limit", type=int, default=100)
    sandbox_cmd = commands.add_parser("sandbox", help="run the WeChat emulator standalone")
    sandbox_cmd.add_argument("--host", default="127.0.0.1")
    sandbox_cmd.add_argument("--port", type=int, default=8081)
    return root


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if args.command == "serve":
        asyncio.run(serve(args))
    elif args.command == "create-key":
        create_key_command(args)
    elif args.command == "migrate":
        migrate_command(args)
    elif args.command == "audit":
        audit_command(args)
    else:
        run_sandbox(args)
