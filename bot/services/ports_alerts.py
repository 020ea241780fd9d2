"""Storage interfaces for youth profiles, incidents, forms and reach queries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.domain.incidents import Incident, IncidentStatus, Youth
from bot.domain.membership import Member, Role
from bot.domain.tasks import AckKind, Acknowledgement, Task, TaskStatus


class YouthRepo(Protocol):
    async def add(
        self, *, residence_org_id: int, created_by: int | None, at: datetime, fields: dict[str, Any]
    ) -> Youth: ...
    async def get(self, youth_id: int) -> Youth | None: ...
    async def list_for_residence(self, residence_org_id: int) -> list[Youth]: ...
    async def list_all(self) -> list[Youth]: ...
    async def update(self, youth_id: int, *, at: datetime, fields: dict[str, Any]) -> None: ...


class IncidentRepo(Protocol):
    async def add(self, *, fields: dict[str, Any]) -> Incident: ...
    async def get(self, incident_id: int) -> Incident | None: ...
    async def get_by_code(self, code: str) -> Incident | None: ...
    async def list(
        self,
        *,
        statuses: Sequence[IncidentStatus] | None = None,
        residence_org_id: int | None = None,
    ) -> list[Incident]: ...
    async def approve(
        self,
        incident_id: int,
        *,
        version: int,
        content_hash: str,
        by_member_id: int,
        at: datetime,
    ) -> bool:
        """PENDING -> ACTIVE for exactly this version and content, never by its raiser."""
        ...

    async def reject(
        self, incident_id: int, *, version: int, by_member_id: int, reason: str, at: datetime
    ) -> bool: ...
    async def revise(
        self,
        incident_id: int,
        *,
        expected_version: int,
        fields: dict[str, Any],
        content_hash: str,
        back_to_vetting: bool,
    ) -> bool:
        """Apply an edit as a new version; False if someone else changed it first."""
        ...

    async def resolve(
        self, incident_id: int, *, by_member_id: int | None, outcome: str, at: datetime
    ) -> bool:
        """Close an open incident; ``by_member_id`` None: closed by a timer (a drill's end)."""
        ...

    async def is_drill(self, incident_id: int) -> bool:
        """Whether the incident is a drill (cheap: remembered for the unit of work)."""
        ...

    async def move_to_sighting(
        self,
        incident_id: int,
        *,
        expected_version: int,
        fields: dict[str, Any],
        content_hash: str,
        by_member_id: int,
        at: datetime,
    ) -> bool:
        """Move an active alert's last-known point to a confirmed sighting, as a new version
        approved by ``by_member_id`` (never its raiser); False if it changed meanwhile."""
        ...

    async def record_police_report(self, incident_id: int, *, number: str) -> bool:
        """Police told, under this report number; no new version (not vetted content)."""
        ...

    async def record_occurrence_report(
        self, incident_id: int, *, by_member_id: int, at: datetime
    ) -> bool:
        """Mark the serious-occurrence report filed; False if it already was."""
        ...


@dataclass(frozen=True, slots=True)
class FormState:
    id: int
    member_id: int
    kind: str
    step: str | None
    data: dict[str, Any]
    updated_at: datetime


class FormRepo(Protocol):
    async def get(self, member_id: int) -> FormState | None: ...
    async def start(
        self, *, member_id: int, kind: str, step: str | None, data: dict[str, Any], at: datetime
    ) -> FormState: ...
    async def save(
        self,
        form_id: int,
        *,
        expected_step: str | None,
        step: str | None,
        data: dict[str, Any],
        at: datetime,
    ) -> bool:
        """Move the form on, only if it is still at ``expected_step`` (double taps lose)."""
        ...

    async def delete(self, member_id: int) -> None: ...


class ReachRepo(Protocol):
    async def members_near(
        self,
        *,
        latitude: float,
        longitude: float,
        radius_km: float,
        roles: Sequence[Role] | None = None,
    ) -> list[Member]:
        """Active members whose service area meets a circle of ``radius_km`` (exact)."""
        ...

    async def members_of_orgs(
        self, org_ids: Sequence[int], *, roles: Sequence[Role] | None = None
    ) -> list[Member]: ...


class TaskRepo(Protocol):
    async def add(
        self,
        *,
        incident_id: int,
        title: str,
        template: str | None,
        created_by: int | None,
        at: datetime,
        latitude: float | None = None,
        longitude: float | None = None,
        location_label: str | None = None,
        due_at: datetime | None = None,
    ) -> Task: ...
    async def get(self, task_id: int) -> Task | None: ...
    async def list_for_incident(self, incident_id: int) -> list[Task]: ...
    async def list_for_holder(
        self, member_id: int, *, statuses: Sequence[TaskStatus] | None = None
    ) -> list[Task]: ...
    async def list_live_with_templates(self, templates: Sequence[str]) -> list[Task]:
        """Open or claimed tasks made from these templates, on any incident."""
        ...

    async def claim(self, task_id: int, member_id: int, at: datetime) -> bool:
        """OPEN -> CLAIMED by ``member_id``; exactly one concurrent claimer gets True."""
        ...

    async def release(self, task_id: int, member_id: int) -> bool: ...
    async def complete(
        self, task_id: int, member_id: int, *, outcome: str, at: datetime
    ) -> bool: ...
    async def reassign(
        self,
        task_id: int,
        *,
        expected_status: TaskStatus,
        expected_holder: int | None,
        new_holder: int,
        at: datetime,
    ) -> bool: ...
    async def cancel(
        self,
        task_id: int,
        *,
        expected_status: TaskStatus,
        expected_holder: int | None,
        at: datetime,
    ) -> bool: ...
    async def add_note(
        self, task_id: int, *, expected_version: int, note: dict[str, Any]
    ) -> bool: ...


class AcknowledgementRepo(Protocol):
    async def add(self, *, incident_id: int, member_id: int, kind: AckKind, at: datetime) -> bool:
        """True the first time this person acknowledges this way; False after."""
        ...

    async def list_for_incident(self, incident_id: int) -> list[Acknowledgement]: ...


@dataclass(frozen=True, slots=True)
class Timer:
    id: int
    key: str
    kind: str
    incident_id: int | None
    subject_id: int | None
    due_at: datetime
    payload: dict[str, Any]
    created_at: datetime


class TimerRepo(Protocol):
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
        """Arm a timer under a unique ``key``. A key still waiting is left as it is (False);
        a key that already fired or was cancelled is armed again with the new deadline."""
        ...

    async def cancel(self, key: str, *, at: datetime, prefix: bool = False) -> int:
        """Cancel waiting timers with this key (or every key starting with it)."""
        ...

    async def cancel_for_incident(
        self, incident_id: int, *, kinds: Sequence[str] | None, at: datetime
    ) -> int:
        """Cancel the incident's waiting timers of these kinds (``None``: of every kind)."""
        ...

    async def claim_due(self, *, now: datetime, limit: int) -> list[Timer]:
        """Mark up to ``limit`` due timers fired and return them; each is returned once,
        ever, whoever else is claiming at the same time."""
        ...

    async def finish(self, timer_id: int, *, at: datetime) -> bool:
        """Mark one waiting timer fired without running it (a handler that keeps failing)."""
        ...

    async def reschedule(self, key: str, *, due_at: datetime) -> bool:
        """Move a waiting timer to a new deadline; False if it is not waiting."""
        ...

    async def latest(self, incident_id: int, kind: str) -> Timer | None:
        """The most recently armed timer of this kind for the incident (any state)."""
        ...
