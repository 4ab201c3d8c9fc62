"""Configuration: defaults, TOML file, environment over file, arguments over both."""

from pathlib import Path

import pytest
from fapiao_gateway.config import Settings, load_settings
from pydantic import ValidationError


def test_defaults_need_nothing() -> None:
    settings = Settings()
    assert settings.listen == "127.0.0.1:50051"
    assert settings.token_store == "memory" and settings.upstream.http_client == "httptools"


def test_file_then_environment_then_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(
        'listen = "0.0.0.0:6000"\nlog_level = "DEBUG"\n[upstream]\nmax_attempts = 2\n'
        '[[accounts]]\nappid = "wxfile"\nsecret = "from-file"\nalias = "hq"\n'
    )
    monkeypatch.setenv("FAPIAO_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("FAPIAO_UPSTREAM__REQUEST_TIMEOUT_SECONDS", "3")
    settings = load_settings(str(config), listen="127.0.0.1:7000")

    assert settings.listen == "127.0.0.1:7000"  # argument
    assert settings.log_level == "WARNING"  # environment over file
    assert settings.upstream.max_attempts == 2  # file
    assert settings.upstream.request_timeout_seconds == 3  # environment
    assert settings.accounts[0].appid == "wxfile"
    assert "from-file" not in repr(settings)


def test_a_missing_config_file_is_an_error() -> None:
    with pytest.raises(FileNotFoundError):
        load_settings("/nonexistent/gateway.toml")


def test_unknown_settings_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError):
        Settings(listne="typo")  # type: ignore[call-arg]


def test_proxies_from_the_environment_need_a_client_that_has_them() -> None:
    with pytest.raises(ValidationError, match="trust_env needs"):
        Settings.model_validate({"upstream": {"trust_env": True}})
    chosen = Settings.model_validate({"upstream": {"trust_env": True, "http_client": "aiohttp"}})
    assert chosen.upstream.trust_env
