"""The systemd unit: `systemd-analyze verify` finds nothing (unknown keys, bad values, missing
commands), `systemd-analyze security` rates it well hardened, reload sends SIGHUP, and the
configuration and secrets it points at make a usable configuration."""

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.conftest import DEPLOY, ReviewConfig, problems

UNIT = DEPLOY / "systemd" / "fapiao-gateway.service"
INSTALLED = "/opt/fapiao-gateway/bin/fapiao-gateway"
#: systemd-analyze security's exposure scale runs 0 (locked down) to 10; under 2 is "OK".
MAX_EXPOSURE = 2.0

needs_systemd_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="needs systemd-analyze: install the Debian package systemd (`make setup` does)",
)


def unit_with_this_checkout(tmp_path: Path, text: str | None = None) -> Path:
    """The unit, its commands pointed at this checkout's install (verify checks they exist)."""
    copy = tmp_path / UNIT.name
    text = UNIT.read_text() if text is None else text
    copy.write_text(text.replace(INSTALLED, str(Path(sys.executable).parent / "fapiao-gateway")))
    return copy


def analyze(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", *args], capture_output=True, text=True, check=False, timeout=120
    )


def service_section() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text())
    return parser["Service"]


@needs_systemd_analyze
def test_systemd_analyze_verify_finds_nothing(tmp_path: Path) -> None:
    result = analyze("verify", str(unit_with_this_checkout(tmp_path)))
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


@needs_systemd_analyze
def test_verify_catches_a_misspelt_directive(tmp_path: Path) -> None:
    typo = UNIT.read_text().replace("ProtectHome=yes", "ProtectHomes=yes")
    result = analyze("verify", str(unit_with_this_checkout(tmp_path, typo)))
    assert "Unknown key 'ProtectHomes'" in result.stderr


@needs_systemd_analyze
def test_the_service_is_hardened(tmp_path: Path) -> None:
    result = analyze("security", "--offline=yes", str(unit_with_this_checkout(tmp_path)))
    exposure = re.search(r"Overall exposure level for \S+: ([\d.]+)", result.stdout)
    assert exposure is not None, result.stdout + result.stderr
    assert float(exposure.group(1)) < MAX_EXPOSURE, result.stdout


def test_it_runs_the_gateway_unprivileged_and_reloads_with_sighup() -> None:
    service = service_section()
    assert service["ExecStart"] == f"{INSTALLED} serve"
    assert service["ExecStartPre"] == f"{INSTALLED} config check"
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert service["Type"] == "exec"  # $MAINPID is the gateway itself
    assert service["User"] == "fapiao-gateway" and service["NoNewPrivileges"] == "yes"
    assert service["RestartPreventExitStatus"] == "2"  # configuration errors: no restart loop
    assert service["Environment"] == "FAPIAO_CONFIG_FILE=/etc/fapiao-gateway/gateway.toml"


def _env_file(path: Path) -> dict[str, str]:
    """KEY=value lines, single-quoted values unquoted (the subset of systemd's syntax used)."""
    found = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            found[name] = value[1:-1] if value.startswith("'") else value
    return found


def test_the_configuration_and_secrets_it_reads_are_usable(
    review_config: ReviewConfig, tmp_path: Path
) -> None:
    service = service_section()
    assert service["EnvironmentFile"] == "-/etc/fapiao-gateway/secrets.env"
    env = _env_file(DEPLOY / "systemd" / "fapiao-gateway.env.example")
    # The example names certificate files of the host it is installed on: stand-ins here.
    for name in ("cert_file", "key_file"):
        pem = tmp_path / name
        pem.write_text("-----BEGIN PLACEHOLDER-----\n")
        pem.chmod(0o600)
        env[f"FAPIAO_TLS__{name.upper()}"] = str(pem)
    findings = review_config((DEPLOY / "systemd" / "gateway.toml").read_text(), env)
    assert problems(findings) == []
