"""Integration fixtures on top of ``tests/conftest.py``: an open database, a service
context over it, and an empty (never migrated) database of the backend under test."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.services.context import SecureIds, ServiceContext
from storage.db import Database, open_database
from storage.uow import uow_factory
from tests.conftest import PG_URL, _pg_admin, _pg_url_for


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = open_database(database_url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def ctx(db: Database, clock: FakeClock) -> ServiceContext:
    return ServiceContext(uow=uow_factory(db.sessions), clock=clock, ids=SecureIds())


@pytest.fixture
async def empty_database_url(tmp_path: Path) -> AsyncIterator[str]:
    """A database of the backend under test with no tables at all."""
    if PG_URL is None:
        yield f"sqlite+aiosqlite:///{tmp_path}/empty.db"
        return
    name = f"homeward_e_{secrets.token_hex(6)}"
    conn = await _pg_admin()
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
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
