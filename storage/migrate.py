"""Schema migrations (Alembic), driven from code: ``homeward db upgrade``."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from storage.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str | None:
    script = ScriptDirectory.from_config(alembic_config("sqlite+aiosqlite://"))
    return script.get_current_head()


async def upgrade(url: str) -> None:
    """Bring the schema to the newest revision (runs Alembic in a worker thread)."""
    cfg = alembic_config(url)
    await asyncio.to_thread(command.upgrade, cfg, "head")


async def current_revision(db: Database) -> str | None:
    def read(conn: Connection) -> str | None:
        return MigrationContext.configure(conn).get_current_revision()

    async with db.engine.connect() as conn:
        revision = await conn.run_sync(read)
        await conn.rollback()
    return revision


async def schema_is_current(db: Database) -> bool:
    return await current_revision(db) == head_revision()
