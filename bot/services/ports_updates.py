"""Storage interface for incident updates and confirmed sightings."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.domain.updates import IncidentUpdate


class IncidentUpdateRepo(Protocol):
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
    ) -> IncidentUpdate: ...
    async def get(self, update_id: int) -> IncidentUpdate | None: ...
    async def latest_for_incident(
        self, incident_id: int, *, limit: int = 10
    ) -> list[IncidentUpdate]:
        """The incident's most recent updates, newest first."""
        ...

    async def confirm(self, update_id: int, *, by_member_id: int, at: datetime) -> bool:
        """Mark an unconfirmed update confirmed, never by its own poster; False if it lost."""
        ...
