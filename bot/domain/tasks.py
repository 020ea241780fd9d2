"""Tasks on an incident (who checks where) and acknowledgements of an alert.

A task has at most one holder. Its states move only along :data:`TASK_TRANSITIONS`;
storage enforces each move with a conditional update, so two people can never both
hold the same task.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.domain.errors import IllegalTransition
from bot.domain.incidents import Incident, Place, RiskLevel


class TaskStatus(StrEnum):
    OPEN = "open"  # waiting for someone to take it
    CLAIMED = "claimed"  # one holder is on it
    DONE = "done"
    CANCELLED = "cancelled"


TASK_TRANSITIONS: dict[TaskStatus, frozenset[TaskStatus]] = {
    TaskStatus.OPEN: frozenset({TaskStatus.CLAIMED, TaskStatus.CANCELLED}),
    # Released (back to OPEN), completed, cancelled, or handed to someone else (CLAIMED).
    TaskStatus.CLAIMED: frozenset(
        {TaskStatus.OPEN, TaskStatus.CLAIMED, TaskStatus.DONE, TaskStatus.CANCELLED}
    ),
    TaskStatus.DONE: frozenset(),
    TaskStatus.CANCELLED: frozenset(),
}

LIVE_STATUSES = (TaskStatus.OPEN, TaskStatus.CLAIMED)


def check_transition(current: TaskStatus, target: TaskStatus) -> None:
    if target not in TASK_TRANSITIONS[current]:
        raise IllegalTransition(f"task cannot go from {current} to {target}")


@dataclass(frozen=True, slots=True)
class Task:
    id: int
    incident_id: int
    title: str
    status: TaskStatus
    created_at: datetime
    version: int = 1
    template: str | None = None
    holder_member_id: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    location_label: str | None = None
    due_at: datetime | None = None
    outcome: str | None = None
    notes: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    created_by: int | None = None
    claimed_at: datetime | None = None
    closed_at: datetime | None = None

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES


@dataclass(frozen=True, slots=True)
class TaskTemplate:
    """One suggested task: a title, the template key, and where (if anywhere)."""

    title: str
    key: str
    latitude: float | None = None
    longitude: float | None = None
    location_label: str | None = None


TITLE_MAX = 200

RETURN_INTERVIEW = "return_interview"
# Tasks that outlive the search: created when the youth is found, workable on the
# resolved incident, and offered only to the residence's staff and the coordinators.
FOLLOWUP_TEMPLATES = frozenset({RETURN_INTERVIEW})


def is_followup(task: Task) -> bool:
    return task.template in FOLLOWUP_TEMPLATES


def templates_for(
    incident: Incident, places: Sequence[Place], risk: RiskLevel
) -> list[TaskTemplate]:
    """The first tasks for a missing youth, from their known places and the risk level.

    Pure: the same incident, places and risk always give the same list, in order.
    """
    out: list[TaskTemplate] = []
    if not incident.police_told:
        out.append(TaskTemplate("Tell police / record the report number", "police"))
    elif not incident.police_report_number:
        out.append(TaskTemplate("Record the police report number", "police_number"))
    out.append(TaskTemplate("Call the youth's phone", "call_phone"))
    for place in places:
        out.append(
            TaskTemplate(
                f"Check {place.name}"[:TITLE_MAX],
                "place",
                latitude=place.latitude,
                longitude=place.longitude,
                location_label=place.name,
            )
        )
    if risk in (RiskLevel.MEDIUM, RiskLevel.HIGH):
        out.append(TaskTemplate("Check social media", "social_media"))
    if risk is RiskLevel.HIGH and incident.has_point:
        out.append(
            TaskTemplate(
                "Search around the last-seen place",
                "last_seen",
                latitude=incident.latitude,
                longitude=incident.longitude,
                location_label=incident.location_label,
            )
        )
    return out


class AckKind(StrEnum):
    SEEN = "seen"
    CAN_HELP = "can_help"


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    incident_id: int
    member_id: int
    kind: AckKind
    at: datetime
