"""The command line: `serve` runs the gateway; the other commands are what its operators need
beside it (keys, migrations, the audit trail, intents and recovery, reconciliation,
configuration checks, a health probe, a third-party platform's verify ticket, and the WeChat
emulator alone)."""

import argparse
import asyncio
import dataclasses
import json
import logging
import shutil
import signal
import sys
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

from fapiao_gateway.auth.keys import create_key
from fapiao_gateway.config import Settings
from fapiao_gateway.logs import install_scrubbing
from fapiao_gateway.ops import config_check

if TYPE_CHECKING:
    from fapiao_gateway.bootstrap import Gateway

# Commands import what they need when they run: the health probe, run every few seconds by
# container health checks, then starts in a fraction of the time the whole gateway takes.

log = logging.getLogger("fapiao_gateway")

#: How many seeded invoices the sandbox banner shows.
_BANNER_INVOICES = 4


def _grpcurl() -> str:
    """grpcurl as the user can type it: on PATH, else the project virtualenv's copy."""
    if shutil.which("grpcurl"):
        return "grpcurl"
    local = Path(sys.executable).parent / "grpcurl"
    return str(local) if local.exists() else "grpcurl"


def sandbox_banner(gateway: "Gateway") -> str:
    """What `serve --sandbox` prints: where it listens, what to try, copy-paste commands."""
    assert gateway.sandbox is not None
    address, grpcurl = gateway.address, _grpcurl()
    sandbox = gateway.sandbox
    emulator = sandbox.emulator
    accounts = "\n".join(
        [
            *(
                f"  {a.alias:<18} Official Account, appid {a.appid}"
                for a in emulator.accounts.values()
            ),
            *(
                f"  {w.alias:<18} Weixin Work app, corp {w.corp_id}, agent {w.agent_id}"
                for w in sandbox.work.apps.values()
            ),
            *(
                f"  {m.alias:<18} merchant {m.appid} of third-party platform {c.appid}"
                for c in sandbox.components.components.values()
                for m in c.merchants
            ),
        ]
    )
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
Sandbox accounts (use the alias, the appid or the corp ID as `account`):
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


def _fail(message: str) -> SystemExit:
    """Prints `message` as the command's one plain error; exit code 2 (unusable input)."""
    print(f"fapiao-gateway: {message}", file=sys.stderr, flush=True)
    return SystemExit(config_check.EXIT_UNUSABLE)


def load_settings(config_file: str | None, **overrides: object) -> Settings:
    """The settings every command runs with, or a plain error and exit code 2."""
    try:
        return config_check.load(config_file, **overrides)
    except config_check.ConfigUnusable as exc:
        raise _fail(str(exc)) from None


def serve_command(args: argparse.Namespace) -> None:
    """`serve`: one gateway in this process, or a supervisor over several (--workers)."""
    overrides: dict[str, object] = {}
    if args.sandbox:
        overrides["sandbox"] = True
    if args.listen:
        overrides["listen"] = args.listen
    settings = load_settings(args.config, **overrides)
    from fapiao_gateway.telemetry.log_format import configure_logging

    try:
        configure_logging(settings.log_level, settings.log_format)
    except ValueError:
        raise _fail(
            f"log_level {settings.log_level!r}: use DEBUG, INFO, WARNING or ERROR"
        ) from None
    if args.workers is not None and args.workers < 0:
        raise _fail("--workers: a number of processes, 0 or more (0 = one per core)")
    if args.worker_index is None:
        from fapiao_gateway.workers import WorkersRefused, worker_count

        try:
            count = worker_count(settings, args.workers)
        except WorkersRefused as exc:
            raise _fail(str(exc)) from None
        if count > 1:
            raise SystemExit(supervise(args, settings, count))
    asyncio.run(serve(args, settings))


