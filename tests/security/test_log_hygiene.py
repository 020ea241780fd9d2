"""T32: logs and error output never carry the bot token, other secrets or personal details.

In-process (logging configured the production way, ``configure_logging``, writing to a
string, plus pytest's ``caplog`` on the same records):

* a membership journey (invite, registration, approval) with forced faults: 500 and 403 on
  ``sendMessage``, 500 and a dropped connection on ``getUpdates``, at DEBUG: no token-shaped
  string, no token, no ``httpx`` chatter (its level is >= WARNING);
* the same journey at DEBUG: no canary personal details;
* a storage failure inside a handler (a real database error raised by a trigger while a
  registrant's name is saved): the error is logged, but not the name;
* a token the Bot API rejects at startup: start fails, nothing token-shaped is logged.

As a subprocess (``python -m bot.cli run --config FILE``): invalid TOML, an unknown key, a bad
value, a malformed token, a token Telegram rejects. Each exits non-zero, with no traceback
and no secret (a database password and the token are planted in every file); configuration
errors are exactly one line that names the key.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import text
from telegram.error import InvalidToken

from bot import texts
from bot.app import build_app
from bot.clock import FakeClock
from bot.emulator import Emulator
from bot.emulator.models import Fault
from bot.logging_setup import configure_logging
from bot.settings import load_settings
from tests.e2e.conftest import World
from tests.security.conftest import (
    CANARY,
    TOKEN,
    TOKEN_RE,
    open_world,
    seed_canaries,
)

ROOT = Path(__file__).resolve().parents[2]
DB_PASSWORD = "Sup3rS3cret_dbpw_CANARY_8d21"
TOKEN_SECRET = TOKEN.split(":", 1)[1]
QUIET = ("httpx", "httpcore", "aiohttp.access", "telegram")


# ---------------------------------------------------------------------------------------
# In-process
# ---------------------------------------------------------------------------------------


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in QUIET}
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


def _configure(level: str) -> io.StringIO:
    stream = io.StringIO()
    configure_logging(level=level, secrets=[TOKEN, DB_PASSWORD], stream=stream)
    return stream


@pytest.fixture
def debug_log(restore_logging: None) -> io.StringIO:
    return _configure("DEBUG")


@pytest.fixture
def info_log(restore_logging: None) -> io.StringIO:
    return _configure("INFO")


async def _world(database_url: str, clock: FakeClock) -> AsyncIterator[World]:
    async with open_world(database_url, clock) as world:
        yield world


@pytest.fixture
async def debug_world(
    debug_log: io.StringIO, database_url: str, clock: FakeClock
) -> AsyncIterator[World]:
    async for world in _world(database_url, clock):  # built after logging: startup is logged
        yield world


@pytest.fixture
async def info_world(
    info_log: io.StringIO, database_url: str, clock: FakeClock
) -> AsyncIterator[World]:
    async for world in _world(database_url, clock):
        yield world


def _all_log_text(stream: io.StringIO, caplog: Any) -> str:
    """What the Homeward handler wrote, and every record as it finally reads."""
    records = []
    for record in caplog.records:
        records.append(record.getMessage())
        if record.exc_text:
            records.append(record.exc_text)
    return stream.getvalue() + "\n" + "\n".join(records)


async def _journey_with_faults(world: World) -> None:
    emu = world.emu
    emu.inject_fault(Fault("500", method="getUpdates", times=1))
    seed = await seed_canaries(world)
    # 500 on the next send: retried after a backoff, then delivered.
    emu.inject_fault(Fault("500", method="sendMessage", times=1))
    replies = len(emu.bot_messages(seed.responder.user_id))
    emu.send_text(seed.responder.user_id, "/whoami")
    await emu.wait_for(lambda: len(emu.bot_messages(seed.responder.user_id)) > replies, 10)
    # 403: the recipient blocked the bot.
    emu.inject_fault(Fault("blocked", method="sendMessage", chat_id=seed.admin.user_id))
    await world.say(seed.admin, "/members")
    # A dropped connection while long-polling.
    emu.inject_fault(Fault("refuse", method="getUpdates", times=1))
    world.clock.advance(61)
    stranger = world.person("Sam Stranger")
    emu.send_text(stranger.user_id, "/start " + "A" * 32)
    await emu.wait_for(lambda: bool(emu.bot_messages(stranger.user_id)), 15)
    await world.settle()
    assert sum(1 for c in emu.calls if c.status >= 400 or c.status == 0) >= 4


async def test_tokens_never_reach_the_logs(
    debug_world: World, debug_log: io.StringIO, caplog: Any
) -> None:
    await _journey_with_faults(debug_world)
    logged = _all_log_text(debug_log, caplog)
    assert "outbox" in logged or "sendMessage" in logged  # the faults were logged at all
    assert not TOKEN_RE.search(logged), TOKEN_RE.search(logged)
    assert TOKEN not in logged
    assert TOKEN_SECRET not in logged
    assert DB_PASSWORD not in logged
    for name in ("httpx", "httpcore"):
        assert logging.getLogger(name).getEffectiveLevel() >= logging.WARNING
    assert not [
        r
        for r in caplog.records
        if r.name.startswith(("httpx", "httpcore")) and r.levelno < logging.WARNING
    ]


async def test_debug_logs_carry_no_personal_details(
    debug_world: World, debug_log: io.StringIO, caplog: Any
) -> None:
    await _journey_with_faults(debug_world)
    logged = _all_log_text(debug_log, caplog)
    leaks = sorted({line.split(": ", 1)[0][:80] for line in logged.splitlines() if CANARY in line})
    assert CANARY not in logged, f"personal details logged by: {leaks[:5]}"


_TRIGGERS = {
    "sqlite": [
        "CREATE TRIGGER fail_canary BEFORE UPDATE OF name ON members "
        "WHEN NEW.name LIKE 'CANARY_FAIL%' "
        "BEGIN SELECT RAISE(ABORT, 'simulated storage failure'); END",
    ],
    "postgresql": [
        "CREATE FUNCTION fail_canary() RETURNS trigger AS $$ BEGIN "
        "IF NEW.name LIKE 'CANARY_FAIL%' THEN RAISE EXCEPTION 'simulated storage failure'; "
        "END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER fail_canary BEFORE UPDATE ON members FOR EACH ROW "
        "EXECUTE FUNCTION fail_canary()",
    ],
}


async def test_a_storage_failure_in_a_handler_logs_no_personal_details(
    info_world: World, info_log: io.StringIO, caplog: Any
) -> None:
    world = info_world
    seed = await seed_canaries(world)
    async with world.hw.db.engine.begin() as conn:
        for statement in _TRIGGERS[world.hw.db.dialect]:
            await conn.execute(text(statement))
    person = world.person("Fay Failing")
    code = await world.invite(seed.admin, "Responder", "CANARY_ORG_91c2")
    await world.say(person, f"/start {code}")
    replies = await world.say(person, "CANARY_FAIL_3e9c Person")
    assert texts.ERRORS["error"] in [m.text for m in replies]  # the handler did fail
    logged = _all_log_text(info_log, caplog)
    assert "handler failed on update" in logged  # the failure itself is logged
    assert "simulated storage failure" in logged
    assert CANARY not in logged, [line[:160] for line in logged.splitlines() if CANARY in line]


async def test_a_rejected_token_at_startup_fails_without_logging_it(
    emulator: Emulator,
    database_url: str,
    clock: FakeClock,
    debug_log: io.StringIO,
    caplog: Any,
) -> None:
    wrong = "987654321:AAF_this_token_is_not_the_emulators_xyz"
    settings = load_settings(
        None,
        telegram={
            "token": SecretStr(wrong),
            "base_url": emulator.base_url,
            "base_file_url": emulator.base_file_url,
            "poll_timeout_seconds": 1,
        },
        database={"url": SecretStr(database_url)},
        geocoding={"enabled": False},
    )
    homeward = build_app(settings, clock=clock)
    requests = homeward.application.bot._request  # (getUpdates, everything else)
    try:
        with pytest.raises(InvalidToken):
            await homeward.start()
        await homeward.stop()
        still_open = [r for r in requests if r.is_initialized]  # type: ignore[attr-defined]
        assert not still_open, (
            f"stop() after a failed start left {len(still_open)} HTTP session(s) open"
        )
    finally:  # so a leak is reported here, not as a ResourceWarning in a later test
        for request in requests:
            await request.shutdown()
    assert [c.status for c in emulator.calls] == [401]
    logged = _all_log_text(debug_log, caplog)
    assert not TOKEN_RE.search(logged), TOKEN_RE.search(logged)
    assert wrong.split(":", 1)[1] not in logged


# ---------------------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------------------


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMEWARD_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    env["PTB_TIMEDELTA"] = "1"
    return env


def _db_url_with_password() -> str:
    return f"postgresql+asyncpg://homeward:{DB_PASSWORD}@127.0.0.1:1/homeward"


CONFIG_ERRORS = {
    "invalid TOML": (
        f'[database]\nurl = "{_db_url_with_password()}"\n[telegram\ntoken = "{TOKEN}"\n',
        "not valid TOML",
    ),
    "unknown key": (
        f'[database]\nurl = "{_db_url_with_password()}"\npasword = "{DB_PASSWORD}"\n'
        f'[telegram]\ntoken = "{TOKEN}"\n',
        "database.pasword",
    ),
    "bad value": (
        f'[database]\nurl = "{_db_url_with_password()}"\npool_size = "{DB_PASSWORD}"\n'
        f'[telegram]\ntoken = "{TOKEN}"\n',
        "database.pool_size",
    ),
    "malformed token": (
        f'[database]\nurl = "{_db_url_with_password()}"\n'
        f'[telegram]\ntoken = "12345:{DB_PASSWORD}"\n',
        "telegram.token",
    ),
    "token in the wrong key": (
        f'[database]\nurl = "{_db_url_with_password()}"\n[telegram]\nmode = "{TOKEN}"\n',
        "telegram.mode",
    ),
}


@pytest.mark.parametrize("case", sorted(CONFIG_ERRORS))
def test_config_errors_are_one_line_naming_the_key(tmp_path: Path, case: str) -> None:
    body, key = CONFIG_ERRORS[case]
    config = tmp_path / "bad.toml"
    config.write_text(body, encoding="utf-8")
    result = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
        [sys.executable, "-m", "bot.cli", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=_env(),
        check=False,
    )
    assert result.returncode != 0
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert key in lines[0], lines[0]
    assert "Traceback" not in result.stderr
    output = result.stdout + result.stderr
    assert DB_PASSWORD not in output
    assert TOKEN not in output
    assert TOKEN_SECRET not in output
    assert not TOKEN_RE.search(output)


async def test_a_token_telegram_rejects_exits_without_printing_it(
    emulator: Emulator, database_url: str, tmp_path: Path
) -> None:
    wrong = "987654321:AAF_this_token_is_not_the_emulators_xyz"
    config = tmp_path / "run.toml"
    config.write_text(
        f'[telegram]\ntoken = "{wrong}"\nbase_url = "{emulator.base_url}"\n'
        f'poll_timeout_seconds = 1\n[database]\nurl = "{database_url}"\n'
        f"[geocoding]\nenabled = false\n",
        encoding="utf-8",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        "--config",
        str(config),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=tmp_path,
        env=_env(),
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    output = stdout.decode() + stderr.decode()
    assert process.returncode != 0, output
    assert [c.status for c in emulator.calls] == [401]
    assert wrong not in output, output
    assert wrong.split(":", 1)[1] not in output
    assert not TOKEN_RE.search(output), output
    assert "Traceback" not in output
    # The error is the last word, not followed by noise (e.g. unclosed-session reports).
    assert stderr.decode().splitlines()[-1].startswith("homeward: "), output
