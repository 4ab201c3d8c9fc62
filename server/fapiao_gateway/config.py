"""Configuration: environment variables (FAPIAO_*, nested with __) over an optional TOML file.

Examples:
  FAPIAO_LISTEN=0.0.0.0:50051
  FAPIAO_UPSTREAM__REQUEST_TIMEOUT_SECONDS=3
  FAPIAO_ACCOUNTS='[{"appid": "wx...", "secret": "...", "alias": "hq"}]'
  FAPIAO_CONFIG_FILE=/etc/fapiao-gateway.toml   (or `serve --config FILE`)
"""

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from fapiao_gateway.auth.keys import StoredKey
from fapiao_gateway.domain.callers import ANY, Operation
from fapiao_gateway.wechat.accounts import TokenEndpoint
from fapiao_gateway.wechat.platforms import Platform

MIB = 1024 * 1024


class AccountSettings(BaseModel):
    """One WeChat account the gateway may act for."""

    appid: str = Field(min_length=1)
    secret: SecretStr
    alias: str = ""
    platform: Platform = Platform.OFFICIAL_ACCOUNT
    token_endpoint: TokenEndpoint = TokenEndpoint.STABLE
    #: Where to send this account's calls; empty means the platform's WeChat host. Point it at
    #: an egress proxy, or at a standalone sandbox (`fapiao-gateway sandbox`).
    base_url: str = ""


class CallerSettings(BaseModel):
    """A system allowed to call the gateway, what it may do, and how it proves who it is."""

    name: str = Field(min_length=1)
    #: appids or aliases it may act for; ["*"] for all.
    accounts: list[str] = Field(min_length=1)
    #: read, import, lock, unlock, write_off, sign, issue_qr; ["*"] for all.
    operations: list[str] = Field(min_length=1)
    #: Stored forms of its API keys (`fapiao-gateway create-key`); two during a rotation.
    keys: list[str] = Field(default_factory=list)
    #: Client-certificate common names that identify it (with mutual TLS).
    tls_common_names: list[str] = Field(default_factory=list)

    @field_validator("operations")
    @classmethod
    def _known_operations(cls, operations: list[str]) -> list[str]:
        allowed = {op.value for op in Operation} | {ANY}
        unknown = sorted(set(operations) - allowed)
        if unknown:
            raise ValueError(f"unknown operations {unknown}; allowed: {sorted(allowed)}")
        return operations

    @field_validator("keys")
    @classmethod
    def _stored_keys(cls, keys: list[str]) -> list[str]:
        for key in keys:
            StoredKey.parse(key)
        return keys


class TlsSettings(BaseModel):
    """Serve TLS with this certificate; with client_ca_file, require client certificates."""

    cert_file: Path
    key_file: Path
    client_ca_file: Path | None = None


class UpstreamSettings(BaseModel):
    """How the gateway talks to WeChat."""

    request_timeout_seconds: float = Field(5.0, gt=0)
    token_fetch_timeout_seconds: float = Field(10.0, gt=0)
    max_attempts: int = Field(4, ge=1, le=10)
    backoff_base_seconds: float = Field(0.1, ge=0)
    backoff_max_seconds: float = Field(2.0, ge=0)
    #: Tokens and tickets are renewed this long before they expire (WeChat rotates stable
    #: tokens 5 minutes early, keeping both valid).
    credential_margin_seconds: float = Field(300.0, ge=0)
    #: The HTTP client under the adapter: aiohttp measured 1.8-5.8x httpx (see
    #: wechat/aiohttp_transport.py); httpx is there for proxies or TLS setups only it handles.
    http_client: Literal["aiohttp", "httpx"] = "aiohttp"
    #: Most invoices per getinvoicebatch / updatestatusbatch call (WeChat publishes no limit).
    batch_size: int = Field(50, ge=1, le=500)
    max_connections: int = Field(100, ge=1)
    max_keepalive_connections: int = Field(20, ge=0)


class Settings(BaseSettings):
    """Everything the gateway can be told. Defaults run the sandbox with nothing configured."""

    model_config = SettingsConfigDict(
        env_prefix="FAPIAO_", env_nested_delimiter="__", extra="forbid"
    )

    #: host:port to serve gRPC on; port 0 picks a free port.
    listen: str = "127.0.0.1:50051"
    #: Run against the built-in WeChat emulator (in process, seeded, no credentials).
    sandbox: bool = False
    accounts: list[AccountSettings] = Field(default_factory=list)
    #: The ledger of imported invoices: SQLite (embedded, one process) by default, or
    #: postgresql+asyncpg://user@host/db for several replicas.
    database_url: str = "sqlite+aiosqlite:///var/fapiao-gateway.db"
    #: The reimburser's H5 page an import QR code opens (bizCode and appid are added to it).
    #: Sandbox mode uses an example URL when this is empty.
    import_page_url: str = ""
    #: How long an import QR code's bizCode is accepted when the request does not say.
    import_qr_ttl_seconds: float = Field(1800.0, ge=60, le=86400)
    #: Who may call. Outside sandbox mode the gateway refuses to start without one.
    callers: list[CallerSettings] = Field(default_factory=list)
    #: The server secret API key hashes are keyed with (e.g. `openssl rand -hex 32`).
    auth_secret: SecretStr | None = None
    tls: TlsSettings | None = None
    upstream: UpstreamSettings = Field(default_factory=UpstreamSettings)
    #: Where tokens and tickets are cached: "memory" (one process) or "redis" (shared).
    token_store: Literal["memory", "redis"] = "memory"
    redis_url: str = "redis://127.0.0.1:6379/0"
    #: Prefix of the gateway's Redis keys (several gateways can share one Redis).
    redis_prefix: str = "fapiao:"
    max_receive_message_bytes: int = Field(4 * MIB, ge=1024)
    max_send_message_bytes: int = Field(16 * MIB, ge=1024)
    shutdown_grace_seconds: float = Field(10.0, ge=0)
    #: Let several processes listen on one port (SO_REUSEPORT).
    reuse_port: bool = False
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _keys_need_the_secret(self) -> "Settings":
        if any(caller.keys for caller in self.callers) and self.auth_secret is None:
            raise ValueError("callers have API keys, so auth_secret must be set to check them")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = settings_cls.model_config.get("toml_file") or os.environ.get(
            "FAPIAO_CONFIG_FILE"
        )
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(str(config_file))))
        return tuple(sources)


def load_settings(config_file: str | None = None, **overrides: object) -> Settings:
    """Settings from `overrides`, then the environment, then `config_file` (or
    $FAPIAO_CONFIG_FILE), then the defaults, in that order of precedence."""
    settings_cls = Settings
    if config_file:
        if not Path(config_file).is_file():
            raise FileNotFoundError(f"config file not found: {config_file}")

        class FileSettings(Settings):
            model_config = SettingsConfigDict(**{**Settings.model_config, "toml_file": config_file})

        settings_cls = FileSettings
    return settings_cls(**overrides)  # type: ignore[arg-type]