def supervise(args: argparse.Namespace, settings: Settings, count: int) -> int:
    """Runs `count` workers on the configured ports (workers.py); returns the exit code."""
    import os

    from fapiao_gateway.bootstrap import StartupRefused, callers_from
    from fapiao_gateway.telemetry.metrics import MULTIPROCESS_DIR
    from fapiao_gateway.workers import Supervisor, WorkersRefused, metrics_directory, reserve

    try:
        callers_from(settings)  # what every worker would refuse, refused once, here
    except StartupRefused as exc:
        raise _fail(str(exc)) from None

    reserved = []
    env = {**os.environ, "FAPIAO_REUSE_PORT": "true"}
    try:
        grpc_socket, listen = reserve(settings.listen)
        reserved.append(grpc_socket)
        if settings.http_listen:
            http_socket, env["FAPIAO_HTTP_LISTEN"] = reserve(settings.http_listen)
            reserved.append(http_socket)
        if settings.browser_listen:
            browser_socket, env["FAPIAO_BROWSER_LISTEN"] = reserve(settings.browser_listen)
            reserved.append(browser_socket)
    except WorkersRefused as exc:
        for sock in reserved:
            sock.close()
        raise _fail(str(exc)) from None
    worker = [sys.executable, "-m", "fapiao_gateway", "serve", "--listen", listen]
    if args.config:
        worker += ["--config", args.config]
    print(
        f"Fapiao gateway supervisor (pid {os.getpid()}): {count} workers on {listen}",
        flush=True,
    )
    try:
        with metrics_directory(env) as env[MULTIPROCESS_DIR]:
            return Supervisor(
                lambda index: [*worker, "--worker-index", str(index)],
                count,
                env,
                settings.shutdown_grace_seconds,
            ).run()
    finally:
        for sock in reserved:
            sock.close()


async def serve(args: argparse.Namespace, settings: Settings) -> None:
    from fapiao_gateway.bootstrap import StartupRefused, start_gateway

    try:
        gateway = await start_gateway(settings)
    except (OSError, StartupRefused) as exc:
        raise _fail(str(exc)) from None
    if gateway.http_port is not None:
        host = settings.http_listen.rpartition(":")[0]
        print(f"HTTP endpoint on http://{host}:{gateway.http_port}", flush=True)
    if gateway.sandbox is not None:
        print(sandbox_banner(gateway), flush=True)
    elif args.worker_index is not None:
        print(
            f"Fapiao gateway listening on {gateway.address} (worker {args.worker_index})",
            flush=True,
        )
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


def reload_callers(gateway: "Gateway", args: argparse.Namespace) -> None:
    """SIGHUP: read the configuration again and put its callers in force (or keep the old)."""
    try:
        gateway.reload_callers(config_check.load(args.config))
    except Exception as exc:  # a bad edit must not take the running gateway down
        log.error("reload refused, keeping the callers in force: %s", exc)
        return
    log.info("callers reloaded")


def create_key_command(args: argparse.Namespace) -> None:
    """Prints a new API key once, and the stored form to put in the configuration."""
    settings = load_settings(args.config)
    if settings.auth_secret is None:
        raise _fail(
            "set auth_secret first (FAPIAO_AUTH_SECRET or the config file), "
            "e.g. `openssl rand -hex 32`; keys are hashed with it."
        )
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
    from fapiao_gateway.admin import audit_trail

    entries = asyncio.run(
        audit_trail(
            load_settings(args.config),
            accounts=args.account or (),
            request_id=args.request_id or "",
            biz_code=args.biz_code or "",
            limit=args.limit,
        )
    )
    for entry in entries:
        print(json.dumps(entry, ensure_ascii=False))


def reconcile_command(args: argparse.Namespace) -> None:
    """Runs one reconciliation round now (for cron), one JSON object per account."""
    from fapiao_gateway.admin import reconcile_now

    for summary in asyncio.run(reconcile_now(load_settings(args.config))):
        print(json.dumps(summary, ensure_ascii=False))


def archive_command(args: argparse.Namespace) -> None:
    """`archive verify`: re-hashes the archive; prints each problem and a summary (JSON
    lines); exits 1 when any file no longer matches its digest or is missing."""
    from fapiao_gateway.admin import verify_archive

    report = asyncio.run(verify_archive(load_settings(args.config)))
    for problem in report.problems:
        print(json.dumps(dataclasses.asdict(problem), ensure_ascii=False))
    print(json.dumps({"checked": report.checked, "problems": len(report.problems)}))
    if report.problems:
        raise SystemExit(1)


def intents_command(args: argparse.Namespace) -> None:
    """Prints the intents not settled yet, oldest first, one JSON object per line."""
    from fapiao_gateway.admin import unsettled_intents

    for intent in asyncio.run(unsettled_intents(load_settings(args.config))):
        print(json.dumps(intent, ensure_ascii=False))


def recover_command(args: argparse.Namespace) -> None:
    """Settles every intent that is due now (what each gateway also does periodically)."""
    from fapiao_gateway.admin import recover_now

    settled, left = asyncio.run(recover_now(load_settings(args.config)))
    print(f"settled {settled} intent(s); {left} not settled yet (see `fapiao-gateway intents`)")


