"""SQL for incident updates and confirmed sightings.

Confirming is one conditional UPDATE (``... WHERE confirmed_at IS NULL``): of two
coordinators pressing at once, exactly one wins.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.updates import IncidentUpdate
from storage.models import IncidentUpdateRow


def _count(result: Any) -> int:
    if not isinstance(result, CursorResult):
        raise TypeError("expected a cursor result from a DML statement")
    return int(result.rowcount)


def to_update(row: IncidentUpdateRow) -> IncidentUpdate:
    return IncidentUpdate(
        id=row.id,
        incident_id=row.incident_id,
        member_id=row.member_id,
        created_at=row.created_at,
        text=row.text,
        latitude=row.latitude,
        longitude=row.longitude,
        location_label=row.location_label,
        photo_file_id=row.photo_file_id,
        confirmed_by=row.confirmed_by,
        confirmed_at=row.confirmed_at,
    )


class SqlIncidentUpdates:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def add(
        self,
        *,
        incident_id: int,
        member_id: int,
        at: datetime,
        text: str | None,
        latitude: float | None = None,
        longitude: float | None = None,
        location_label: str | None = None,
        photo_file_id: str | None = None,
    ) -> IncidentUpdate:
        row = IncidentUpdateRow(
            incident_id=incident_id,
            member_id=member_id,
            created_at=at,
            text=text,
            latitude=latitude,
            longitude=longitude,
            location_label=location_label,
            photo_file_id=photo_file_id,
        )
        self.s.add(row)
        await self.s.flush()
        return to_update(row)

    async def get(self, update_id: int) -> IncidentUpdate | None:
        row = await self.s.get(IncidentUpdateRow, update_id, populate_existing=True)
        return to_update(row) if row else None

    async def latest_for_incident(
        self, incident_id: int, *, limit: int = 10
    ) -> list[IncidentUpdate]:
        rows = (
            await self.s.execute(
                select(IncidentUpdateRow)
                .where(IncidentUpdateRow.incident_id == incident_id)
                .order_by(IncidentUpdateRow.id.desc())
                .limit(limit)
                .execution_options(populate_existing=True)
            )
        ).scalars()
        return [to_update(r) for r in rows]

    async def confirm(self, update_id: int, *, by_member_id: int, at: datetime) -> bool:
        result = await self.s.execute(
            update(IncidentUpdateRow)
            .where(
                IncidentUpdateRow.id == update_id,
                IncidentUpdateRow.confirmed_at.is_(None),
                IncidentUpdateRow.member_id != by_member_id,
            )
            .values(confirmed_by=by_member_id, confirmed_at=at)
            .execution_options(synchronize_session=False)
        )
        return _count(result) == 1
