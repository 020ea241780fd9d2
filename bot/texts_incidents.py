"""Words for /incidents and /incident CODE. Everything a person typed is escaped and clipped.

The service decides what a viewer may see and fills the small records below; these
functions only lay them out. A page stays within Telegram's 4,096 visible characters
however long the names, titles and updates are: each part has its own clip and count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.incidents import Incident, IncidentStatus
from bot.domain.membership import Role
from bot.domain.tasks import Task, TaskStatus
from bot.texts import ROLE_NAMES, esc
from bot.texts_alerts import ELLIPSIS, RISK_LABEL, utf16_len
from bot.texts_tasks import STATUS as TASK_STATUS

NO_INCIDENTS = "There are no open incidents you can see right now."
USAGE = (
    "Send /incident and the alert code, e.g. /incident HW-ABCDE. "
    "/incidents lists the ones you can see."
)
OPENED = "Opened in your chat. Your view is recorded."
CONFIDENTIAL = "Confidential: do not forward, screenshot or post. Your view is recorded."

STATUS = {
    IncidentStatus.PENDING: "waiting for a coordinator to vet it",
    IncidentStatus.ACTIVE: "active",
    IncidentStatus.REJECTED: "not sent",
    IncidentStatus.RESOLVED: "resolved",
}

# Clips (visible characters) and counts that keep a page under 4,096 in the worst case.
LABEL_MAX = 120
NAME_MAX = 60
TITLE_MAX = 60
HOLDER_MAX = 40
PEOPLE_MAX = 250
UPDATE_MAX = 150
TASKS_SHOWN = 10
UPDATES_SHOWN = 5
LIST_SHOWN = 15


@dataclass(frozen=True, slots=True)
class UpdateLine:
    """One posted update, as the page shows it."""

    at: datetime
    poster_name: str
    poster_role: Role
    text: str
    confirmed_sighting: bool = False


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One line of /incidents: an index of codes, naming no youth and no place.

    The list covers several incidents in one message, so /found cannot withdraw it
    for one of them; it therefore carries nothing personal (the page does, and the
    page is withdrawn). ``risk`` is False when the viewer's role may not see it."""

    incident: Incident
    risk: bool
    tasks: Sequence[Task]


@dataclass(frozen=True, slots=True)
class Page:
    """/incident CODE for one viewer. ``None`` marks what their role may not see."""

    incident: Incident
    name: str | None
    age: int | None
    risk: bool
    last_seen: bool
    police: bool
    tasks: Sequence[Task]
    holders: Mapping[int, str]
    seen: Sequence[str] | None  # None: never sent, so nobody could acknowledge it
    can_help: Sequence[str]
    not_yet: Sequence[str] | None  # coordinators only
    updates: Sequence[UpdateLine]


def clip(text: str, limit: int) -> str:
    """At most ``limit`` visible characters (UTF-16 units), whole characters only."""
    text = " ".join(text.split())
    if utf16_len(text) <= limit:
        return text
    out = ""
    for char in text:
        if utf16_len(out + char + ELLIPSIS) > limit:
            break
        out += char
    return out + ELLIPSIS


def ago(then: datetime, now: datetime) -> str:
    minutes = max(0, int((now - then).total_seconds())) // 60
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min ago"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h ago"
    return f"{hours // 24} days ago"


def when(moment: datetime | None, zone: ZoneInfo) -> str:
    if moment is None:
        return "unknown time"
    return moment.astimezone(zone).strftime("%a %d %b, %H:%M")


def task_counts(tasks: Sequence[Task]) -> str:
    def count(status: TaskStatus) -> int:
        return sum(1 for t in tasks if t.status is status)

    return (
        f"{count(TaskStatus.OPEN)} open, {count(TaskStatus.CLAIMED)} taken, "
        f"{count(TaskStatus.DONE)} done"
    )


def _head(incident: Incident) -> str:
    drill = "DRILL · " if incident.is_drill else ""
    return f"{drill}<b>{esc(incident.code)}</b>"


def _point(incident: Incident) -> str:
    if not incident.has_point:
        return "no usable location"
    coords = f"{incident.latitude:.5f}, {incident.longitude:.5f}"
    if incident.location_label:
        return f"{esc(clip(incident.location_label, LABEL_MAX))} ({coords})"
    return coords


def _police(incident: Incident) -> str:
    if not incident.police_told:
        return "not told yet"
    if incident.police_report_number:
        return f"told, report {esc(clip(incident.police_report_number, 40))}"
    return "told, no report number yet"


