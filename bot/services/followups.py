"""What must follow an alert, driven by stored timers (:mod:`bot.services.timers`).

- **Police.** An alert raised without a police report number reminds the residence's
  staff and the coordinator at the risk level's deadline (``AlertPolicy.police_deadline``),
  then every ``police_repeat``, until someone records the number (``/police CODE NUMBER``)
  or the alert is closed. Recording it changes no vetted content, so an approved alert
  stays approved.
- **Status checks.** While an alert is active its coordinator is asked every
  ``status_check_every[risk]`` to confirm the risk and the reach: *Still right*, or back
  to vetting to change them (the vetting card's own risk and reach buttons). A check
  nobody answers is repeated.
- **Serious-occurrence report.** The residence owes one within 24 hours (Ontario). Its
  staff are reminded with a *Report filed* button; a missed deadline tells the
  coordinator once.
- **Return interview.** When the youth is found, a task due within 72 hours goes to the
  residence's staff and the coordinator, with reminders and an overdue notice
  (created and worked in :mod:`bot.services.tasks`; reminded here).

Reminders name the youth only by the first name the alert card shows, and the code.
Every message goes through the outbox; every step is on the timeline.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot import texts_followups
from bot.domain.errors import NotAllowed, NotFound, StaleAction
from bot.domain.followups import clean_report_number, first_name
from bot.domain.incidents import Incident, IncidentStatus, normalise_code
from bot.domain.membership import VETTING_ROLES, Member, Role
from bot.domain.outgoing import Button, Keyboard, Outgoing, Priority
from bot.domain.tasks import TaskStatus
from bot.services import access, actions, history, outbox, task_access, tasks, timers, vetting
from bot.services.audiences import coordinators_for, residence_and_coordinators, residence_staff
from bot.services.context import ServiceContext
from bot.services.ports import UnitOfWork
from bot.services.ports_alerts import Timer
from bot.services.resolution import may_handle

STATUS_CONFIRM = "followup.status_ok"
STATUS_REVIEW = "followup.status_review"
OCCURRENCE_FILED = "followup.occurrence_filed"

KeyboardFor = Callable[[Member], Awaitable[Keyboard]]


@dataclass(frozen=True, slots=True)
class FollowupOutcome:
    """What a follow-up command or button did, for the handler to render.

    ``what``: police_recorded, police_unchanged, status_confirmed, status_review,
    occurrence_filed, occurrence_already.
    """

    what: str
    incident: Incident
    number: str | None = None
    name: str | None = None
    every: timedelta | None = None


async def _first_name(uow: UnitOfWork, incident: Incident) -> str:
    youth = await uow.youth.get(incident.youth_id) if incident.youth_id else None
    return first_name(incident, youth)


async def _send(
    uow: UnitOfWork,
    ctx: ServiceContext,
    incident: Incident,
    people: Iterable[Member],
    text: str,
    *,
    kind: str,
    priority: Priority = Priority.NOTICE,
    ref: str | None = None,
    keyboard_for: KeyboardFor | None = None,
) -> int:
    """One copy to each person (protected: it names the alert), with their own buttons."""
    now = ctx.clock.now()
    count = 0
    for person in people:
        keyboard: Keyboard = await keyboard_for(person) if keyboard_for is not None else ()
        await uow.outbox.add(
            Outgoing.text(
                person.telegram_id,
                text,
                keyboard=keyboard,
                protect_content=True,
                priority=priority,
                recipient_member_id=person.id,
                kind=kind,
                ref=ref,
                incident_id=incident.id,
            ),
            at=now,
        )
        count += 1
    return count


async def _settle(
    uow: UnitOfWork, ctx: ServiceContext, incident: Incident, ref: str, text: str
) -> None:
    """Replace every delivered copy of a question (and its buttons) with how it ended."""
    await outbox.settle(uow, ctx, ref=ref, note=text, incident_id=incident.id)


async def _record(
    uow: UnitOfWork,
    ctx: ServiceContext,
    action: str,
    incident: Incident,
    actor: Member | None = None,
    **details: Any,
) -> None:
    await history.record(
        uow,
        ctx,
        action=action,
        subject_type="incident",
        subject_id=incident.id,
        actor=actor,
        incident_id=incident.id,
        details=details,
    )


# Police ----------------------------------------------------------------------------------------


async def _may_record_police(
    uow: UnitOfWork, ctx: ServiceContext, member: Member, incident: Incident
) -> bool:
    """The youth's residence and coordinators; police officers the alert reached."""
    if may_handle(member, incident):
        return True
    return member.role is Role.POLICE and await task_access.is_recipient(uow, ctx, member, incident)


# Who may replace a report number already recorded (a typo, a second report).
CORRECTORS = (Role.COORDINATOR, Role.ADMIN)


