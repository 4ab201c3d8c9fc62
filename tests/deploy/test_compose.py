"""The local stack: dclint validates compose.yaml against the Compose specification's schema
and its lint rules (warnings count), the services start in the right order, and the gateway's
configuration is one `config check` calls usable. Where `docker compose` is installed, it
renders the file too."""

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.conftest import DEPLOY, ROOT, ReviewConfig, problems

COMPOSE = DEPLOY / "compose" / "compose.yaml"
DCLINT = ROOT / "node_modules" / ".bin" / "dclint"


def dclint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DCLINT), "--max-warnings", "0", "--color", "false", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def services() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text())["services"])


def substituted(value: str) -> str:
    """`${NAME:-default}` as compose fills it in with NAME unset."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value)


def test_dclint_finds_nothing() -> None:
    result = dclint(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dclint_checks_the_schema(tmp_path: Path) -> None:
    broken = tmp_path / "compose.yaml"
    broken.write_text(COMPOSE.read_text().replace("restart: unless-stopped", "restrat: always"))
    result = dclint(broken)
    assert result.returncode != 0 and "invalid-schema" in result.stdout


def test_the_gateway_starts_after_its_database_is_migrated_and_redis_answers() -> None:
    stack = services()
    assert stack["gateway"]["command"] == ["serve"]
    assert stack["migrate"]["command"] == ["migrate"]
    assert stack["gateway"]["depends_on"] == {
        "migrate": {"condition": "service_completed_successfully"},
        "redis": {"condition": "service_healthy"},
    }
    assert stack["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert "healthcheck" in stack["postgres"] and "healthcheck" in stack["redis"]
    # Published on this machine only.
    assert all(port.startswith("127.0.0.1:") for port in stack["gateway"]["ports"])
    assert stack["gateway"]["build"]["context"] == "../.."
    assert (COMPOSE.parent / stack["gateway"]["build"]["context"] / "Dockerfile").is_file()


def test_the_gateways_configuration_is_usable(review_config: ReviewConfig) -> None:
    gateway = services()["gateway"]
    (mount,) = gateway["volumes"]
    source = COMPOSE.parent / mount["source"]
    env = {name: substituted(value) for name, value in gateway["environment"].items()}
    assert env.pop("FAPIAO_CONFIG_FILE") == mount["target"]
    postgres = services()["postgres"]["environment"]
    assert env["FAPIAO_DATABASE_URL"] == (
        f"postgresql+asyncpg://{postgres['POSTGRES_USER']}:"
        f"{substituted(postgres['POSTGRES_PASSWORD'])}@postgres:5432/{postgres['POSTGRES_DB']}"
    )

    findings = review_config(source.read_text(), env)
    # A local stack: the emulated WeChat, plaintext inside the compose network.
    assert problems(findings) == [("warning", "sandbox"), ("warning", "listen")]


@pytest.mark.skipif(
    shutil.which("docker") is None
    or subprocess.run(["docker", "compose", "version"], capture_output=True).returncode != 0,
    reason="`docker compose` is not installed here (dclint checked the schema)",
)
def test_docker_compose_renders_it() -> None:
    result = subprocess.run(
        ["docker", "compose", "--file", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
