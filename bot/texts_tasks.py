"""Words for tasks and acknowledgements. Everything a person typed is escaped."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.domain.incidents import Incident
from bot.domain.tasks import Task, TaskStatus
from bot.texts import esc

CLAIM = "I'll take it"
RELEASE = "Give it back"
DONE = "Done"
FROM_TEMPLATES = "Add tasks from templates"
SEEN = "Seen"
CAN_HELP = "I can help"

STATUS = {
    TaskStatus.OPEN: "open",
    TaskStatus.CLAIMED: "taken",
    TaskStatus.DONE: "done",
    TaskStatus.CANCELLED: "cancelled",
}

TASKS_USAGE = "Send /tasks, or /tasks HW-XXXXX for one alert."
NEWTASK_USAGE = (
    "Send /newtask HW-XXXXX and what needs doing, e.g. /newtask HW-ABCDE Check the park."
)
NOTE_USAGE = "Send /note and the task number, then the note, e.g. /note 12 Nobody at the mall."
NO_ALERTS = "There is no active alert you can see."
NO_MY_TASKS = "You have no tasks right now. /tasks shows what is open."
PICK_OUTCOME = "How did it go?"
PICK_MEMBER = "Who should take it?"
NOBODY_TO_PICK = "There is nobody else this alert reaches."


def _place(task: Task) -> str:
    return f"\nWhere: {esc(task.location_label)}" if task.location_label else ""


def _map(task: Task) -> str:
    if task.latitude is None or task.longitude is None:
        return ""
    return f" (map: {task.latitude:.5f}, {task.longitude:.5f})"


def _due(task: Task, zone: ZoneInfo | None) -> str:
    if task.due_at is None or zone is None:
        return ""
    return "\nDue by: " + task.due_at.astimezone(zone).strftime("%a %d %b, %H:%M")


def announcement(
    incident: Incident, task: Task, holder: str | None, zone: ZoneInfo | None = None
) -> str:
    head = f"<b>Task #{task.id}</b> for alert {esc(incident.code)}\n{esc(task.title)}"
    body = head + _place(task) + _map(task) + _due(task, zone)
    if task.status is TaskStatus.OPEN:
        return body + "\n\nOpen: can you take it?"
    if task.status is TaskStatus.CLAIMED:
        return body + f"\n\nTaken by {esc(holder or 'someone')}."
    if task.status is TaskStatus.DONE:
        return body + f"\n\nDone by {esc(holder or 'someone')}."
    return body + "\n\nCancelled: nothing more to do."


def yours(incident: Incident, task: Task, zone: ZoneInfo | None = None) -> str:
    return (
        f"<b>Task #{task.id} is yours</b> (alert {esc(incident.code)})\n{esc(task.title)}"
        + _place(task)
        + _map(task)
        + _due(task, zone)
        + f"\n\nAdd what you find with /note {task.id} ... and press Done when finished."
    )


def completed_notice(incident: Incident, task: Task, by: str, outcome: str) -> str:
    return (
        f"Task #{task.id} on {esc(incident.code)} is done: {esc(task.title)}\n"
        f"By {esc(by)}. Outcome: {esc(outcome)}."
    )


def taken_by(name: str | None) -> str:
    return f"Already taken by {name or 'someone else'}. Nothing was changed."


def task_line(task: Task, holder: str | None) -> str:
    status = STATUS[task.status]
    who = f" by {esc(holder)}" if holder and task.status is not TaskStatus.OPEN else ""
    return f"#{task.id} {esc(task.title)}: {status}{who}"


def incident_tasks(incident: Incident, tasks: list[Task], names: dict[int, str]) -> str:
    head = f"<b>Tasks for {esc(incident.code)}</b>"
    if not tasks:
        return head + "\nNo tasks yet."
    lines = [task_line(t, names.get(t.holder_member_id or 0)) for t in tasks]
    return head + "\n" + "\n".join(lines)


def my_task(incident: Incident, task: Task) -> str:
    return f"#{task.id} on {esc(incident.code)}: {esc(task.title)}" + _place(task)


def acks(code: str, seen: list[str], can_help: list[str], not_yet: list[str]) -> str:
    def names(people: list[str]) -> str:
        return ", ".join(esc(p) for p in people) if people else "nobody"

    return (
        f"<b>Acknowledgements for {esc(code)}</b>\n"
        f"Seen: {names(seen)}\n"
        f"Can help: {names(can_help)}\n"
        f"Not yet: {names(not_yet)}"
    )


TOASTS = {
    "claimed": "It's yours. Details are in your chat.",
    "released": "Given back: it is open for others again.",
    "completed": "Marked done. Thank you.",
    "cancelled": "Task cancelled.",
    "noted": "Note added.",
}


def created(count: int) -> str:
    return f"{count} task{'s' if count != 1 else ''} sent to everyone the alert reaches."


def reassigned(name: str | None) -> str:
    return f"Given to {name or 'them'}."


def ack_toast(first: bool) -> str:
    return "Thank you, noted." if first else "Already noted. Thank you."


def unclaimed(incident: Incident, task: Task, minutes: int) -> str:
    return (
        f"<b>Nobody has taken task #{task.id}</b> for alert {esc(incident.code)} after "
        f"{minutes} minutes: {esc(task.title)}. Assign it from /tasks, or cancel it."
    )
