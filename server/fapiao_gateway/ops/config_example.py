"""The commented example configuration, generated from the settings model so it cannot drift.

Every setting appears with its description, its allowed values and bounds, the environment
variable that sets it, and its default or an example, commented out the way postgresql.conf
does it: `# ` starts an explanation, `#name = value` is a setting to uncomment. Left as it is,
the file sets nothing; with every setting uncommented it is a complete, valid configuration.

A new setting needs a `description` in config.py (and `examples` when it has no default), or
generation fails and says which one.
"""

import json
import textwrap
import types
import typing
from enum import Enum
from pathlib import Path
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from fapiao_gateway.config import Settings

#: Where the repository keeps the generated file (`make config-example` writes it).
EXAMPLE_PATH = Path("deploy/fapiao-gateway.example.toml")

_WIDTH = 96

HEADER = """\
# Fapiao gateway: every setting, with its default or an example.
#
# Generated from the settings model (server/fapiao_gateway/config.py) by
# `fapiao-gateway config example`; `make config-example` rewrites this file, and the test
# suite fails when it is stale. Do not edit it by hand: copy it.
#
# `# ` starts an explanation; `#name = value` is a setting: remove the `#` to set it.
# Left as it is, this file sets nothing (every setting keeps its default).
#
# Precedence: command-line flags, then FAPIAO_* environment variables (nested with __),
# then this file (`serve --config FILE` or FAPIAO_CONFIG_FILE), then the defaults.
# A list (accounts, callers) set in the environment replaces the file's list whole.
# `fapiao-gateway config check --config FILE` reports errors and insecure settings.
"""


class UndocumentedSetting(Exception):
    """A setting lacks the description (or the example) the generated file needs."""


def example_config() -> str:
    """The whole example file."""
    lines: list[str] = []
    _model_lines(Settings, (), lines, in_array=False)
    return HEADER + "\n" + "\n".join(lines).rstrip("\n") + "\n"


def _model_lines(
    model: type[BaseModel], path: tuple[str, ...], lines: list[str], *, in_array: bool
) -> None:
    # TOML wants a table's plain keys before its sub-tables: scalars first, tables after.
    tables: list[tuple[str, FieldInfo, type[BaseModel], bool]] = []
    for name, info in model.model_fields.items():
        table = _table_model(info.annotation)
        if table is None:
            _setting_lines(name, info, path, lines, in_array=in_array)
        else:
            tables.append((name, info, *table))
    for name, info, sub_model, array in tables:
        full = (*path, name)
        lines.append("")
        lines += _comment(_describe(info, full))
        if array:
            lines += _comment(
                f"Environment: {_env_name(full)}, a JSON list of such tables. "
                "Repeat the table for each entry."
            )
        lines.append(f"#[[{'.'.join(full)}]]" if array else f"#[{'.'.join(full)}]")
        lines.append("")
        _model_lines(sub_model, full, lines, in_array=in_array or array)


def _setting_lines(
    name: str, info: FieldInfo, path: tuple[str, ...], lines: list[str], *, in_array: bool
) -> None:
    full = (*path, name)
    notes: list[str] = []
    allowed = _allowed_values(info.annotation)
    if allowed:
        notes.append("One of: " + ", ".join(_toml(v) for v in allowed) + ".")
    notes += _bounds(info)
    default = _default(info)
    if default is PydanticUndefined:
        notes.append("Required.")
    if info.examples and default not in (PydanticUndefined, None):
        notes.append(f"Default: {_toml(default)}.")
    if not in_array:
        notes.append(f"Environment: {_env_name(full)}.")
    shown = info.examples[0] if info.examples else default
    if shown in (PydanticUndefined, None):
        raise UndocumentedSetting(f"{'.'.join(full)} has no default: give it `examples`")
    lines += _comment(_describe(info, full))
    lines += _comment(" ".join(notes))
    lines.append(f"#{name} = {_toml(shown)}")
    lines.append("")


def _describe(info: FieldInfo, full: tuple[str, ...]) -> str:
    if not info.description:
        raise UndocumentedSetting(f"{'.'.join(full)} has no description in config.py")
    return info.description


def _comment(text: str) -> list[str]:
    return ["# " + line for line in textwrap.wrap(text, _WIDTH - 2, break_on_hyphens=False)]


def _env_name(full: tuple[str, ...]) -> str:
    return "FAPIAO_" + "__".join(full).upper()


def _default(info: FieldInfo) -> Any:
    if info.default_factory is not None:
        return info.default_factory()  # type: ignore[call-arg]
    return info.default


def _non_none(annotation: Any) -> list[Any]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    return [annotation]


def _table_model(annotation: Any) -> tuple[type[BaseModel], bool] | None:
    """(model, is an array of tables) when the setting is a table, else None."""
    for arg in _non_none(annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg, False
        if typing.get_origin(arg) is list:
            (item,) = typing.get_args(arg)
            if isinstance(item, type) and issubclass(item, BaseModel):
                return item, True
    return None


def _allowed_values(annotation: Any) -> list[Any]:
    for arg in _non_none(annotation):
        if typing.get_origin(arg) is Literal:
            return list(typing.get_args(arg))
        if isinstance(arg, type) and issubclass(arg, Enum):
            return [member.value for member in arg]
    return []


def _bounds(info: FieldInfo) -> list[str]:
    notes: list[str] = []
    for rule in info.metadata:
        if isinstance(rule, annotated_types.Gt):
            notes.append(f"More than {rule.gt}.")
        elif isinstance(rule, annotated_types.Ge):
            notes.append(f"At least {rule.ge}.")
        elif isinstance(rule, annotated_types.Lt):
            notes.append(f"Less than {rule.lt}.")
        elif isinstance(rule, annotated_types.Le):
            notes.append(f"At most {rule.le}.")
        elif isinstance(rule, annotated_types.MinLen):
            notes.append("Must not be empty." if rule.min_length == 1 else f"{rule}.")
    return notes


def _toml(value: Any) -> str:
    """A TOML literal for the simple values settings hold."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, Enum):
        return _toml(value.value)
    if isinstance(value, SecretStr):
        return _toml(value.get_secret_value())
    if isinstance(value, str | Path):
        # JSON's string escapes are a subset of TOML's basic-string escapes.
        return json.dumps(str(value), ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")
