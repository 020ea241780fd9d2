"""configure_logging: one line per event, tokens and secrets scrubbed, noisy HTTP loggers quiet."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from bot.logging_setup import RedactingFilter, configure_logging

TOKEN = "1234567890:AAEhBP0av28dkfP5kgBBf-xk4mE9nMTu_Wg"
TOKEN_SECRET_PART = TOKEN.split(":", 1)[1]
WEBHOOK_SECRET = "wh-s3cret_Value"
DB_PASSWORD = "pg pass!word"
_TOUCHED = ("httpx", "httpcore", "aiohttp.access", "telegram", "homeward.test")


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in _TOUCHED}
    try:
        yield
    finally:
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
                handler.close()
        for handler in handlers:
            if handler not in root.handlers:
                root.addHandler(handler)
        root.setLevel(level)
        for name, lvl in levels.items():
            logging.getLogger(name).setLevel(lvl)


@pytest.fixture
def stream() -> io.StringIO:
    return io.StringIO()


def _lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def _assert_clean(text: str) -> None:
    assert TOKEN_SECRET_PART not in text
    assert WEBHOOK_SECRET not in text
    assert DB_PASSWORD not in text


log = logging.getLogger("homeward.test")


def test_plain_format_one_line(stream: io.StringIO) -> None:
    configure_logging(stream=stream)
    log.info("search %s started by %d staff", "S-17", 3)

    (line,) = _lines(stream)
    ts, level, name, msg = line.split(" ", 3)
    parsed = datetime.fromisoformat(ts)
    assert parsed.utcoffset() == timedelta(0)
    assert (level, name) == ("INFO", "homeward.test:")
    assert msg == "search S-17 started by 3 staff"


def test_token_in_message_is_redacted(stream: io.StringIO) -> None:
    configure_logging(stream=stream)
    log.warning(f"token is {TOKEN} ok")

    assert _lines(stream)[0].endswith("token is <token> ok")
    _assert_clean(stream.getvalue())


def test_token_in_args_is_redacted_and_args_cleared(stream: io.StringIO) -> None:
    configure_logging(stream=stream)
    records: list[logging.LogRecord] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    root = logging.getLogger()
    capture = Capture()
    # Handlers run in order: the Homeward handler's filter mutates the record first.
    root.addHandler(capture)
    log.error("bad token %s for %r", TOKEN, {"t": TOKEN})

    assert "bad token <token> for {'t': '<token>'}" in stream.getvalue()
    _assert_clean(stream.getvalue())
    (record,) = records
    assert record.args is None
    assert TOKEN not in str(record.msg)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"https://api.telegram.org/bot{TOKEN}/getMe", "https://api.telegram.org/bot<token>/getMe"),
        (
            f"https://api.telegram.org/file/bot{TOKEN}/photos/file_1.jpg",
            "https://api.telegram.org/file/bot<token>/photos/file_1.jpg",
        ),
        # A token too short for the generic pattern is still caught in its URL form.
        (
            "http://127.0.0.1:8081/bot123:abc/sendMessage",
            "http://127.0.0.1:8081/bot<token>/sendMessage",
        ),
        ("http://h/bot123%3Aabc/getMe", "http://h/bot<token>/getMe"),
    ],
)
def test_token_in_url_is_redacted(stream: io.StringIO, url: str, expected: str) -> None:
    configure_logging(stream=stream)
    log.info("GET %s", url)

    assert _lines(stream)[0].endswith(f"GET {expected}")


def test_url_pattern_leaves_ordinary_paths_alone() -> None:
    redactor = RedactingFilter()
    assert redactor.redact("see https://example.org/bottles/12") == (
        "see https://example.org/bottles/12"
    )


def test_token_in_exception_and_traceback_is_redacted(stream: io.StringIO) -> None:
    configure_logging(stream=stream)

    def call_api(url: str) -> None:
        raise ConnectionError(f"Cannot reach {url}")

    try:
        call_api(f"https://api.telegram.org/bot{TOKEN}/sendMessage")
    except ConnectionError:
        log.exception("send failed for token %s", TOKEN)

    text = stream.getvalue()
    _assert_clean(text)
    assert "Traceback (most recent call last)" in text
    assert "ConnectionError: Cannot reach https://api.telegram.org/bot<token>/sendMessage" in text
    assert "send failed for token <token>" in text


def test_stack_info_is_redacted(stream: io.StringIO) -> None:
    configure_logging(stream=stream)
    log.info("where am I", stack_info=True)
    assert "Stack (most recent call last)" in stream.getvalue()

    # Stack text holds source lines, which may embed a token literal: scrubbed too.
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "m", None, None)
    record.stack_info = f'Stack (most recent call last):\n  bot = Bot("{TOKEN}")'
    assert RedactingFilter().filter(record)
    assert record.stack_info.endswith('bot = Bot("<token>")')


def test_exact_secrets_are_redacted(stream: io.StringIO) -> None:
    configure_logging(stream=stream, secrets=[WEBHOOK_SECRET, "", DB_PASSWORD])
    log.info("webhook secret=%s", WEBHOOK_SECRET)
    log.info("dsn postgresql://homeward:%s@db/homeward", DB_PASSWORD)

    lines = _lines(stream)
    assert lines[0].endswith("webhook secret=<secret>")
    assert lines[1].endswith("dsn postgresql://homeward:<secret>@db/homeward")
    _assert_clean(stream.getvalue())


def test_empty_secret_is_ignored(stream: io.StringIO) -> None:
    configure_logging(stream=stream, secrets=[""])
    log.info("nothing to hide")
    assert _lines(stream)[0].endswith("nothing to hide")


def test_json_lines(stream: io.StringIO) -> None:
    configure_logging(stream=stream, json=True, secrets=[WEBHOOK_SECRET])
    log.info("update %d handled", 42, extra={"update_id": 42, "chat": "staff", "obj": object()})
    log.warning("secret %s", WEBHOOK_SECRET, extra={"leak": f"x{WEBHOOK_SECRET}y"})
    try:
        raise ValueError(TOKEN)
    except ValueError:
        log.exception("multi\nline message")

    lines = _lines(stream)
    assert len(lines) == 3  # one line per event, even with a traceback and a newline
    entries = [json.loads(line) for line in lines]
    for entry in entries:
        assert {"ts", "level", "logger", "msg"} <= entry.keys()
        assert datetime.fromisoformat(entry["ts"]).utcoffset() == timedelta(0)
        assert entry["logger"] == "homeward.test"
    first, second, third = entries
    assert first["level"] == "INFO"
    assert first["msg"] == "update 42 handled"
    assert first["update_id"] == 42
    assert first["chat"] == "staff"
    assert "obj" not in first  # not a simple type
    assert second["msg"] == "secret <secret>"
    assert second["leak"] == "x<secret>y"
    assert third["level"] == "ERROR"
    assert third["msg"] == "multi\nline message"
    assert "ValueError: <token>" in third["exc"]
    _assert_clean(stream.getvalue())


def test_idempotent_and_replaces_previous_handler(stream: io.StringIO) -> None:
    root = logging.getLogger()
    before = len(root.handlers)
    configure_logging(stream=io.StringIO())
    configure_logging(stream=stream, level="DEBUG")
    assert len(root.handlers) == before + 1
    assert root.level == logging.DEBUG

    log.debug("once")
    assert _lines(stream) == [_lines(stream)[0]]
    assert _lines(stream)[0].endswith("DEBUG homeward.test: once")


def test_unknown_level_rejected() -> None:
    with pytest.raises(ValueError, match="Unknown log level"):
        configure_logging(level="LOUD", stream=io.StringIO())


def test_http_loggers_quiet_and_telegram_never_below_info(stream: io.StringIO) -> None:
    # PTB logs whole updates and API parameters at DEBUG, so it stays at INFO or above.
    configure_logging(stream=stream, level="DEBUG")
    for name in ("httpx", "httpcore", "aiohttp.access", "aiosqlite", "geopy"):
        assert logging.getLogger(name).getEffectiveLevel() >= logging.WARNING
    assert logging.getLogger("telegram").getEffectiveLevel() == logging.INFO
    configure_logging(stream=stream, level="WARNING")
    assert logging.getLogger("telegram").getEffectiveLevel() == logging.WARNING

    logging.getLogger("httpx").info(f"HTTP Request: POST https://api.telegram.org/bot{TOKEN}/getMe")
    assert stream.getvalue() == ""

    logging.getLogger("telegram.ext.Updater").debug("polling with %s", TOKEN)
    assert stream.getvalue() == ""  # below the telegram loggers' floor
    logging.getLogger("telegram.ext.Updater").warning("polling with %s", TOKEN)
    assert _lines(stream)[0].endswith("telegram.ext.Updater: polling with <token>")


def test_unformattable_args_do_not_raise() -> None:
    # Called directly: pytest's own capture handler would raise on this record before ours runs.
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "needs two %s %s", (TOKEN,), None)
    assert RedactingFilter().filter(record)
    assert record.args is None
    assert "unformattable" in record.getMessage()
    _assert_clean(record.getMessage())
