"""Words for the follow-ups of an alert: police report numbers, status checks, the
serious-occurrence report and the return interview.

Reminders name the youth by the first name the alert card already shows, and the
alert code; nothing else about them. Everything a person typed is escaped.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.incidents import Incident
from bot.domain.tasks import Task
from bot.texts import esc

STILL_RIGHT = "Still right"
CHANGE_RISK = "Change risk"
CHANGE_REACH = "Change reach"
REPORT_FILED = "Report filed"

POLICE_USAGE = (
    "Send /police, the alert code and the police report number, e.g. /police HW-ABCDE 2026-123456."
)
RISK_WORDS = {"low": "low", "medium": "medium", "high": "high"}


def when(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%a %d %b, %H:%M")


def duration(span: timedelta) -> str:
    minutes = round(span.total_seconds() / 60)
    if minutes < 120:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = minutes / 60
    return f"{hours:g} hours" if hours == int(hours) else f"{hours:.1f} hours"


# Police --------------------------------------------------------------------------------------


def police_reminder(incident: Incident, name: str) -> str:
    code = esc(incident.code)
    if incident.police_told:
        head = f"<b>No police report number yet: {code}</b> ({esc(name)})\n"
        body = "Police were told, but the report number is not recorded."
    else:
        head = f"<b>Police not told yet: {code}</b> ({esc(name)})\n"
        body = "Please call the police now."
    return (
        head + body + f" Then send /police {code} and the report number, "
        f"e.g. /police {code} 2026-123456."
    )


def police_recorded(incident: Incident, number: str) -> str:
    return (
        f"Recorded: police report {esc(number)} for {esc(incident.code)}. "
        "Reminders about it have stopped."
    )


def police_unchanged(incident: Incident, number: str) -> str:
    return f"Police report {esc(number)} is already recorded for {esc(incident.code)}."


def police_exists(incident: Incident, number: str) -> str:
    return (
        f"{esc(incident.code)} already has police report {esc(number)}. Nothing was changed. "
        "If it is wrong, ask a coordinator to correct it with /police."
    )


def police_recorded_notice(incident: Incident, number: str, by: str) -> str:
    return f"Police report number recorded for {esc(incident.code)}: {esc(number)} (by {esc(by)})."


# Status checks -------------------------------------------------------------------------------


def status_check(incident: Incident) -> str:
    return (
        f"<b>Status check for {esc(incident.code)}</b>: still "
        f"{RISK_WORDS[incident.risk_level.value]} risk, reach "
        f"{incident.reach_radius_km or 0:g} km?\n"
        "Press Still right, or change the risk or the reach: the alert then comes back to "
        "you for approval, and nothing new is sent until you approve it."
    )


def status_settled(incident: Incident, what: str, by: str) -> str:
    return f"<b>Status check for {esc(incident.code)}</b>: {esc(what)} by {esc(by)}."


def status_confirmed_toast(incident: Incident, every: timedelta) -> str:
    return (
        f"Thank you: {incident.code} stays {RISK_WORDS[incident.risk_level.value]} risk, "
        f"reach {incident.reach_radius_km or 0:g} km. Next check in {duration(every)}."
    )


def status_review_toast(incident: Incident) -> str:
    return (
        f"{incident.code} is back at vetting: change the risk or reach on the new card, "
        "then approve it. Nothing new is sent until then."
    )


# Serious-occurrence report -------------------------------------------------------------------


def occurrence_reminder(incident: Incident, name: str, deadline: datetime, zone: ZoneInfo) -> str:
    return (
        f"<b>Serious-occurrence report due: {esc(incident.code)}</b> ({esc(name)})\n"
        f"The residence's report is due by {when(deadline, zone)}. "
        f"Press {REPORT_FILED} once it is submitted."
    )


def occurrence_overdue(incident: Incident, deadline: datetime, zone: ZoneInfo) -> str:
    return (
        f"<b>Serious-occurrence report overdue: {esc(incident.code)}</b>\n"
        f"It was due by {when(deadline, zone)} and nobody has marked it filed. "
        "Please check with the residence."
    )


def occurrence_settled(incident: Incident, by: str) -> str:
    return f"<b>Serious-occurrence report for {esc(incident.code)}</b>: marked filed by {esc(by)}."


def occurrence_filed_toast(incident: Incident) -> str:
    return f"Thank you: the serious-occurrence report for {incident.code} is marked filed."


def occurrence_already_toast(by: str) -> str:
    return f"Already marked filed by {by}. Nothing was changed."


# Return interview ----------------------------------------------------------------------------


def return_interview_title(name: str) -> str:
    return f"Return interview with {name}"


def return_interview_reminder(
    incident: Incident, task: Task, zone: ZoneInfo, *, unclaimed: bool
) -> str:
    due = f" is due by {when(task.due_at, zone)}" if task.due_at else " is waiting"
    tail = " Nobody has taken it yet: can you?" if unclaimed else ""
    return (
        f"<b>Reminder: {esc(task.title)}</b> (alert {esc(incident.code)}, task #{task.id})"
        f"{due}.{tail}"
    )


def return_interview_overdue(
    incident: Incident, task: Task, holder: str | None, zone: ZoneInfo
) -> str:
    due = f" was due by {when(task.due_at, zone)} and" if task.due_at else ""
    who = f"{esc(holder)} has it." if holder else "Nobody has taken it."
    return (
        f"<b>Overdue: {esc(task.title)}</b> (alert {esc(incident.code)}, task #{task.id})"
        f"{due} is not done. {who} Reassign it from /tasks, or follow up."
    )
