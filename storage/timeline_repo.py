"""SQL for the append-only timeline: each event is chained to the one before by its
hash, and appends are serialised so the chain has no forks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.timeline import GENESIS, Event, RecordedEvent, event_hash
from storage.models import TimelineRow


def to_recorded(row: TimelineRow) -> RecordedEvent:
    return RecordedEvent(
        id=row.id,
        at=row.at,
        event=Event(
            action=row.action,
            subject_type=row.subject_type,
            subject_id=row.subject_id,
            actor_member_id=row.actor_member_id,
            actor_telegram_id=row.actor_telegram_id,
            incident_id=row.incident_id,
            details=dict(row.details or {}),
        ),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


TIMELINE_LOCK_KEY = 0x484F4D45  # "HOME": serialises chain appends on PostgreSQL


class SqlTimeline:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def serialize(self) -> None:
        if self.s.get_bind().dialect.name == "postgresql":
            await self.s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": TIMELINE_LOCK_KEY})

    async def append(self, event: Event, *, at: datetime) -> RecordedEvent:
        await self.serialize()
        prev = (
            await self.s.execute(select(TimelineRow.hash).order_by(TimelineRow.id.desc()).limit(1))
        ).scalar_one_or_none() or GENESIS
        row = TimelineRow(
            at=at,
            action=event.action,
            subject_type=event.subject_type,
            subject_id=event.subject_id,
            actor_member_id=event.actor_member_id,
            actor_telegram_id=event.actor_telegram_id,
            incident_id=event.incident_id,
            details=event.details,
            prev_hash=prev,
            hash=event_hash(prev, at, event),
        )
        self.s.add(row)
        await self.s.flush()
        return to_recorded(row)

    async def iterate(self) -> AsyncIterator[RecordedEvent]:
        result = await self.s.stream_scalars(select(TimelineRow).order_by(TimelineRow.id))
        async for row in result:
            yield to_recorded(row)

    async def list_for_subject(self, subject_type: str, subject_id: str) -> list[RecordedEvent]:
        rows = (
            await self.s.execute(
                select(TimelineRow)
                .where(
                    TimelineRow.subject_type == subject_type, TimelineRow.subject_id == subject_id
                )
                .order_by(TimelineRow.id)
            )
        ).scalars()
        return [to_recorded(r) for r in rows]
