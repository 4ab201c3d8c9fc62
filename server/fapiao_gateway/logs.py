"""Logging the gateway's way: no credential ever reaches a log, whoever writes the line.

Libraries log what they see: grpcio logs a request header it cannot decode (an API key with
a stray byte in it), an HTTP client may log a URL with ?access_token= or ?secret=. Rather
than trust each library, every log record is scrubbed as it is made (a LogRecord factory,
so it covers every logger and handler): API keys, bearer credentials, and the values of
parameters and JSON fields that carry tokens, tickets or secrets become "[redacted]".
"""

import logging
import re
import traceback
from typing import Any

REDACTED = "[redacted]"

_SECRET_NAMES = (
    r"access_token|secret|corpsecret|appsecret|component_appsecret|component_access_token"
    r"|authorizer_access_token|authorizer_refresh_token|component_verify_ticket|ticket"
    r"|jsapi_ticket|encoding_aes_key|auth_secret|password"
)
_PATTERNS = (
    # Authorization: Bearer <anything up to a quote, whitespace or the end>
    (re.compile(r"(?i)(bearer\s+)[^\s'\"]+"), rf"\g<1>{REDACTED}"),
    # The gateway's own API keys, wherever they appear.
    (re.compile(r"fpk_[^\s'\"&]*"), REDACTED),
    # ?access_token=... &secret=...
    (re.compile(rf"(?i)\b({_SECRET_NAMES})=[^&\s'\"]*"), rf"\g<1>={REDACTED}"),
    # "secret": "..." in JSON or reprs of dicts
    (
        re.compile(rf"(?i)(['\"]({_SECRET_NAMES})['\"]\s*:\s*)(['\"])(?:(?!\3).)*\3"),
        rf"\g<1>\g<3>{REDACTED}\g<3>",
    ),
)


#: A word every pattern above needs (checked first: most text has none, and one search is
#: cheaper than four substitutions; every log record and log field goes through `scrub`).
_TRIGGER = re.compile(r"(?i)bearer|fpk_|token|secret|ticket|aes_key|password")
_TRIGGER_LOWER = re.compile(r"bearer|fpk_|token|secret|ticket|aes_key|password")


def _may_carry_credentials(text: str) -> bool:
    # An ignore-case search costs ~25 us on an access line, lowering it and searching ~3 us.
    # Only ASCII lowers exactly as re's IGNORECASE matches (it also takes U+017F for "s"...).
    if text.isascii():
        return _TRIGGER_LOWER.search(text.lower()) is not None
    return _TRIGGER.search(text) is not None


def scrub(text: str) -> str:
    """`text` with every credential it carries replaced by [redacted]."""
    if not _may_carry_credentials(text):
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def install_scrubbing() -> None:
    """Makes every log record of the process scrubbed (idempotent)."""
    current = logging.getLogRecordFactory()
    if getattr(current, "scrubs", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: keep what it has, scrubbed
            message = str(record.msg)
        record.msg, record.args = scrub(message), None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = scrub("".join(traceback.format_exception(*record.exc_info)).rstrip())
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return record

    factory.scrubs = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
