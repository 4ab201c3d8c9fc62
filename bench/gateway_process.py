"""The real gateway as a process: `python -m fapiao_gateway serve --config <toml>`.

Configured the way an operator would: one account (bench/canned.py's appid, alias "bench")
whose base_url is the benchmark's upstream, one caller with an API key made by
auth.keys.create_key, the ledger on the given database. Ready when its health check says
SERVING.
"""

import contextlib
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import grpc
from fapiao_gateway.auth.keys import create_key
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bench import canned, procs


@dataclass(frozen=True)
class Gateway:
    """A running gateway: where it listens, the key to call it with, its process and log."""

    address: str
    api_key: str
    pid: int
    log: Path

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.api_key}"),)


def _toml(value: object) -> str:
    """A TOML value for strings, numbers, booleans and lists of those (JSON's spelling of
    these is valid TOML)."""
    return json.dumps(value, ensure_ascii=False)


def write_config(
    path: Path, *, port: int, upstream_url: str, database_url: str, extra: dict[str, object]
) -> str:
    """Writes the configuration to `path`; returns the caller's API key."""
    auth_secret = secrets.token_hex(32)
    key, stored = create_key(auth_secret.encode())
    settings: dict[str, object] = {
        "listen": f"127.0.0.1:{port}",
        "database_url": database_url,
        "auth_secret": auth_secret,
        "log_level": "INFO",
        # One JSON access line per call: gateway.failures_logged counts the failed ones.
        "log_format": "json",
        **extra,
    }
    lines = [f"{name} = {_toml(value)}" for name, value in settings.items()]
    lines += [
        "[[accounts]]",
        f"appid = {_toml(canned.APPID)}",
        f"secret = {_toml(canned.SECRET)}",
        f"alias = {_toml(canned.ALIAS)}",
        f"base_url = {_toml(upstream_url)}",
        "[[callers]]",
        'name = "bench"',
        'accounts = ["*"]',
        'operations = ["*"]',
        f"keys = [{_toml(str(stored))}]",
    ]
    path.write_text("\n".join(lines) + "\n")
    return key


def serve_options() -> str:
    """What `serve --help` offers (the harness adapts to options the server gains)."""
    return subprocess.run(
        [sys.executable, "-m", "fapiao_gateway", "serve", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def supports_workers() -> bool:
    return "--workers" in serve_options()


def wait_serving(address: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    """Returns once the gateway's health check answers SERVING."""
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(
                    f"the gateway exited with {process.returncode}:\n{procs.tail(log)}"
                )
            with contextlib.suppress(grpc.RpcError):
                answer = health.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if answer.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            time.sleep(0.1)
    raise RuntimeError(f"the gateway did not start in {timeout:g} s:\n{procs.tail(log)}")


@contextlib.contextmanager
def gateway(
    workdir: Path,
    *,
    upstream_url: str,
    database_url: str,
    workers: int = 1,
    command: Sequence[str] = ("-m", "fapiao_gateway"),
    extra: dict[str, object] | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[Gateway]:
    """A gateway serving on a free port until the block ends. `command` runs it through
    another entry point that ends in the same CLI (bench/task_probe.py)."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = procs.free_port()
    config = workdir / "gateway.toml"
    key = write_config(
        config, port=port, upstream_url=upstream_url, database_url=database_url, extra=extra or {}
    )
    # Always explicit: `serve` alone runs one worker per core.
    args = [sys.executable, *command, "serve", "--config", str(config), "--workers", str(workers)]
    log = workdir / "gateway.log"
    environment = {**os.environ, "no_proxy": "*", "NO_PROXY": "*", **(env or {})}
    with procs.running(args, log, env=environment) as process:
        address = f"127.0.0.1:{port}"
        wait_serving(address, process, log, timeout=60)
        yield Gateway(address, key, process.pid, log)