async def record_police_report(
    ctx: ServiceContext, *, telegram_id: int, code: str, number: str
) -> FollowupOutcome:
    """/police CODE NUMBER: police were told, under this report number."""
    async with ctx.uow() as uow:
        actor = await access.require_command(uow, telegram_id=telegram_id, command="police")
        clean = clean_report_number(number)
        incident = await uow.incidents.get_by_code(normalise_code(code))
        # Unknown, closed and someone else's alerts get the same answer.
        if (
            incident is None
            or not incident.is_open
            or not await _may_record_police(uow, ctx, actor, incident)
        ):
            raise NotFound("open alert")
        if incident.police_report_number == clean:
            return FollowupOutcome("police_unchanged", incident, number=clean)
        if incident.police_report_number and actor.role not in CORRECTORS:
            return FollowupOutcome("police_exists", incident, number=incident.police_report_number)
        await uow.incidents.record_police_report(incident.id, number=clean)
        await uow.timers.cancel_for_incident(
            incident.id, kinds=(timers.POLICE_REMINDER,), at=ctx.clock.now()
        )
        await _record(
            uow,
            ctx,
            "incident.police_report_recorded",
            incident,
            actor,
            report_number=clean,
            previous=incident.police_report_number,
        )
        others = [m for m in await residence_and_coordinators(uow, incident) if m.id != actor.id]
        await _send(
            uow,
            ctx,
            incident,
            others,
            texts_followups.police_recorded_notice(incident, clean, actor.name),
            kind="police_recorded",
        )
        recorded = await uow.incidents.get(incident.id)
        await uow.commit()
    return FollowupOutcome("police_recorded", recorded or incident, number=clean)


async def remind_police(uow: UnitOfWork, ctx: ServiceContext, timer: Timer) -> None:
    """Timer: no report number by the deadline, so remind, and arm the next reminder."""
    incident = await history.incident_to_write(uow, int(timer.incident_id or 0))
    if incident is None or not incident.is_open or incident.police_report_number:
        return
    seq = int(timer.payload.get("seq", 1))
    await timers.next_police_reminder(uow, ctx, incident, after_seq=seq)
    people = await residence_and_coordinators(uow, incident)
    sent = await _send(
        uow,
        ctx,
        incident,
        people,
        texts_followups.police_reminder(incident, await _first_name(uow, incident)),
        kind="police_reminder",
        priority=Priority.ALERT,
        ref=f"police:{incident.id}",
    )
    await _record(
        uow,
        ctx,
        "incident.police_reminder",
        incident,
        seq=seq,
        recipients=sent,
        risk=incident.risk_level.value,
    )


# Status checks ---------------------------------------------------------------------------------


async def check_status(uow: UnitOfWork, ctx: ServiceContext, timer: Timer) -> None:
    """Timer: ask the coordinator to confirm the risk and reach; arm the next check
    whether or not anyone answers. Back at vetting, the vetting card asks instead."""
    incident = await history.incident_to_write(uow, int(timer.incident_id or 0))
    if incident is None or not incident.is_open:
        return
    seq = int(timer.payload.get("seq", 1))
    await timers.next_status_check(uow, ctx, incident, after_seq=seq)
    if incident.status is not IncidentStatus.ACTIVE:
        return

    async def buttons(person: Member) -> Keyboard:
        async def b(text: str, action: str, **extra: Any) -> Button:
            return await actions.button(
                uow,
                ctx,
                text,
                action=action,
                payload={"incident": incident.id, "version": incident.version, "seq": seq, **extra},
                audience_telegram_id=person.telegram_id,
            )

        return (
            (await b(texts_followups.STILL_RIGHT, STATUS_CONFIRM),),
            (
                await b(texts_followups.CHANGE_RISK, STATUS_REVIEW, wants="risk"),
                await b(texts_followups.CHANGE_REACH, STATUS_REVIEW, wants="reach"),
            ),
        )

    sent = await _send(
        uow,
        ctx,
        incident,
        await coordinators_for(uow, incident),
        texts_followups.status_check(incident),
        kind="status_check",
        ref=_status_ref(incident.id, seq),
        keyboard_for=buttons,
    )
    await _record(
        uow,
        ctx,
        "incident.status_check",
        incident,
        seq=seq,
        risk=incident.risk_level.value,
        reach_km=incident.reach_radius_km,
        recipients=sent,
    )


def _status_ref(incident_id: int, seq: int) -> str:
    return f"status:{incident_id}:{seq}"


