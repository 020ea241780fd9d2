"""T23 (SIGKILL) and T24 (SIGTERM): the real ``homeward run`` process, polling the
emulator in this test process, with 200 alert rows seeded in a pre-migrated database."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

from sqlalchemy import select

from bot.emulator import Emulator
from storage.db import Database
from storage.models import OutboxRow
from tests.delivery.conftest import TOKEN, Harness, figure

CONCURRENCY = 4
REPO = Path(__file__).resolve().parents[2]


def _config(tmp_path: Path, emu: Emulator, database_url: str) -> Path:
    path = tmp_path / "homeward.toml"
    path.write_text(
        "\n".join(
            [
                "[telegram]",
                f'token = "{TOKEN}"',
                f'base_url = "{emu.base_url}"',
                f'base_file_url = "{emu.base_file_url}"',
                "poll_timeout_seconds = 1",
                "[database]",
                f'url = "{database_url}"',
                "[delivery]",
                f"concurrency = {CONCURRENCY}",
            ]
        )
        + "\n"
    )
    return path


async def _spawn(config: Path, cwd: Path) -> asyncio.subprocess.Process:
    env = {**os.environ, "PTB_TIMEDELTA": "1", "NO_PROXY": "127.0.0.1,localhost"}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        "--config",
        str(config),
        cwd=str(REPO),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _seed(harness: Harness) -> set[int]:
    people = await harness.people(200)
    await harness.enqueue([harness.alert(tg, member) for tg, member in people])
    await harness.db.dispose()  # the process under test owns the database now
    return {tg for tg, _ in people}


async def _rows(db: Database) -> list[OutboxRow]:
    async with db.sessions() as s:
        return list((await s.execute(select(OutboxRow))).scalars())


async def _stop(proc: asyncio.subprocess.Process) -> tuple[int, bytes]:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode is not None
    return proc.returncode, err


async def test_t23_sigkill_then_restart_loses_nothing(
    harness: Harness, emu: Emulator, database_url: str, tmp_path: Path
) -> None:
    emu.latency_seconds = 0.02
    recipients = await _seed(harness)
    config = _config(tmp_path, emu, database_url)
    proc = await _spawn(config, tmp_path)
    try:
        await harness.wait_sends(40, timeout=30)
        proc.kill()  # SIGKILL
        await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    acked = len(harness.sends())
    in_flight = {r.id for r in await _rows(harness.db) if r.status == "sending"}

    restarted = time.monotonic()
    proc = await _spawn(config, tmp_path)
    try:

        def everyone() -> bool:
            return set(harness.per_chat()) >= recipients

        await emu.wait_for(everyone, timeout=40)
        remainder = time.monotonic() - restarted
        await harness.settled(timeout=10)
    finally:
        code, err = await _stop(proc)
    rows = {r.id: r for r in await _rows(harness.db)}
    per_chat = harness.per_chat()
    duplicated = {chat for chat, n in per_chat.items() if n > 1}
    flagged_chats = {r.chat_id for r in rows.values() if r.delivery_uncertain}
    figure(
        f"T23 acked_at_kill={acked} sending_at_kill={len(in_flight)} "
        f"delivered={len(set(per_chat) & recipients)}/200 "
        f"duplicates={sum(n - 1 for n in per_chat.values())} remainder={remainder:.1f}s"
    )
    assert code == 0, err.decode()[-2000:]
    assert set(per_chat) >= recipients, "0 lost"
    assert sum(n - 1 for n in per_chat.values()) <= CONCURRENCY
    assert duplicated <= flagged_chats, "every duplicate is flagged"
    assert all(rows[i].delivery_uncertain for i in in_flight), "every possible duplicate"
    assert len(in_flight) <= CONCURRENCY
    assert remainder <= 30
    assert {r.status for r in rows.values()} == {"sent"}


async def test_t24_sigterm_stops_promptly_and_restart_is_exactly_once(
    harness: Harness, emu: Emulator, database_url: str, tmp_path: Path
) -> None:
    emu.latency_seconds = 0.02
    recipients = await _seed(harness)
    config = _config(tmp_path, emu, database_url)
    proc = await _spawn(config, tmp_path)
    try:
        await harness.wait_sends(40, timeout=30)
        proc.send_signal(signal.SIGTERM)
        term = time.monotonic()
        _, err = await asyncio.wait_for(proc.communicate(), 15)
        exited = time.monotonic() - term
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    late = [c for c in harness.sends() if c.received > term + 0.1]
    rows = await _rows(harness.db)
    figure(
        f"T24 exit_code={proc.returncode} exited_after={exited:.2f}s "
        f"sends_after_100ms={len(late)} sent_before_restart={len(harness.sends())}"
    )
    assert proc.returncode == 0, err.decode()[-2000:]
    assert exited <= 15
    assert not late, "stopped claiming (and sending) within 100 ms"
    assert not [r for r in rows if r.status == "sending"], "claims released"
    assert not [r for r in rows if r.delivery_uncertain]

    proc = await _spawn(config, tmp_path)
    try:

        def everyone() -> bool:
            return set(harness.per_chat()) >= recipients

        await emu.wait_for(everyone, timeout=40)
        await harness.settled(timeout=10)
    finally:
        code, err = await _stop(proc)
    per_chat = harness.per_chat()
    figure(
        f"T24 after_restart delivered={len(set(per_chat) & recipients)}/200 "
        f"duplicates={sum(n - 1 for n in per_chat.values())}"
    )
    assert code == 0, err.decode()[-2000:]
    assert set(per_chat) == recipients, "0 lost"
    assert set(per_chat.values()) == {1}, "exactly once"
