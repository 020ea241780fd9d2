"""The webhook inbox: persist first, answer Telegram second, handle each update once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storage.db import Database
from storage.models import InboxRow


@dataclass(frozen=True, slots=True)
class Received:
    update_id: int
    payload: dict[str, Any]


def _count(result: Any) -> int:
    if not isinstance(result, CursorResult):
        raise TypeError("expected a cursor result from a DML statement")
    return int(result.rowcount)


class InboxStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, *, update_id: int, payload: dict[str, Any], at: datetime) -> bool:
        """Store an update; False when that update_id was already received (a redelivery)."""
        insert_fn = pg_insert if self.db.dialect == "postgresql" else sqlite_insert
        async with self.db.sessions() as s, s.begin():
            result = await s.execute(
                insert_fn(InboxRow)
                .values(update_id=update_id, received_at=at, payload=payload)
                .on_conflict_do_nothing(index_elements=["update_id"])
            )
            return _count(result) == 1

    async def pending(self, *, limit: int) -> list[Received]:
        async with self.db.sessions() as s:
            rows = (
                await s.execute(
                    select(InboxRow.update_id, InboxRow.payload)
                    .where(InboxRow.processed_at.is_(None))
                    .order_by(InboxRow.update_id)
                    .limit(limit)
                )
            ).all()
        return [Received(r[0], dict(r[1])) for r in rows]

    async def mark_done(self, update_id: int, *, at: datetime) -> None:
        async with self.db.sessions() as s, s.begin():
            await s.execute(
                update(InboxRow)
                .where(InboxRow.update_id == update_id)
                .values(processed_at=at, payload={})  # the content is not kept once handled
                .execution_options(synchronize_session=False)
            )

    async def purge(self, *, before: datetime) -> int:
        """Forget handled updates older than ``before`` (Telegram redelivers for 24 h at most)."""
        async with self.db.sessions() as s, s.begin():
            result = await s.execute(
                delete(InboxRow).where(
                    InboxRow.processed_at.is_not(None), InboxRow.received_at < before
                )
            )
            return _count(result)
