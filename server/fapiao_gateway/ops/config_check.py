"""`fapiao-gateway config check`: load a configuration exactly as `serve` would and say what
is wrong with it, plainly, and what is risky.

Exit codes: 0 usable (warnings and notes may be printed), 1 only warnings but --strict asked
for none, 2 unusable (it does not load, or `serve` would refuse or fail with it).
"""

import os
import tomllib
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

from pydantic import ValidationError
from pydantic_settings import SettingsError

from fapiao_gateway.config import Settings, load_settings

if TYPE_CHECKING:
    from fapiao_gateway.ops.config_review import Finding

EXIT_USABLE = 0
EXIT_WARNINGS = 1
EXIT_UNUSABLE = 2


class ConfigUnusable(Exception):
    """The configuration does not load; the message says where and why, one line each."""


def load(config_file: str | None, **overrides: object) -> Settings:
    """load_settings, with every way it can fail turned into one plain ConfigUnusable.

    Validation messages never echo the offending values: they may be secrets.
    """
    source = _source(config_file)
    try:
        return load_settings(config_file, **overrides)
    except ValidationError as exc:
        lines = [
            f"{_location(error['loc'])}: {error['msg']}"
            for error in exc.errors(include_url=False, include_input=False)
        ]
        raise ConfigUnusable(
            f"invalid configuration ({source}):\n  " + "\n  ".join(lines)
        ) from None
    except tomllib.TOMLDecodeError as exc:
        path = config_file or os.environ.get("FAPIAO_CONFIG_FILE")
        raise ConfigUnusable(f"{path} is not valid TOML: {exc}") from None
    except SettingsError as exc:
        raise ConfigUnusable(f"{exc} (FAPIAO_* lists and tables are JSON)") from None
    except (FileNotFoundError, IsADirectoryError) as exc:
        raise ConfigUnusable(str(exc)) from None


def _source(config_file: str | None) -> str:
    if config_file:
        return f"config file {config_file} and FAPIAO_* variables"
    if os.environ.get("FAPIAO_CONFIG_FILE"):
        return f"config file {os.environ['FAPIAO_CONFIG_FILE']} and FAPIAO_* variables"
    return "FAPIAO_* variables, no config file"


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "(settings)"


def check(config_file: str | None, *, strict: bool, say: Callable[[str], None]) -> int:
    """Runs the check, reporting through `say`; returns the exit code."""
    try:
        settings = load(config_file)
    except ConfigUnusable as exc:
        say(f"error: {exc}")
        say("The gateway would not start with this configuration.")
        return EXIT_UNUSABLE
    from fapiao_gateway.ops.config_review import Level, review  # imports SQLAlchemy: slow

    say(f"Checked: {_source(config_file)}.")
    findings = review(settings)
    for finding in findings:
        say(_line(finding))
    counts = Counter(finding.level for finding in findings)
    summary = ", ".join(f"{counts[level]} {level.value}(s)" for level in Level if counts[level])
    if counts[Level.ERROR]:
        say(f"Unusable: {summary}. The gateway would refuse or fail to serve.")
        return EXIT_UNUSABLE
    say(f"Usable{': ' + summary if summary else ', nothing to report'}.")
    return EXIT_WARNINGS if strict and counts[Level.WARNING] else EXIT_USABLE


def _line(finding: "Finding") -> str:
    return f"{finding.level.value}: {finding.setting}: {finding.message}"
