"""`fapiao-gateway config check` and the review behind it: every rule, and the command's exit
codes and plain messages."""

import os
from pathlib import Path

import pytest
from fapiao_gateway.ops.config_check import check
from fapiao_gateway.ops.config_review import Level

from tests.deploy.conftest import ReviewConfig, clean_environment, problems
from tests.support import auth
from tests.support.processes import run

KEY, STORED = auth.new_key()
SECRET = {"FAPIAO_AUTH_SECRET": auth.TEST_AUTH_SECRET}
#: A production-shaped configuration with nothing to report but the plaintext listen.
GOOD = f"""
listen = "127.0.0.1:50051"
database_url = "postgresql+asyncpg://fapiao@db/fapiao"
token_store = "redis"
import_page_url = "https://reimburse.example.com/wechat/import"
[[accounts]]
appid = "wx0123456789abcdef"
secret = "s3cret"
alias = "hq"
[[callers]]
name = "erp"
accounts = ["hq"]
operations = ["read"]
keys = ["{STORED}"]
"""


def test_a_sound_configuration_has_nothing_to_report(review_config: ReviewConfig) -> None:
    assert review_config(GOOD, SECRET) == []


@pytest.mark.parametrize(
    ("edit", "env", "expected"),
    [
        # (text replaced in GOOD, extra environment, (level, setting) expected)
        (("127.0.0.1:50051", "0.0.0.0:50051"), {}, ("warning", "listen")),
        (("127.0.0.1:50051", "[::]:50051"), {}, ("warning", "listen")),
        (("127.0.0.1:50051", "localhost:70000"), {}, ("error", "listen")),
        (("127.0.0.1:50051", "no-port"), {}, ("error", "listen")),
        (("", ""), {"FAPIAO_LOG_LEVEL": "info"}, ("error", "log_level")),
        (("", ""), {"FAPIAO_SANDBOX": "true"}, ("warning", "sandbox")),
        (("", ""), {"FAPIAO_AUTH_SECRET": "short"}, ("warning", "auth_secret")),
        (("", ""), {"FAPIAO_INTENTS__SETTLE_SECONDS": "1"}, ("warning", "intents.settle_seconds")),
        (('secret = "s3cret"', 'secret = " "'), {}, ("warning", "accounts[0].secret")),
        (
            (
                'alias = "hq"',
                'alias = "hq"\n[[accounts]]\nappid = "wx2"\nsecret = "x"\nalias = "hq"',
            ),
            {},
            ("error", "accounts"),
        ),
        (
            ('alias = "hq"', 'alias = "hq"\nbase_url = "ftp://x"'),
            {},
            ("error", "accounts[0].base_url"),
        ),
        (
            ('alias = "hq"', 'alias = "hq"\nbase_url = "http://proxy.internal"'),
            {},
            ("warning", "accounts[0].base_url"),
        ),
        ((f'keys = ["{STORED}"]', "keys = []"), {}, ("warning", "callers[0]")),
        (('accounts = ["hq"]', 'accounts = ["hq", "typo"]'), {}, ("warning", "callers[0]")),
        (
            ('operations = ["read"]', 'operations = ["read"]\ntls_common_names = ["erp"]'),
            {},
            ("warning", "callers[0]"),
        ),
        (("asyncpg://", "psycopg2://"), {}, ("error", "database_url")),
        (
            ("postgresql+asyncpg://fapiao@db/fapiao", "sqlite+aiosqlite://"),
            {},
            ("warning", "database_url"),
        ),
        (
            ('token_store = "redis"', 'token_store = "redis"\nredis_url = "http://x"'),
            {},
            ("error", "redis_url"),
        ),
        (
            ('alias = "hq"', 'alias = "hq"\ntoken_endpoint = "classic"'),
            {"FAPIAO_TOKEN_STORE": "memory", "FAPIAO_REUSE_PORT": "true"},
            ("warning", "reuse_port"),
        ),
        (
            ('alias = "hq"', 'alias = "hq"\ntoken_endpoint = "classic"'),
            {"FAPIAO_TOKEN_STORE": "memory", "FAPIAO_WORKERS": "4"},
            ("error", "workers"),
        ),
        (("https://reimburse", "javascript:alert(1)//reimburse"), {}, ("error", "import_page_url")),
        (
            ("", ""),
            {"FAPIAO_UPSTREAM__BACKOFF_BASE_SECONDS": "5"},
            ("warning", "upstream.backoff_base_seconds"),
        ),
        (
            ("", ""),
            {"FAPIAO_UPSTREAM__CREDENTIAL_MARGIN_SECONDS": "7200"},
            ("warning", "upstream.credential_margin_seconds"),
        ),
        (
            ('operations = ["read"]', 'operations = ["read"]\nrate_limits = ["10/second"]'),
            {},
            ("warning", "quotas.store"),
        ),
        (
            ("", ""),
            {"FAPIAO_TRACING__OTLP_ENDPOINT": "otel-collector:4317"},
            ("error", "tracing.otlp_endpoint"),
        ),
    ],
)
def test_each_rule(
    review_config: ReviewConfig,
    edit: tuple[str, str],
    env: dict[str, str],
    expected: tuple[str, str],
) -> None:
    old, new = edit
    assert old in GOOD
    toml = GOOD.replace(old, new, 1) if old else GOOD
    assert problems(review_config(toml, {**SECRET, **env})) == [expected]


def test_workers_share_stable_tokens_without_redis(review_config: ReviewConfig) -> None:
    """A stable_token fetch in one process cannot invalidate another's token."""
    env = {**SECRET, "FAPIAO_TOKEN_STORE": "memory", "FAPIAO_WORKERS": "4"}
    assert review_config(GOOD, env) == []


