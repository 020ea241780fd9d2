"""Migrations on the backend under test: they build exactly the schema the models
describe, so a model change without a migration (or the reverse) fails here."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from storage.db import open_database
from storage.migrate import current_revision, head_revision, schema_is_current, upgrade
from storage.models import Base

ALEMBIC_TABLE = "alembic_version"


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


def _differences(conn: Connection) -> list[Any]:
    context = MigrationContext.configure(
        conn,
        opts={"compare_type": True, "compare_server_default": True},
    )
    return list(compare_metadata(context, Base.metadata))


async def test_upgrade_builds_the_current_schema(empty_database_url: str) -> None:
    db = open_database(empty_database_url)
    try:
        assert await current_revision(db) is None
        assert not await schema_is_current(db)

        await upgrade(empty_database_url)
        assert await schema_is_current(db)
        assert await current_revision(db) == head_revision()

        # Running it again is harmless (``homeward db upgrade`` on every deploy).
        await upgrade(empty_database_url)
        assert await schema_is_current(db)

        async with db.engine.connect() as conn:
            tables = await conn.run_sync(_tables)
            await conn.rollback()
    finally:
        await db.dispose()
    assert tables - {ALEMBIC_TABLE} == set(Base.metadata.tables)


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    db = open_database(database_url)
    try:
        async with db.engine.connect() as conn:
            differences = await conn.run_sync(_differences)
            await conn.rollback()
    finally:
        await db.dispose()
    assert differences == [], (
        "the models and the migrations disagree; write a migration for: "
        + "; ".join(str(d) for d in differences)
    )
