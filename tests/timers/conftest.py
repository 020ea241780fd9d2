"""Fixtures for the stored-timer tests: a migrated database of the backend under test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.clock import FakeClock
from bot.services.context import SecureIds, ServiceContext
from storage.db import Database, open_database
from storage.uow import uow_factory
from tests.e2e.conftest import emulator, nominatim, world  # noqa: F401  (the T11 journey)


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