# /incidents --------------------------------------------------------------------------------


def listing(entries: Sequence[ListEntry], now: datetime, *, total: int) -> str:
    lines = ["<b>Open incidents you can see</b> (newest first)"]
    for e in entries:
        i = e.incident
        first = [_head(i), STATUS[i.status]]
        if e.risk:
            first.append(f"risk {RISK_LABEL[i.risk_level.value]}")
        lines.append("")
        lines.append(" · ".join(first))
        lines.append(f"Raised {ago(i.created_at, now)} · tasks: {task_counts(e.tasks)}")
    if total > len(entries):
        lines.append(f"\nShowing the {len(entries)} newest of {total}.")
    lines.append("\nPress a code for its details. " + CONFIDENTIAL)
    return "\n".join(lines)


# /incident CODE ----------------------------------------------------------------------------


def _people(names: Sequence[str]) -> str:
    return esc(clip(", ".join(names), PEOPLE_MAX)) if names else "nobody"


def _task_line(task: Task, holder: str | None) -> str:
    who = ""
    if holder and task.status is not TaskStatus.OPEN:
        who = f" by {esc(clip(holder, HOLDER_MAX))}"
    return f"#{task.id} {esc(clip(task.title, TITLE_MAX))}: {TASK_STATUS[task.status]}{who}"


def update_line(update: UpdateLine, zone: ZoneInfo) -> str:
    sighting = " <b>CONFIRMED SIGHTING</b>" if update.confirmed_sighting else ""
    return (
        f"{when(update.at, zone)}, {esc(clip(update.poster_name, HOLDER_MAX))} "
        f"({ROLE_NAMES[update.poster_role]}):{sighting} {esc(clip(update.text, UPDATE_MAX))}"
    )


def page(p: Page, now: datetime, zone: ZoneInfo) -> str:
    i = p.incident
    title = f"Incident {esc(i.code)}"  # a drill's page gets the outbox's DRILL marker
    lines = [f"<b>{title}</b>", f"<b>Status:</b> {STATUS[i.status]}"]
    if p.risk:
        lines.append(f"<b>Risk:</b> {RISK_LABEL[i.risk_level.value]}")
    if p.name:
        age = f", {p.age}" if p.age is not None else ""
        lines.append(f"<b>Youth:</b> {esc(clip(p.name, 2 * NAME_MAX))}{age}")
    if p.last_seen:
        lines.append(f"<b>Last seen:</b> {when(i.last_seen_at, zone)} at {_point(i)}")
    lines.append(f"<b>Raised:</b> {ago(i.created_at, now)}")
    if p.police:
        lines.append(f"<b>Police:</b> {_police(i)}")

    lines.append(f"\n<b>Tasks</b> ({task_counts(p.tasks)})")
    if not p.tasks:
        lines.append("No tasks yet.")
    for task in p.tasks[:TASKS_SHOWN]:
        lines.append(_task_line(task, p.holders.get(task.holder_member_id or 0)))
    if len(p.tasks) > TASKS_SHOWN:
        lines.append(f"…and {len(p.tasks) - TASKS_SHOWN} more: /tasks {esc(i.code)}")

    lines.append("\n<b>Acknowledgements</b>")
    if p.seen is None:
        lines.append("Not sent to anyone yet.")
    else:
        lines.append(f"Seen: {_people(p.seen)}")
        lines.append(f"Can help: {_people(p.can_help)}")
        if p.not_yet is not None:
            lines.append(f"Not yet: {_people(p.not_yet)}")

    lines.append("\n<b>Latest updates</b>")
    if not p.updates:
        lines.append("None yet.")
    lines.extend(update_line(u, zone) for u in p.updates[:UPDATES_SHOWN])
    lines.append("\n" + CONFIDENTIAL)
    return "\n".join(lines)


# Nothing to show ---------------------------------------------------------------------------


def not_visible(code: str) -> str:
    """The one answer for unknown, closed and other people's codes: it reveals nothing."""
    return f"No open incident {esc(clip(code, 20))} that you can see."


def closed(incident: Incident, outcome: str | None, zone: ZoneInfo) -> str:
    """For coordinators: a closed incident in one line, instead of its page."""
    if incident.status is IncidentStatus.REJECTED:
        return f"{esc(incident.code)} is closed: it was not sent (rejected at vetting)."
    tail = f", outcome: {esc(outcome)}" if outcome else ""
    return f"{esc(incident.code)} is closed: resolved {when(incident.resolved_at, zone)}{tail}."
