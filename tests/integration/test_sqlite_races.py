"""SQLite concurrency (platform facts, Storage; trust scenario T29).

These tests always run on SQLite, whatever backend the suite is testing: they are about
the SQLite engine set-up in ``storage.db`` and SQLite needs no server.

The probe first proves it can catch the bug: with the driver's default (deferred)
transactions, concurrent read-then-update increments silently lose updates. The same
workload through ``storage.db.open_database`` (``BEGIN IMMEDIATE``) loses none.
"""

from __future__ import annotations

import asyncio
import os
import stat
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from storage.db import SQLITE_BUSY_TIMEOUT_MS, check_sqlite, open_database, sqlite_health

WORKERS = 20
INCREMENTS = 25  # 20 x 25 = 500 increments
T29_WRITERS = 20
T29_TRANSACTIONS = 200  # per writer: 4,000 transactions in all


def _url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def _create_counter(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as s:
        await s.execute(
            text("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)")
        )
        await s.execute(text("INSERT INTO counter (id, value) VALUES (1, 0)"))
        await s.commit()


async def _increment_many(sessions: async_sessionmaker[AsyncSession], times: int) -> None:
    for _ in range(times):
        async with sessions() as s:
            value = (await s.execute(text("SELECT value FROM counter WHERE id = 1"))).scalar_one()
            # Hand the event loop to the other workers between the read and the write,
            # as a real handler does while it awaits anything else.
            await asyncio.sleep(0)
            await s.execute(text("UPDATE counter SET value = :v WHERE id = 1"), {"v": value + 1})
            await s.commit()


async def _run_probe(sessions: async_sessionmaker[AsyncSession]) -> int:
    await _create_counter(sessions)
    await asyncio.gather(*(_increment_many(sessions, INCREMENTS) for _ in range(WORKERS)))
    async with sessions() as s:
        return int((await s.execute(text("SELECT value FROM counter WHERE id = 1"))).scalar_one())


async def test_default_driver_transactions_lose_updates(tmp_path: Path) -> None:
    """The control: a plain engine (no hooks) loses read-then-update increments silently."""
    engine = create_async_engine(_url(tmp_path / "plain.db"))
    try:
        final = await _run_probe(async_sessionmaker(engine, expire_on_commit=False))
    finally:
        await engine.dispose()
    lost = WORKERS * INCREMENTS - final
    assert lost > 0, "the probe no longer reproduces lost updates; it cannot catch the bug"


async def test_open_database_loses_no_updates(tmp_path: Path) -> None:
    url = _url(tmp_path / "hooked.db")
    db = open_database(url)
    try:
        final = await _run_probe(db.sessions)
    finally:
        await db.dispose()
    assert final == WORKERS * INCREMENTS


async def _t29_writer(
    sessions: async_sessionmaker[AsyncSession], writer: int, errors: Counter[str]
) -> None:
    """Mixed read-then-write transactions, each one a separate transaction."""
    for i in range(T29_TRANSACTIONS):
        try:
            async with sessions() as s:
                if i % 2 == 0:
                    # Read-then-update of the contested shared row.
                    value = (
                        await s.execute(text("SELECT value FROM counter WHERE id = 1"))
                    ).scalar_one()
                    await asyncio.sleep(0)
                    await s.execute(
                        text("UPDATE counter SET value = :v WHERE id = 1"), {"v": value + 1}
                    )
                else:
                    # Read the journal's last sequence number (shared by all writers), then
                    # append the next one. A stale read collides with UNIQUE (seq).
                    last = (await s.execute(text("SELECT MAX(seq) FROM journal"))).scalar_one()
                    await asyncio.sleep(0)
                    await s.execute(
                        text("INSERT INTO journal (writer, seq) VALUES (:w, :n)"),
                        {"w": writer, "n": 0 if last is None else last + 1},
                    )
                await s.commit()
        except (OperationalError, IntegrityError) as exc:  # counted, so a failure says why
            errors["database is locked" if "locked" in str(exc) else type(exc).__name__] += 1


async def test_t29_concurrent_writers_no_locked_errors_no_lost_writes(tmp_path: Path) -> None:
    db = open_database(_url(tmp_path / "t29.db"))
    try:
        await _create_counter(db.sessions)
        async with db.sessions() as s:
            await s.execute(
                text(
                    "CREATE TABLE journal (id INTEGER PRIMARY KEY, writer INTEGER NOT NULL, "
                    "seq INTEGER NOT NULL UNIQUE)"
                )
            )
            await s.commit()

        errors: Counter[str] = Counter()
        started = time.perf_counter()
        await asyncio.gather(*(_t29_writer(db.sessions, w, errors) for w in range(T29_WRITERS)))
        elapsed = time.perf_counter() - started

        async with db.sessions() as s:
            counter = (await s.execute(text("SELECT value FROM counter WHERE id = 1"))).scalar_one()
            journal = (await s.execute(text("SELECT writer, seq FROM journal ORDER BY seq"))).all()
    finally:
        await db.dispose()

    print(f"T29: {T29_WRITERS * T29_TRANSACTIONS} transactions in {elapsed:.2f} s")
    assert errors == Counter(), f"errors during T29: {dict(errors)}"
    half = T29_TRANSACTIONS // 2
    assert counter == T29_WRITERS * half, "lost read-then-update writes on the shared row"
    assert [seq for _, seq in journal] == list(range(T29_WRITERS * half)), "lost journal rows"
    per_writer = Counter(writer for writer, _ in journal)
    assert per_writer == dict.fromkeys(range(T29_WRITERS), half), "lost journal rows"


async def test_sqlite_health_and_file_mode(tmp_path: Path) -> None:
    path = tmp_path / "health.db"
    url = _url(path)
    old_umask = os.umask(0o022)  # a typical umask: a plain create would give 0644
    try:
        db = open_database(url)
    finally:
        os.umask(old_umask)
    try:
        async with db.sessions() as s:  # a write, so the -wal and -shm files exist
            await s.execute(text("CREATE TABLE t (x INTEGER)"))
            await s.commit()
        health = await sqlite_health(db, url)
        assert health.journal_mode == "wal"
        assert health.busy_timeout_ms >= 5000
        assert health.busy_timeout_ms == SQLITE_BUSY_TIMEOUT_MS
        assert health.foreign_keys is True
        assert health.file_mode == 0o600
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        await check_sqlite(db, url)  # a healthy file passes
    finally:
        await db.dispose()


async def test_foreign_keys_are_enforced(tmp_path: Path) -> None:
    db = open_database(_url(tmp_path / "fk.db"))
    try:
        async with db.sessions() as s:
            await s.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
            await s.execute(
                text(
                    "CREATE TABLE child (id INTEGER PRIMARY KEY, "
                    "parent_id INTEGER NOT NULL REFERENCES parent(id))"
                )
            )
            await s.commit()
        async with db.sessions() as s:
            with pytest.raises(IntegrityError, match="FOREIGN KEY constraint failed"):
                await s.execute(text("INSERT INTO child (parent_id) VALUES (42)"))
    finally:
        await db.dispose()


async def test_check_sqlite_tightens_wal_and_shm_modes(tmp_path: Path) -> None:
    path = tmp_path / "perm.db"
    url = _url(path)
    db = open_database(url)
    try:
        async with db.sessions() as s:
            await s.execute(text("CREATE TABLE t (x INTEGER)"))
            await s.execute(text("INSERT INTO t VALUES (1)"))
            await s.commit()
        side_files = [Path(f"{path}-wal"), Path(f"{path}-shm")]
        for p in side_files:
            assert p.exists(), f"{p.name} should exist while a WAL connection is open"
            p.chmod(0o644)
        path.chmod(0o644)
        await check_sqlite(db, url)
        for p in [path, *side_files]:
            assert stat.S_IMODE(p.stat().st_mode) == 0o600, p.name
    finally:
        await db.dispose()
