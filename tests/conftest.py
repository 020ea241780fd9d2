"""Shared fixtures: a fresh, migrated database per test (SQLite, or PostgreSQL when
``HOMEWARD_TEST_DATABASE_URL`` names one), a fake clock, deterministic ids."""

from __future__ import annotations

import os

os.environ.setdefault("PTB_TIMEDELTA", "1")
os.environ["NO_PROXY"] = ",".join(
    filter(None, [os.environ.get("NO_PROXY", ""), "127.0.0.1", "localhost"])
)

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from bot.clock import FakeClock
from storage.migrate import upgrade

PG_URL = os.environ.get("HOMEWARD_TEST_DATABASE_URL")
# One template per test session: parallel sessions (two checkouts, or a developer's run
# beside CI) must never share one, or one would copy the other's schema.
TEMPLATE = f"homeward_tpl_{os.getpid()}_{secrets.token_hex(3)}"
_template_ready = False


def backend() -> str:
    return "postgresql" if PG_URL else "sqlite"


async def _pg_admin() -> asyncpg.Connection:
    assert PG_URL is not None
    url = make_url(PG_URL)
    return await asyncpg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        database="postgres",
    )


def _pg_url_for(database: str) -> str:
    assert PG_URL is not None
    return (
        make_url(PG_URL)
        .set(drivername="postgresql+asyncpg", database=database)
        .render_as_string(hide_password=False)
    )


async def _ensure_template() -> None:
    global _template_ready
    if _template_ready:
        return
    conn = await _pg_admin()
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{TEMPLATE}"')
    finally:
        await conn.close()
    await upgrade(_pg_url_for(TEMPLATE))
    _template_ready = True


@pytest.fixture
async def database_url(tmp_path: os.PathLike[str]) -> AsyncIterator[str]:
    """A migrated, empty database of the backend under test."""
    if PG_URL is None:
        url = f"sqlite+aiosqlite:///{tmp_path}/homeward-test.db"
        await upgrade(url)
        yield url
        return
    await _ensure_template()
    name = f"homeward_t_{secrets.token_hex(6)}"
    conn = await _pg_admin()
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
    finally:
        await conn.close()
    try:
        yield _pg_url_for(name)
    finally:
        conn = await _pg_admin()
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 6, 15, 0, tzinfo=UTC))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Drop this session's PostgreSQL template, if it made one."""
    if PG_URL is None or not _template_ready:
        return

    async def drop() -> None:
        conn = await _pg_admin()
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(drop())
