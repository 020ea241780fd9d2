"""Engines and sessions for SQLite (single instance) and PostgreSQL (multi-instance).

SQLite: WAL, ``busy_timeout``, foreign keys, and every transaction begins
IMMEDIATE. With the driver's default deferred transactions a read-then-update
race silently lost 470 of 500 updates here; ``BEGIN IMMEDIATE`` takes the write
lock up front so that cannot happen (``tests/integration/test_sqlite_races.py``).
"""

from __future__ import annotations

import asyncio
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SQLITE_BUSY_TIMEOUT_MS = 10_000


class StorageError(RuntimeError):
    """A storage problem that should stop the process with a clear message."""


@dataclass(frozen=True, slots=True)
class Database:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def dispose(self) -> None:
        await self.engine.dispose()


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        return None
    if not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def open_database(url: str, *, pool_size: int = 10, echo: bool = False) -> Database:
    parsed = make_url(url)
    # Parameters can hold personal details: never put them in exception messages or logs.
    kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
    if parsed.drivername.startswith("sqlite"):
        if parsed.drivername != "sqlite+aiosqlite":
            raise StorageError("SQLite URLs must use the async driver: sqlite+aiosqlite:///PATH")
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                # Created owner-only before SQLite opens it: it holds personal data.
                fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
                os.close(fd)
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        engine = create_async_engine(url, **kwargs)
        _install_sqlite_hooks(engine)
    elif parsed.drivername in ("postgresql+asyncpg", "postgresql"):
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+asyncpg")
        engine = create_async_engine(
            parsed, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size, **kwargs
        )
    else:
        raise StorageError(
            f"unsupported database driver {parsed.drivername!r}: "
            "use sqlite+aiosqlite:///PATH or postgresql+asyncpg://..."
        )
    sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
    return Database(engine, sessions)


def _install_sqlite_hooks(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves (the driver's implicit BEGIN is DEFERRED).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


@dataclass(frozen=True, slots=True)
class SqliteHealth:
    journal_mode: str
    busy_timeout_ms: int
    foreign_keys: bool
    file_mode: int | None


async def sqlite_health(db: Database, url: str) -> SqliteHealth:
    async with db.engine.connect() as conn:
        journal = str((await conn.execute(text("PRAGMA journal_mode"))).scalar_one())
        busy = int((await conn.execute(text("PRAGMA busy_timeout"))).scalar_one())
        fks = bool((await conn.execute(text("PRAGMA foreign_keys"))).scalar_one())
        await conn.rollback()
    path = sqlite_path(url)
    mode = stat.S_IMODE(path.stat().st_mode) if path and path.exists() else None
    return SqliteHealth(journal.lower(), busy, fks, mode)


async def check_sqlite(db: Database, url: str) -> None:
    """Refuse to run on an SQLite file set up unsafely."""
    if db.dialect != "sqlite":
        return
    health = await sqlite_health(db, url)
    if health.journal_mode != "wal":
        raise StorageError(f"SQLite journal_mode is {health.journal_mode}, expected wal")
    if health.busy_timeout_ms < 5000:
        raise StorageError("SQLite busy_timeout is below 5000 ms")
    if not health.foreign_keys:
        raise StorageError("SQLite foreign keys are off")
    path = sqlite_path(url)
    if path is not None:
        await asyncio.to_thread(_tighten_modes, path)


def _tighten_modes(path: Path) -> None:
    """The database and its WAL files hold personal data: owner-only."""
    for suffix in ("", "-wal", "-shm"):
        p = Path(f"{path}{suffix}")
        if p.exists() and stat.S_IMODE(p.stat().st_mode) & 0o077:
            p.chmod(0o600)


async def ping(conn: AsyncConnection) -> None:
    await conn.execute(text("SELECT 1"))