def test_outside_sandbox_mode_callers_are_required(review_config: ReviewConfig) -> None:
    without_callers = GOOD.split("[[callers]]")[0]
    assert problems(review_config(without_callers, {})) == [("error", "callers")]
    assert problems(review_config(without_callers, {"FAPIAO_SANDBOX": "true"})) == [
        ("warning", "sandbox")
    ]


def test_one_certificate_name_for_two_callers_is_an_error(review_config: ReviewConfig) -> None:
    twice = GOOD + GOOD[GOOD.index("[[callers]]") :].replace(STORED, auth.new_key()[1])
    twice = twice.replace(
        'operations = ["read"]', 'operations = ["read"]\ntls_common_names = ["a"]'
    )
    assert ("error", "callers") in problems(review_config(twice, SECRET))
    assert ("warning", "callers") in problems(review_config(twice, SECRET))  # same name twice


def test_tls_files_are_read_and_must_be_pem(review_config: ReviewConfig, tmp_path: Path) -> None:
    cert, key = tmp_path / "server.pem", tmp_path / "server.key"
    cert.write_text("-----BEGIN CERTIFICATE-----\n...\n")
    key.write_text("not a key")
    key.chmod(0o644)
    tls = f'\n[tls]\ncert_file = "{cert}"\nkey_file = "{key}"\nclient_ca_file = "{tmp_path}/none.pem"\n'
    found = review_config(GOOD.replace("[[accounts]]", tls + "\n[[accounts]]"), SECRET)
    assert problems(found) == [
        ("error", "tls.key_file"),
        ("error", "tls.client_ca_file"),
        ("warning", "tls.key_file"),
    ]
    assert "readable by every user" in found[-1].message


def test_notes_are_facts_not_problems(review_config: ReviewConfig) -> None:
    found = review_config(
        GOOD.replace('import_page_url = "https://reimburse.example.com/wechat/import"', ""), SECRET
    )
    assert [(f.level, f.setting) for f in found] == [(Level.NOTE, "import_page_url")]


def checked(config: Path | None, env: dict[str, str], *, strict: bool = False) -> tuple[int, str]:
    """config_check.check as the command runs it: (exit code, what it printed)."""
    said: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        for name in set(os.environ) - set(clean_environment()):
            patch.delenv(name)
        for name, value in env.items():
            patch.setenv(name, value)
        code = check(str(config) if config else None, strict=strict, say=said.append)
    return code, "\n".join(said)


def test_exit_codes_say_usable_risky_or_unusable(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(GOOD)
    code, out = checked(config, SECRET)
    assert code == 0, out
    assert out.splitlines()[-1] == "Usable, nothing to report."

    config.write_text(GOOD.replace("127.0.0.1:50051", "0.0.0.0:50051"))
    code, out = checked(config, SECRET)
    assert code == 0 and "warning: listen: plaintext gRPC on 0.0.0.0:50051" in out
    assert checked(config, SECRET, strict=True)[0] == 1

    code, out = checked(
        None, {**SECRET, "FAPIAO_CONFIG_FILE": str(config), "FAPIAO_LOG_LEVEL": "LOUD"}
    )
    assert code == 2
    assert f"Checked: config file {config} and FAPIAO_* variables." in out
    assert "error: log_level: 'LOUD' is not a log level" in out
    assert out.splitlines()[-1].startswith("Unusable: 1 error(s), 1 warning(s).")


def test_what_does_not_load_is_explained_without_echoing_values(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(GOOD.replace('secret = "s3cret"', "secret = 12345678"))
    code, out = checked(config, {})
    assert code == 2
    assert f"invalid configuration (config file {config} and FAPIAO_* variables):" in out
    assert "accounts[0].secret: Input should be a valid string" in out
    assert "12345678" not in out

    config.write_text("listen = \n")
    code, out = checked(config, {})
    assert code == 2 and f"{config} is not valid TOML" in out

    code, out = checked(tmp_path / "missing.toml", {})
    assert code == 2 and "config file not found" in out


async def test_the_command_exits_with_the_checks_code(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(GOOD)
    env = {**clean_environment(), **SECRET}
    code, out, _ = await run("config", "check", "--config", str(config), env=env)
    assert (code, out.splitlines()[-1]) == (0, "Usable, nothing to report.")
    code, out, _ = await run(
        "config", "check", "--config", str(config), env={**env, "FAPIAO_LISTEN": "x"}
    )
    assert code == 2 and "error: listen: 'x' is not host:port" in out


async def test_serve_refuses_an_unloadable_configuration_in_one_line() -> None:
    env = {**clean_environment(), "FAPIAO_ACCOUNTS": "[not json"}
    code, out, err = await run("serve", env=env)
    assert code == 2 and out == ""
    assert err.startswith('fapiao-gateway: error parsing value for field "accounts"')
    assert "Traceback" not in err


def test_metrics_on_a_public_port_are_pointed_out(review_config: ReviewConfig) -> None:
    """/metrics is unauthenticated: a note where only scrapers reach it, a warning where the
    same port takes WeChat's pushes from the internet."""
    public = {**SECRET, "FAPIAO_HTTP_LISTEN": "0.0.0.0:8080"}
    found = review_config(GOOD, public)
    assert [(f.level.value, f.setting) for f in found] == [("note", "metrics")]
    assert "unauthenticated" in found[0].message
    assert review_config(GOOD, {**SECRET, "FAPIAO_HTTP_LISTEN": "127.0.0.1:8080"}) == []
    off = {**public, "FAPIAO_METRICS__ENABLED": "false"}
    assert problems(review_config(GOOD, off)) == [("warning", "http_listen")]
