"""How log lines look: one JSON object per line in production, aligned key=value in a terminal.

Every library logs through the standard library, so the lines are made from its records by
structlog's ProcessorFormatter, which adds the timestamp (UTC, ISO 8601), the level, the
logger, the call's request id and RPC (bound by api/call_recorder.py for everything logged
while a call runs) and the record's extra fields (the access line's). On top of the
scrubbing every record already gets (logs.py), each value is scrubbed again as it is
rendered, so no credential reaches a line through an extra field or an exception either.

`log_format = "auto"` (the default) writes JSON unless standard error is a terminal.

A JSON line without an exception (every access line) skips that chain: `_JsonLines` builds
the same object in one pass and checks the finished line for anything to scrub, and only a
line that has some goes through the chain, which scrubs it value by value. Through the chain
an access line cost ~95 us (structlog copies each record, and every copy is scrubbed again):
the gateway's own cost per call (issue 12).
"""

import contextvars
import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, WrappedLogger

from fapiao_gateway.logs import scrub

#: The values `log_format` takes.
FORMATS = ("auto", "text", "json")


def _exception(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
    """An exception as text, scrubbed (the record's exc_text is, since logs.py)."""
    exc_info = event.pop("exc_info", None)
    if exc_info:
        record = event.get("_record")
        text = getattr(record, "exc_text", None) or "".join(traceback.format_exception(*exc_info))
        event["exception"] = scrub(text.rstrip())
    return event


def _scrubbed(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    return scrub(str(value))


def _scrub_values(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
    texts = [v if isinstance(v, str) else str(v) for v in event.values()]
    if scrub("\n".join(texts)) == "\n".join(texts):  # one pass finds nothing: the usual line
        return event
    return {key: _scrubbed(value) for key, value in event.items()}


#: What every LogRecord has: anything else on a record came in its `extra`.
_RECORD_KEYS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
_BOUND = structlog.contextvars.STRUCTLOG_KEY_PREFIX


def _fallback(value: Any) -> Any:
    return repr(value)  # as structlog's JSONRenderer renders what JSON has no type for


class _JsonLines(structlog.stdlib.ProcessorFormatter):
    """The JSON formatter, with the one-pass path for lines without an exception."""

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info or record.exc_text or record.stack_info:
            return super().format(record)
        line: dict[str, Any] = {"event": record.getMessage()}
        for var, value in contextvars.copy_context().items():
            if var.name.startswith(_BOUND) and value is not Ellipsis:
                line.setdefault(var.name[len(_BOUND) :], value)
        line["level"] = record.levelname.lower()
        line["logger"] = record.name
        for key, value in record.__dict__.items():
            if key not in _RECORD_KEYS:
                line[key] = value
        line["timestamp"] = (
            datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z")
        )
        text = json.dumps(line, ensure_ascii=False, default=_fallback)
        # scrub() of the whole line only detects: the chain scrubs each value in its own right
        return text if scrub(text) is text else super().format(record)


def formatter(*, json_lines: bool, colors: bool = False) -> logging.Formatter:
    """The formatter for one JSON object per line, or for people."""
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json_lines
        else structlog.dev.ConsoleRenderer(colors=colors, sort_keys=False)
    )
    kind = _JsonLines if json_lines else structlog.stdlib.ProcessorFormatter
    return kind(
        foreign_pre_chain=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(),
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _exception,
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _scrub_values,
            renderer,
        ],
    )


def wants_json(log_format: str, stream: TextIO) -> bool:
    """Whether `log_format` means JSON lines on `stream`."""
    if log_format == "auto":
        isatty = getattr(stream, "isatty", None)
        return not (callable(isatty) and isatty())
    return log_format == "json"


def configure_logging(level: str, log_format: str, stream: TextIO | None = None) -> None:
    """Makes the root logger write `log_format` lines at `level` and above to `stream`
    (standard error by default), replacing its handlers."""
    out = stream or sys.stderr
    json_lines = wants_json(log_format, out)
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter(json_lines=json_lines, colors=not json_lines and out.isatty()))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