async def _status_as_sent(uow: UnitOfWork, actor: Member, payload: dict[str, Any]) -> Incident:
    """The incident, if the check this button came with is still the one to answer."""
    if actor.role not in VETTING_ROLES:
        raise NotAllowed("only coordinators answer status checks")
    # Two coordinators pressing at once: the second reads the check the first re-armed.
    incident = await history.incident_to_write(uow, int(payload["incident"]))
    if incident is None:
        raise NotFound("incident")
    if incident.status is not IncidentStatus.ACTIVE or incident.version != payload["version"]:
        raise StaleAction("the alert changed since this check")
    latest = await uow.timers.latest(incident.id, timers.STATUS_CHECK)
    if latest is None or latest.payload.get("seq") != int(payload["seq"]) + 1:
        raise StaleAction("this check was answered, or a newer one was sent")
    return incident


async def confirm_status(
    uow: UnitOfWork, ctx: ServiceContext, *, actor: Member, payload: dict[str, Any]
) -> FollowupOutcome:
    """Still right: recorded, and the next check comes a full interval from now."""
    incident = await _status_as_sent(uow, actor, payload)
    await _record(
        uow,
        ctx,
        "incident.status_confirmed",
        incident,
        actor,
        seq=int(payload["seq"]),
        risk=incident.risk_level.value,
        reach_km=incident.reach_radius_km,
    )
    await timers.restart_status_checks(uow, ctx, incident)
    await _settle(
        uow,
        ctx,
        incident,
        _status_ref(incident.id, int(payload["seq"])),
        texts_followups.status_settled(incident, "confirmed", actor.name),
    )
    every = ctx.alerts.status_check_every[incident.risk_level]
    return FollowupOutcome("status_confirmed", incident, every=every)


async def review_status(
    uow: UnitOfWork, ctx: ServiceContext, *, actor: Member, payload: dict[str, Any]
) -> FollowupOutcome:
    """Change risk or reach: the alert goes back to vetting (a new version, nothing
    changed yet) and the vetting card's own Risk and Reach buttons do the change; the
    approval after it sends the alert again, as after any edit."""
    incident = await _status_as_sent(uow, actor, payload)
    wants = "reach" if payload.get("wants") == "reach" else "risk"
    revised = await vetting.revise(
        uow,
        ctx,
        incident,
        actor,
        {},
        action="incident.review_requested",
        back_to_vetting=True,
        details={"wants": wants, "seq": int(payload["seq"]), "version": incident.version + 1},
    )
    if actor.id != revised.raised_by and all(
        v.id != actor.id for v in await vetting.vetters_for(uow, revised)
    ):
        await vetting.send_vetting_cards(uow, ctx, revised, to=[actor])
    await timers.schedule_vetting_escalations(uow, ctx, revised.id)
    await _settle(
        uow,
        ctx,
        incident,
        _status_ref(incident.id, int(payload["seq"])),
        texts_followups.status_settled(incident, f"sent back to change the {wants}", actor.name),
    )
    return FollowupOutcome("status_review", revised)


# Serious-occurrence report ---------------------------------------------------------------------


def _deadline(timer: Timer, incident: Incident, ctx: ServiceContext) -> datetime:
    stored = timer.payload.get("deadline")
    if stored:
        return datetime.fromisoformat(str(stored))
    return incident.created_at + ctx.alerts.occurrence_deadline


async def remind_occurrence(uow: UnitOfWork, ctx: ServiceContext, timer: Timer) -> None:
    """Timer: the residence's serious-occurrence report is not marked filed yet."""
    incident = await history.incident_to_write(uow, int(timer.incident_id or 0))
    if incident is None or incident.occurrence_reported_at is not None:
        return
    deadline = _deadline(timer, incident, ctx)

    async def button(person: Member) -> Keyboard:
        filed = await actions.button(
            uow,
            ctx,
            texts_followups.REPORT_FILED,
            action=OCCURRENCE_FILED,
            payload={"incident": incident.id},
            audience_telegram_id=person.telegram_id,
        )
        return ((filed,),)

    sent = await _send(
        uow,
        ctx,
        incident,
        await residence_staff(uow, incident),
        texts_followups.occurrence_reminder(
            incident, await _first_name(uow, incident), deadline, ctx.zone
        ),
        kind="occurrence",
        ref=f"occurrence:{incident.id}",
        keyboard_for=button,
    )
    await _record(
        uow,
        ctx,
        "incident.occurrence_reminder",
        incident,
        n=int(timer.payload.get("n", 0)),
        recipients=sent,
    )


async def occurrence_overdue(uow: UnitOfWork, ctx: ServiceContext, timer: Timer) -> None:
    """Timer: the deadline passed and nobody marked the report filed: tell the coordinator."""
    incident = await history.incident_to_write(uow, int(timer.incident_id or 0))
    if incident is None or incident.occurrence_reported_at is not None:
        return
    sent = await _send(
        uow,
        ctx,
        incident,
        await coordinators_for(uow, incident),
        texts_followups.occurrence_overdue(incident, _deadline(timer, incident, ctx), ctx.zone),
        kind="occurrence",
        priority=Priority.ALERT,
    )
    await _record(uow, ctx, "incident.occurrence_overdue", incident, recipients=sent)


