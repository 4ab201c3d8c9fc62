"""How log lines look: one JSON object per line in production, aligned key=value in a terminal.

Every library logs through the standard library, so the lines are made from its records by
structlog's ProcessorFormatter, which adds the timestamp (UTC, ISO 8601), the level, the
logger, the call's request id and RPC (bound by api/call_recorder.py for everything logged
while a call runs) and the record's extra fields (the access line's). On top of the
scrubbing every record already gets (logs.py), each value is scrubbed again as it is
rendered, so no credential reaches a line through an extra field or an exception either.

`log_format = "auto"` (the default) writes JSON unless standard error is a terminal.
"""

import logging
import sys
import traceback
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


def formatter(*, json_lines: bool, colors: bool = False) -> logging.Formatter:
    """The formatter for one JSON object per line, or for people."""
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json_lines
        else structlog.dev.ConsoleRenderer(colors=colors, sort_keys=False)
    )
    return structlog.stdlib.ProcessorFormatter(
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