def config_check_command(args: argparse.Namespace) -> None:
    """Validates the configuration `serve` would run with; the exit code says if it is usable."""
    raise SystemExit(config_check.check(args.config, strict=args.strict, say=print))


def config_example_command(args: argparse.Namespace) -> None:
    """Prints (or writes) the commented example configuration, made from the settings model."""
    from fapiao_gateway.ops import config_example

    text = config_example.example_config()
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    else:
        print(text, end="")


def health_command(args: argparse.Namespace) -> None:
    """Exit 0 when the gateway says SERVING, 1 otherwise (for container health checks)."""
    import grpc

    from fapiao_gateway.ops import health_probe

    address = args.address or health_probe.probe_address(load_settings(args.config))
    tls = None
    if args.ca_file:
        tls = health_probe.ProbeTls(
            Path(args.ca_file),
            Path(args.cert_file) if args.cert_file else None,
            Path(args.key_file) if args.key_file else None,
            args.server_name or "",
        )
    try:
        status = asyncio.run(health_probe.check(address, args.service, args.timeout, tls))
    except grpc.aio.AioRpcError as exc:
        unknown = exc.code() is grpc.StatusCode.NOT_FOUND
        reason = f"no health status for service {args.service!r}" if unknown else exc.details()
        print(f"{address}: {exc.code().name}: {reason}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"{address} {args.service or '(server)'}: {status}")
    raise SystemExit(0 if status == "SERVING" else 1)


def component_command(args: argparse.Namespace) -> None:
    """Stores a component_verify_ticket in the shared token store (`component set-ticket`)."""
    from fapiao_gateway.ops.component_ticket import TicketRefused, set_verify_ticket

    ticket = sys.stdin.readline().strip() if args.ticket == "-" else args.ticket
    try:
        asyncio.run(set_verify_ticket(load_settings(args.config), args.component_appid, ticket))
    except TicketRefused as refused:
        raise _fail(str(refused)) from None
    print(f"component_verify_ticket stored for {args.component_appid}")


def run_sandbox(args: argparse.Namespace) -> None:
    import uvicorn

    from fapiao_gateway.sandbox.app import create_app, create_sandbox

    print(
        f"WeChat sandbox on http://{args.host}:{args.port} (controls under /sandbox/)", flush=True
    )
    uvicorn.run(create_app(create_sandbox()), host=args.host, port=args.port, log_level="warning")


CONFIG_HELP = "TOML configuration file (default: $FAPIAO_CONFIG_FILE, else none)"


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="fapiao-gateway", description=__doc__)
    root.add_argument(
        "--version", action="version", version=f"%(prog)s {version('fapiao-gateway')}"
    )
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve_cmd = commands.add_parser("serve", help="run the gRPC gateway")
    serve_cmd.add_argument(
        "--sandbox", action="store_true", help="use the built-in WeChat emulator (no credentials)"
    )
    serve_cmd.add_argument("--listen", help="host:port (default 127.0.0.1:50051; port 0 = any)")
    serve_cmd.add_argument("--config", help=CONFIG_HELP)
    serve_cmd.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="gateway processes on the one port, under a supervisor (default: the `workers` "
        "setting; 0 = one per CPU core, one in sandbox mode)",
    )
    serve_cmd.add_argument(
        "--worker-index",
        type=int,
        metavar="I",
        help="internal: set by the supervisor on the workers it starts (serves as one worker)",
    )

    key_cmd = commands.add_parser("create-key", help="make an API key for a caller")
    key_cmd.add_argument("--config", help=CONFIG_HELP)

    migrate_cmd = commands.add_parser("migrate", help="bring the ledger database schema up to date")
    migrate_cmd.add_argument("--config", help=CONFIG_HELP)

    audit_cmd = commands.add_parser("audit", help="print the audit trail (JSON lines)")
    audit_cmd.add_argument("--config", help=CONFIG_HELP)
    audit_cmd.add_argument(
        "--account",
        action="append",
        metavar="NAME",
        help="only this account, by appid or alias (repeatable)",
    )
    audit_cmd.add_argument("--request-id", help="only this request_id")
    audit_cmd.add_argument("--biz-code", help="only this bizCode")
    audit_cmd.add_argument(
        "--limit", type=int, default=100, help="most entries to print (default 100)"
    )

    intents_cmd = commands.add_parser(
        "intents", help="print the intents not settled yet (JSON lines; docs/intents.md)"
    )
    intents_cmd.add_argument("--config", help=CONFIG_HELP)
    recover_cmd = commands.add_parser(
        "recover", help="settle every intent that is due now (recovery runs in `serve` too)"
    )
    recover_cmd.add_argument("--config", help=CONFIG_HELP)
    reconcile_cmd = commands.add_parser(
        "reconcile",
        help="re-read the ledger's open invoices once, within the day's quota share, and "
        "follow WeChat (serve does it every reconcile.interval_seconds)",
    )
    reconcile_cmd.add_argument("--config", help=CONFIG_HELP)

    archive_cmd = commands.add_parser("archive", help="look after the documents' archive")
    archive_actions = archive_cmd.add_subparsers(dest="archive_command", required=True)
    verify_cmd = archive_actions.add_parser(
        "verify",
        help="re-hash every archived file; report (and exit 1 for) any that no longer "
        "matches its SHA-256 or is missing",
    )
    verify_cmd.add_argument("--config", help=CONFIG_HELP)

    config_cmd = commands.add_parser("config", help="check or generate the configuration")
    config_actions = config_cmd.add_subparsers(
        dest="config_command", required=True, metavar="ACTION"
    )
    check_cmd = config_actions.add_parser(
        "check",
        help="validate the configuration serve would use; exit 2 when unusable",
        description=config_check.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check_cmd.add_argument("--config", help=CONFIG_HELP)
    check_cmd.add_argument(
        "--strict", action="store_true", help="exit 1 when there are warnings (no errors)"
    )
    example_cmd = config_actions.add_parser(
        "example", help="print the commented example configuration (every setting)"
    )
    example_cmd.add_argument(
        "--output", metavar="FILE", help="write it to FILE instead of standard output"
    )

    health_cmd = commands.add_parser(
        "health", help="ask a running gateway's health service; exit 0 when SERVING"
    )
    health_cmd.add_argument(
        "--address",
        help="host:port to probe (default: the configured listen address, on loopback)",
    )
    health_cmd.add_argument("--config", help=CONFIG_HELP + "; read for the address only")
    health_cmd.add_argument(
        "--service",
        default="",
        help='service to ask about (default "": the whole server; e.g. "fapiao.v1.InvoiceService")',
    )
    health_cmd.add_argument(
        "--timeout", type=float, default=3.0, help="seconds to wait for the answer (default 3)"
    )
    health_cmd.add_argument("--ca-file", help="PEM CA of the gateway's certificate: probe over TLS")
    health_cmd.add_argument("--cert-file", help="PEM client certificate (mutual TLS)")
    health_cmd.add_argument("--key-file", help="PEM key of --cert-file (mutual TLS)")
    health_cmd.add_argument(
        "--server-name", help="the name in the gateway's certificate, if not the address's host"
    )

    component_cmd = commands.add_parser(
        "component", help="third-party platforms: set a component_verify_ticket by hand"
    )
    component_actions = component_cmd.add_subparsers(
        dest="component_command", required=True, metavar="ACTION"
    )
    set_ticket = component_actions.add_parser(
        "set-ticket",
        help="store a component_verify_ticket in the shared token store (token_store = redis)",
    )
    set_ticket.add_argument("--config", help=CONFIG_HELP)
    set_ticket.add_argument("component_appid", help="the configured component_appid")
    set_ticket.add_argument("ticket", help='the ticket, or "-" to read it from standard input')

    sandbox_cmd = commands.add_parser("sandbox", help="run the WeChat emulator standalone")
    sandbox_cmd.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    sandbox_cmd.add_argument(
        "--port", type=int, default=8081, help="port to listen on (default 8081)"
    )
    return root


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    install_scrubbing()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # Alembic announces each of its plugins at INFO when imported: noise, not news.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    if args.command == "serve":
        serve_command(args)
    elif args.command == "create-key":
        create_key_command(args)
    elif args.command == "migrate":
        migrate_command(args)
    elif args.command == "audit":
        audit_command(args)
    elif args.command == "intents":
        intents_command(args)
    elif args.command == "recover":
        recover_command(args)
    elif args.command == "reconcile":
        reconcile_command(args)
    elif args.command == "archive":
        archive_command(args)
    elif args.command == "config" and args.config_command == "check":
        config_check_command(args)
    elif args.command == "config":
        config_example_command(args)
    elif args.command == "health":
        health_command(args)
    elif args.command == "component":
        component_command(args)
    else:
        run_sandbox(args)
