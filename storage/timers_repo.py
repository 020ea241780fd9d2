"""Stored timers: armed under a unique key, claimed once by a conditional UPDATE.

A claim is ``UPDATE timers SET fired_at = :now WHERE id = :id AND fired_at IS NULL
AND cancelled_at IS NULL``; its row count says who won, so two schedulers (or a
scheduler and a test calling ``tick``) never fire the same timer twice. On PostgreSQL
the candidates are read ``FOR UPDATE SKIP LOCKED`` so a second claimer passes over
rows the first is firing instead of waiting for it; SQLite serialises writers anyway
(every transaction begins IMMEDIATE).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.ports_alerts import Timer
from storage.models import TimerRow


def _count(result: Any) -> int:
    if not isinstance(result, CursorResult):
        raise TypeError("expected a cursor result from a DML statement")
    return int(result.rowcount)


def _waiting() -> Any:
    return (TimerRow.fired_at.is_(None)) & (TimerRow.cancelled_at.is_(None))


def to_timer(row: TimerRow) -> Timer:
    return Timer(
        id=row.id,
        key=row.key,
        kind=row.kind,
        incident_id=row.incident_id,
        subject_id=row.subject_id,
        due_at=row.due_at,
        payload=dict(row.payload or {}),
        created_at=row.created_at,
    )


class SqlTimers:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    @property
    def _postgres(self) -> bool:
        return self.s.get_bind().dialect.name == "postgresql"

    async def schedule(
        self,
        *,
        key: str,
        kind: str,
        due_at: datetime,
        incident_id: int | None,
        subject_id: int | None,
        payload: dict[str, Any],
        at: datetime,
    ) -> bool:
        values = {
            "kind": kind,
            "due_at": due_at,
            "incident_id": incident_id,
            "subject_id": subject_id,
            "payload": payload,
            "created_at": at,
        }
        insert_fn = pg_insert if self._postgres else sqlite_insert
        inserted = await self.s.execute(
            insert_fn(TimerRow)
            .values(key=key, fired_at=None, cancelled_at=None, **values)
            .on_conflict_do_nothing(index_elements=["key"])
        )
        if _count(inserted) == 1:
            return True
        # The key exists: arm it again only if it is spent (fired or cancelled).
        rearmed = await self.s.execute(
            update(TimerRow)
            .where(
                TimerRow.key == key,
                or_(TimerRow.fired_at.is_not(None), TimerRow.cancelled_at.is_not(None)),
            )
            .values(fired_at=None, cancelled_at=None, **values)
            .execution_options(synchronize_session=False)
        )
        return _count(rearmed) == 1

    async def cancel(self, key: str, *, at: datetime, prefix: bool = False) -> int:
        match = TimerRow.key.startswith(key, autoescape=True) if prefix else TimerRow.key == key
        result = await self.s.execute(
            update(TimerRow)
            .where(match, _waiting())
            .values(cancelled_at=at)
            .execution_options(synchronize_session=False)
        )
        return _count(result)

    async def cancel_for_incident(
        self, incident_id: int, *, kinds: Sequence[str] | None, at: datetime
    ) -> int:
        match = TimerRow.incident_id == incident_id
        if kinds is not None:
            match = match & TimerRow.kind.in_(list(kinds))
        result = await self.s.execute(
            update(TimerRow)
            .where(match, _waiting())
            .values(cancelled_at=at)
            .execution_options(synchronize_session=False)
        )
        return _count(result)

    async def claim_due(self, *, now: datetime, limit: int) -> list[Timer]:
        query = (
            select(TimerRow)
            .where(_waiting(), TimerRow.due_at <= now)
            .order_by(TimerRow.due_at, TimerRow.id)
            .limit(limit)
        )
        if self._postgres:
            query = query.with_for_update(skip_locked=True)
        rows = (await self.s.execute(query)).scalars().all()
        claimed: list[Timer] = []
        for row in rows:
            timer = to_timer(row)
            if await self.finish(timer.id, at=now):
                claimed.append(timer)
        return claimed

    async def finish(self, timer_id: int, *, at: datetime) -> bool:
        result = await self.s.execute(
            update(TimerRow)
            .where(TimerRow.id == timer_id, _waiting())
            .values(fired_at=at)
            .execution_options(synchronize_session=False)
        )
        return _count(result) == 1

    async def reschedule(self, key: str, *, due_at: datetime) -> bool:
        result = await self.s.execute(
            update(TimerRow)
            .where(TimerRow.key == key, _waiting())
            .values(due_at=due_at)
            .execution_options(synchronize_session=False)
        )
        return _count(result) == 1

    async def latest(self, incident_id: int, kind: str) -> Timer | None:
        row = (
            await self.s.execute(
                select(TimerRow)
                .where(TimerRow.incident_id == incident_id, TimerRow.kind == kind)
                .order_by(TimerRow.id.desc())
                .limit(1)
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        return to_timer(row) if row else None
