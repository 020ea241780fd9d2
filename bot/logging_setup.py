"""Logging configuration: one line per event, with bot tokens and secrets scrubbed.

Bot tokens travel inside request URLs (``/bot<token>/method``, ``/file/bot<token>/path``), and
several libraries put URLs into log messages or exception texts (httpx logs every request at
INFO). :class:`RedactingFilter` scrubs the final text of every record that reaches the Homeward
handler: message, exception traceback and stack info.
"""

from __future__ import annotations

import json as _json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import IO, Final

__all__ = ["JsonFormatter", "PlainFormatter", "RedactingFilter", "configure_logging"]

TOKEN_PLACEHOLDER: Final = "<token>"  # noqa: S105 (a placeholder, not a secret)
SECRET_PLACEHOLDER: Final = "<secret>"  # noqa: S105

_TOKEN_RE: Final = re.compile(r"\d{6,}:[A-Za-z0-9_-]{30,}")
# /bot<token>/ and /file/bot<token>/, also for tokens too short or odd for _TOKEN_RE (a token
# always holds a colon, possibly percent-encoded).
_URL_TOKEN_RE: Final = re.compile(r"(/(?:file/)?bot)[^/\s\"'<>]*(?::|%3[Aa])[^/\s\"'<>?#]*")

# Loggers that log request URLs (with the token) at INFO.
_QUIET_LOGGERS: Final = ("httpx", "httpcore", "aiohttp.access", "alembic", "geopy", "aiosqlite")

# Attributes every LogRecord has; anything else was passed via ``extra=``.
_STANDARD_ATTRS: Final = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None))
) | {"message", "asctime", "taskName"}

_HANDLER_MARKER: Final = "_homeward_handler"


class RedactingFilter(logging.Filter):
    """Scrub bot tokens and exact secret strings from a record's final text.

    The message is formatted first (``msg % args``), scrubbed, and stored in ``record.msg``
    with ``record.args`` cleared, so later formatting cannot reintroduce a secret. Exception
    and stack texts are rendered and scrubbed into ``exc_text`` / ``stack_info``.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Longest first, so a secret containing another is replaced whole.
        self._secrets: tuple[str, ...] = tuple(
            sorted({s for s in secrets if s}, key=len, reverse=True)
        )

    def redact(self, text: str) -> str:
        """Return ``text`` with secrets, URL-embedded tokens and token-shaped strings replaced."""
        for secret in self._secrets:
            text = text.replace(secret, SECRET_PLACEHOLDER)
        text = _URL_TOKEN_RE.sub(rf"\1{TOKEN_PLACEHOLDER}", text)
        return _TOKEN_RE.sub(TOKEN_PLACEHOLDER, text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not hide the event (nor leak args raw)
            message = f"{record.msg!s} (unformattable args)"
        record.msg = self.redact(message)
        record.args = None

        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
            # exc_text is what formatters print; drop the live exception so nothing renders
            # the unscrubbed traceback again.
            record.exc_info = None
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def _utc_iso(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds")


class PlainFormatter(logging.Formatter):
    """``<UTC ISO ts> <LEVEL> <logger>: <message>``, plus traceback lines if any."""

    def format(self, record: logging.LogRecord) -> str:
        text = f"{_utc_iso(record)} {record.levelname} {record.name}: {record.getMessage()}"
        if record.exc_text:
            text = f"{text}\n{record.exc_text}"
        if record.stack_info:
            text = f"{text}\n{record.stack_info}"
        return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts``, ``level``, ``logger``, ``msg``, simple ``extra`` fields,
    and ``exc`` / ``stack`` when present."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": _utc_iso(record),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key in _STANDARD_ATTRS or key.startswith("_") or key in entry:
                continue
            if value is None or isinstance(value, str | int | float | bool):
                entry[key] = value
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return _json.dumps(entry, ensure_ascii=False, default=str)


class _ExtraRedactingJsonFormatter(JsonFormatter):
    """JSON formatter that also scrubs string ``extra`` values (the filter scrubs the rest)."""

    def __init__(self, redactor: RedactingFilter) -> None:
        super().__init__()
        self._redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        return self._redactor.redact(super().format(record))


def configure_logging(
    *,
    level: str = "INFO",
    json: bool = False,
    secrets: Iterable[str] = (),
    stream: IO[str] | None = None,
) -> None:
    """Install (or replace) the Homeward handler on the root logger.

    Args:
        level: Root level name, e.g. ``"INFO"`` or ``"DEBUG"``.
        json: Emit JSON lines instead of plain text.
        secrets: Exact strings to scrub (webhook secret, DB password, ...); empty ones ignored.
        stream: Where to write; defaults to ``sys.stderr``.
    """
    numeric_level = logging.getLevelNamesMapping().get(level.upper())
    if numeric_level is None:
        raise ValueError(f"Unknown log level: {level!r}")

    redactor = RedactingFilter(secrets)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    # The final text is scrubbed again, to cover string ``extra`` fields in JSON.
    handler.setFormatter(_ExtraRedactingJsonFormatter(redactor) if json else PlainFormatter())
    handler.addFilter(redactor)
    setattr(handler, _HANDLER_MARKER, True)

    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, _HANDLER_MARKER, False):
            root.removeHandler(old)
            old.close()
    root.addHandler(handler)
    root.setLevel(numeric_level)

    for name in _QUIET_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)
    # telegram stays at the configured level; the filter still scrubs whatever it logs.
    # PTB logs whole updates and API parameters at DEBUG: never below INFO.
    logging.getLogger("telegram").setLevel(max(numeric_level, logging.INFO))
