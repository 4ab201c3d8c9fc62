"""The command line as operators meet it: help on every flag, --version, the health probe."""

import argparse
from importlib.metadata import version
from pathlib import Path

from fapiao_gateway.api.server import SERVICE_NAME
from fapiao_gateway.bootstrap import Gateway
from fapiao_gateway.cli import parser

from tests.deploy.conftest import clean_environment
from tests.support.certs import Authority
from tests.support.processes import free_port, run


def _commands(command: argparse.ArgumentParser, path: str = "fapiao-gateway"):
    yield path, command
    for action in command._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, f"{path} {name}")


def test_every_command_and_flag_says_what_it_does() -> None:
    seen = 0
    for path, command in _commands(parser()):
        for action in command._actions:
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    assert choice.help, f"{path} {choice.dest}: no help"
            elif action.option_strings:
                assert action.help and action.help != argparse.SUPPRESS, (
                    f"{path} {action.option_strings}: no help"
                )
                seen += 1
    assert seen > 20  # the walk reached the subcommands' flags


async def test_version_is_the_installed_package_version() -> None:
    code, out, _ = await run("--version")
    assert code == 0
    assert out.strip() == f"fapiao-gateway {version('fapiao-gateway')}"


async def test_health_reports_a_serving_gateway(gateway: Gateway) -> None:
    code, out, _ = await run("health", "--address", gateway.address)
    assert code == 0 and out.strip() == f"{gateway.address} (server): SERVING"
    code, out, _ = await run("health", "--address", gateway.address, "--service", SERVICE_NAME)
    assert code == 0 and out.strip().endswith(f"{SERVICE_NAME}: SERVING")


async def test_health_reads_the_address_from_the_configuration(gateway: Gateway) -> None:
    port = gateway.address.rsplit(":", 1)[1]
    env = {**clean_environment(), "FAPIAO_LISTEN": f"0.0.0.0:{port}"}
    code, out, _ = await run("health", env=env)
    assert code == 0 and out.strip() == f"127.0.0.1:{port} (server): SERVING"


async def test_health_fails_for_an_unknown_service(gateway: Gateway) -> None:
    code, _, err = await run("health", "--address", gateway.address, "--service", "no.Such")
    assert code == 1
    assert "NOT_FOUND: no health status for service 'no.Such'" in err


async def test_health_fails_when_nothing_listens() -> None:
    address = f"127.0.0.1:{free_port()}"
    code, _, err = await run("health", "--address", address, "--timeout", "1")
    assert code == 1 and err.startswith(f"{address}: UNAVAILABLE")


async def test_health_fails_once_the_gateway_drains(gateway: Gateway) -> None:
    await gateway.grpc.health.enter_graceful_shutdown()
    code, out, _ = await run("health", "--address", gateway.address)
    assert code == 1 and out.strip().endswith("NOT_SERVING")


async def test_health_speaks_mutual_tls(make_gateway, tmp_path: Path) -> None:
    ca = Authority()
    files = {
        "cert_file": ca.issue("fapiao-gateway", server=True),
        "client": ca.issue("health-probe"),
    }
    (tmp_path / "ca.pem").write_bytes(ca.cert_pem)
    for name, issued in files.items():
        (tmp_path / f"{name}.pem").write_bytes(issued.cert_pem)
        (tmp_path / f"{name}.key").write_bytes(issued.key_pem)
    tls = {
        "cert_file": str(tmp_path / "cert_file.pem"),
        "key_file": str(tmp_path / "cert_file.key"),
        "client_ca_file": str(tmp_path / "ca.pem"),
    }
    gateway = await make_gateway(tls=tls)
    probe = ["health", "--address", gateway.address, "--ca-file", str(tmp_path / "ca.pem")]

    client = [
        "--cert-file",
        str(tmp_path / "client.pem"),
        "--key-file",
        str(tmp_path / "client.key"),
    ]
    code, out, err = await run(*probe, *client)
    assert code == 0 and out.strip().endswith("(server): SERVING"), err
    code, _, err = await run(*probe, "--timeout", "2")  # no client certificate
    assert code == 1 and "UNAVAILABLE" in err
