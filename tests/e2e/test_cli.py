"""The ``homeward`` command as an operator uses it: real processes, real signals."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from storage import audit_guard

TOKEN = "123456789:AAE_cli_test_token_that_must_not_leak_x"


def _homeward(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "bot.cli", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _config(tmp_path: Path, **extra: str) -> Path:
    db = tmp_path / "homeward.db"
    lines = [
        "[telegram]",
        f'token = "{TOKEN}"',
        'base_url = "http://127.0.0.1:9/bot"',
        "[database]",
        f'url = "sqlite+aiosqlite:///{db}"',
    ]
    lines += [f"{k} = {v}" for k, v in extra.items()]
    path = tmp_path / "homeward.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_operator_bootstrap_and_audit_verify_detects_tampering(tmp_path: Path) -> None:
    config = str(_config(tmp_path))
    run = _homeward("db", "upgrade", "--config", config, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "up to date" in run.stdout
    assert _homeward("db", "current", "--config", config, cwd=tmp_path).stdout.endswith(
        "up to date\n"
    )

    added = _homeward(
        "admin",
        "add",
        "--config",
        config,
        "--telegram-id",
        "4242",
        "--name",
        "Alex Admin",
        cwd=tmp_path,
    )
    assert added.returncode == 0, added.stderr
    again = _homeward(
        "admin",
        "add",
        "--config",
        config,
        "--telegram-id",
        "4242",
        "--name",
        "Alex Admin",
        cwd=tmp_path,
    )
    assert again.returncode == 1
    assert "already registered" in again.stderr
    assert "Traceback" not in again.stderr

    org = _homeward(
        "org",
        "add",
        "--config",
        config,
        "--kind",
        "intervention_team",
        "--name",
        "Sudbury Intervention Team",
        cwd=tmp_path,
    )
    assert org.returncode == 0, org.stderr
    invite = _homeward(
        "invite",
        "create",
        "--config",
        config,
        "--role",
        "responder",
        "--org",
        "Sudbury Intervention Team",
        cwd=tmp_path,
    )
    assert invite.returncode == 0, invite.stderr
    assert "/start " in invite.stdout
    wrong = _homeward(
        "invite",
        "create",
        "--config",
        config,
        "--role",
        "residence_staff",
        "--org",
        "Sudbury Intervention Team",
        cwd=tmp_path,
    )
    assert wrong.returncode == 1
    assert "cannot belong" in wrong.stderr

    verified = _homeward("audit", "verify", "--config", config, cwd=tmp_path)
    assert verified.returncode == 0, verified.stderr
    assert "timeline intact: 3 events" in verified.stdout

    with sqlite3.connect(tmp_path / "homeward.db") as conn:
        # History cannot be rewritten through SQL...
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("DELETE FROM timeline_events WHERE id = 3")
        # ...unless someone with DDL rights drops the guard first; the chain still tells.
        for statement in audit_guard.SQLITE_DROP:
            conn.execute(statement)
        conn.execute('UPDATE timeline_events SET details = \'{"role": "admin"}\' WHERE id = 3')
    tampered = _homeward("audit", "verify", "--config", config, cwd=tmp_path)
    assert tampered.returncode == 1
    assert "event #3" in tampered.stdout
    for result in (run, added, again, org, invite, wrong, verified, tampered):
        assert TOKEN not in result.stdout + result.stderr


def test_run_refuses_an_out_of_date_schema_with_the_fix(tmp_path: Path) -> None:
    config = str(_config(tmp_path))
    result = _homeward("run", "--config", config, cwd=tmp_path)
    assert result.returncode == 1
    assert "homeward db upgrade" in result.stderr
    assert "Traceback" not in result.stderr
    assert TOKEN not in result.stderr


async def test_run_without_a_token_serves_the_web_chat_within_10_s_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "HOMEWARD_SANDBOX__PORT": "0", "PYTHONUNBUFFERED": "1"}
    env.pop("HOMEWARD_CONFIG", None)
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        banner = ""
        while "Stop with Ctrl-C" not in banner:
            line = await asyncio.wait_for(proc.stdout.readline(), 20)
            assert line, "sandbox exited before printing its banner"
            banner += line.decode()
        chat_url = banner.split("Web chat: ", 1)[1].split()[0]
        url = banner.split("Telegram emulator: ", 1)[1].split()[0]
        assert chat_url.startswith("http://127.0.0.1:")
        assert chat_url == f"{url}/chat"
        async with aiohttp.ClientSession() as http:
            async with http.get(chat_url) as resp:
                assert resp.status == 200
                assert "<title>Homeward sandbox chat</title>" in await resp.text()
            # The web chat answered within 10 seconds of the command starting.
            assert time.monotonic() - started < 10
            async with http.get(f"{url}/chat/static/chat.js") as resp:
                assert resp.status == 200
            async with http.get(f"{url}/chat/api/personas") as resp:
                assert resp.status == 200
                assert (await resp.json())["personas"], "the web chat offers nobody to be"
            async with http.get(f"{url}/_emulator/calls") as resp:
                assert resp.status == 200
                methods = {c["method"] for c in await resp.json()}
        assert {"getMe", "deleteWebhook"} <= methods  # polling has begun
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 10) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    stderr = (await proc.stderr.read()).decode() if proc.stderr else ""
    assert "Traceback" not in stderr
    leftovers = await asyncio.to_thread(lambda: list(tmp_path.iterdir()))
    assert not leftovers, "the sandbox left files behind in the working directory"
