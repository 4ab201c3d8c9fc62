"""The commented example configuration: fresh, inert as shipped, complete when uncommented."""

import os
import re
import tomllib
from pathlib import Path

import pytest
from fapiao_gateway.config import Settings
from fapiao_gateway.ops.config_check import load
from fapiao_gateway.ops.config_example import EXAMPLE_PATH, example_config
from pydantic import BaseModel

from tests.deploy.conftest import ROOT, clean_environment
from tests.support.processes import run

EXAMPLE = ROOT / EXAMPLE_PATH
#: postgresql.conf style: `#name = value` and `#[table]` are settings, `# text` is prose.
SETTING_LINE = re.compile(r"^#(?=[^\s#])", re.MULTILINE)


def uncommented(text: str) -> str:
    return SETTING_LINE.sub("", text)


def test_the_committed_example_is_what_the_settings_model_generates() -> None:
    assert EXAMPLE.read_text(encoding="utf-8") == example_config(), (
        "deploy/fapiao-gateway.example.toml is stale: run `make config-example`"
    )


def test_as_shipped_it_sets_nothing() -> None:
    assert tomllib.loads(EXAMPLE.read_text(encoding="utf-8")) == {}


def _leaf_paths(model: type[BaseModel], prefix: str = "") -> set[str]:
    paths = set()
    for name, info in model.model_fields.items():
        nested = [
            arg
            for arg in (info.annotation, *getattr(info.annotation, "__args__", ()))
            if isinstance(arg, type) and issubclass(arg, BaseModel)
        ]
        if nested:
            paths |= _leaf_paths(nested[0], f"{prefix}{name}.")
        else:
            paths.add(prefix + name)
    return paths


def _toml_paths(table: dict, prefix: str = "") -> set[str]:
    paths = set()
    for name, value in table.items():
        if isinstance(value, dict):
            paths |= _toml_paths(value, f"{prefix}{name}.")
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            paths |= _toml_paths(value[0], f"{prefix}{name}.")
        else:
            paths.add(prefix + name)
    return paths


def test_uncommented_it_names_every_setting_and_loads(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    text = uncommented(EXAMPLE.read_text(encoding="utf-8"))
    assert _toml_paths(tomllib.loads(text)) == _leaf_paths(Settings)

    for name in set(os.environ) - set(clean_environment()):
        monkeypatch.delenv(name)
    (tmp_path / "all.toml").write_text(text)
    settings = load(str(tmp_path / "all.toml"))
    # Every setting with a default shows it, unless an example says more.
    assert settings.upstream == Settings().upstream
    assert settings.listen == Settings().listen
    assert settings.accounts[0].appid and settings.callers[0].keys


def test_every_setting_says_what_it_is_and_how_to_set_it() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    blocks = text.split("\n\n")
    for block in blocks:
        lines = block.strip().splitlines()
        settings = [line for line in lines if SETTING_LINE.match(line) and "=" in line]
        if not settings:
            continue
        assert len(settings) == 1, block
        prose = [line for line in lines if line.startswith("# ")]
        assert prose, f"no description for {settings[0]}"
    for env in ("FAPIAO_LISTEN", "FAPIAO_UPSTREAM__MAX_ATTEMPTS", "FAPIAO_TLS__CERT_FILE"):
        assert f"Environment: {env}." in text
    assert 'One of: "httptools", "aiohttp", "httpx".' in text


async def test_the_command_prints_it_and_writes_it(tmp_path: Path) -> None:
    code, out, err = await run("config", "example", env=clean_environment())
    assert (code, err) == (0, "")
    assert out == example_config()

    target = tmp_path / "example.toml"
    code, out, _ = await run("config", "example", "--output", str(target))
    assert code == 0 and out.strip() == f"wrote {target}"
    assert target.read_text(encoding="utf-8") == example_config()


def test_the_makefile_regenerates_it() -> None:
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^config-example:.*\n\t(.+)$", makefile, re.MULTILINE)
    assert recipe is not None
    assert f"fapiao-gateway config example --output {EXAMPLE_PATH}" in recipe.group(1)