async def occurrence_filed(
    uow: UnitOfWork, ctx: ServiceContext, *, actor: Member, payload: dict[str, Any]
) -> FollowupOutcome:
    """Report filed: the first press records it and stops the reminders."""
    incident = await uow.incidents.get(int(payload["incident"]))
    if incident is None:
        raise NotFound("incident")
    if not may_handle(actor, incident):
        raise NotAllowed("not your residence's alert")
    won = incident.occurrence_reported_at is None and await uow.incidents.record_occurrence_report(
        incident.id, by_member_id=actor.id, at=ctx.clock.now()
    )
    if not won:
        current = await uow.incidents.get(incident.id)
        by = await uow.members.get(current.occurrence_reported_by or 0) if current else None
        return FollowupOutcome(
            "occurrence_already", current or incident, name=by.name if by else "someone"
        )
    await timers.cancel_occurrence_timers(uow, ctx, incident.id)
    await _record(uow, ctx, "incident.occurrence_reported", incident, actor)
    await _settle(
        uow,
        ctx,
        incident,
        f"occurrence:{incident.id}",
        texts_followups.occurrence_settled(incident, actor.name),
    )
    return FollowupOutcome("occurrence_filed", incident, name=actor.name)


# Return interview ------------------------------------------------------------------------------


async def remind_return_interview(uow: UnitOfWork, ctx: ServiceContext, timer: Timer) -> None:
    """Timer: the return interview is not done: remind its holder, or if nobody has
    taken it, everyone it was offered to."""
    task = await uow.tasks.get(int(timer.subject_id or 0))
    if task is None or not task.is_live:
        return
    incident = await uow.incidents.get(task.incident_id)
    if incident is None:
        return
    holder = await uow.members.get(task.holder_member_id) if task.holder_member_id else None
    unclaimed = task.status is TaskStatus.OPEN or holder is None or not holder.is_active
    people = await task_access.audience(uow, ctx, incident, task) if unclaimed else [holder]
    sent = await _send(
        uow,
        ctx,
        incident,
        [p for p in people if p is not None],
        texts_followups.return_interview_reminder(incident, task, ctx.zone, unclaimed=unclaimed),
        kind="followup_task",
    )
    await history.record(
        uow,
        ctx,
        action="task.reminded",
        subject_type="task",
        subject_id=task.id,
        incident_id=incident.id,
        details={"n": int(timer.payload.get("n", 0)), "recipients": sent, "held": not unclaimed},
    )


async def return_interview_overdue(uow: UnitOfWork, ctx: ServiceContext, timer: Timer) -> None:
    """Timer: the return interview is past due: tell the coordinator once."""
    task = await uow.tasks.get(int(timer.subject_id or 0))
    if task is None or not task.is_live:
        return
    incident = await uow.incidents.get(task.incident_id)
    if incident is None:
        return
    holder = await uow.members.get(task.holder_member_id) if task.holder_member_id else None
    sent = await _send(
        uow,
        ctx,
        incident,
        await coordinators_for(uow, incident),
        texts_followups.return_interview_overdue(
            incident, task, holder.name if holder else None, ctx.zone
        ),
        kind="followup_task",
        priority=Priority.ALERT,
    )
    await history.record(
        uow,
        ctx,
        action="task.overdue",
        subject_type="task",
        subject_id=task.id,
        incident_id=incident.id,
        details={"recipients": sent},
    )


# Hooks from the alert's life -------------------------------------------------------------------


async def after_found(
    uow: UnitOfWork, ctx: ServiceContext, *, actor: Member | None, incident: Incident
) -> None:
    """The youth is found (called after the search messages were pulled back, so the
    return interview's own messages are not): the search follow-ups stop, the return
    interview starts. The serious-occurrence report is still owed.

    A drill practises the search, not what follows a return: its wind-down cancels every
    timer and task it had, so no return interview is started for it (nor when a timer,
    with no actor, closed it: only a drill's end does that)."""
    await timers.cancel_search_followups(uow, ctx, incident.id)
    if incident.is_drill or actor is None:
        return
    await tasks.create_return_interview(uow, ctx, actor=actor, incident=incident)


TIMER_HANDLERS: dict[str, timers.Handler] = {
    timers.POLICE_REMINDER: remind_police,
    timers.STATUS_CHECK: check_status,
    timers.OCCURRENCE_REMINDER: remind_occurrence,
    timers.OCCURRENCE_OVERDUE: occurrence_overdue,
    timers.RETURN_REMINDER: remind_return_interview,
    timers.RETURN_OVERDUE: return_interview_overdue,
}

BUTTONS = {
    STATUS_CONFIRM: confirm_status,
    STATUS_REVIEW: review_status,
    OCCURRENCE_FILED: occurrence_filed,
}
