"""The timeline is append-only in the database itself, not only by convention.

Triggers refuse UPDATE and DELETE on ``timeline_events`` for every connection, so
the application cannot rewrite history even by mistake. Someone with DDL rights
can still drop them; the hash chain (``homeward audit verify``) catches that.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

MESSAGE = "timeline_events is append-only"

SQLITE_CREATE = (
    "CREATE TRIGGER IF NOT EXISTS timeline_no_update BEFORE UPDATE ON timeline_events "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
    "CREATE TRIGGER IF NOT EXISTS timeline_no_delete BEFORE DELETE ON timeline_events "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS timeline_no_update",
    "DROP TRIGGER IF EXISTS timeline_no_delete",
)
POSTGRES_CREATE = (
    "CREATE OR REPLACE FUNCTION homeward_timeline_append_only() RETURNS trigger AS $$ "
    f"BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER timeline_append_only BEFORE UPDATE OR DELETE ON timeline_events "
    "FOR EACH ROW EXECUTE FUNCTION homeward_timeline_append_only()",
)
POSTGRES_DROP = (
    "DROP TRIGGER IF EXISTS timeline_append_only ON timeline_events",
    "DROP FUNCTION IF EXISTS homeward_timeline_append_only()",
)


def install(connection: Connection) -> None:
    statements = POSTGRES_CREATE if connection.dialect.name == "postgresql" else SQLITE_CREATE
    for statement in statements:
        connection.exec_driver_sql(statement)


def remove(connection: Connection) -> None:
    """Only for migrations going down, and for tests that play an attacker with DDL rights."""
    statements = POSTGRES_DROP if connection.dialect.name == "postgresql" else SQLITE_DROP
    for statement in statements:
        connection.exec_driver_sql(statement)
