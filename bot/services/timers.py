"""Stored timers: things that must happen at a time unless someone acts first.

A timer is a row with a unique key and a UTC deadline computed from the injected
clock (five minutes is five minutes, across a DST change too). ``fire_due`` claims
due timers and runs each one's handler. Each timer gets its own transaction: the
claim (a conditional UPDATE) and everything its handler writes (outbox notices,
timeline events) commit together or not at all, so a crash half-way leaves the timer
due for the next tick, and one failing handler cannot undo or block the others.

Handlers for each kind live with their use case (``bot.services.escalation``,
``bot.services.tasks``, ``bot.services.drills``, ``bot.services.followups``).

A timer that repeats (police reminders, status checks) arms its successor under a new
key, ``kind:incident:sequence``, in the same transaction as its own firing: each one
still fires once, and a crash can neither lose the chain nor fork it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from bot.domain.incidents import Incident
from bot.services import history
from bot.services.context import ServiceContext
from bot.services.ports import UnitOfWork
from bot.services.ports_alerts import Timer

log = logging.getLogger(__name__)

ESCALATE_AREA = "vetting.escalate_area"
ESCALATE_ADMINS = "vetting.escalate_admins"
VETTING_ESCALATIONS = (ESCALATE_AREA, ESCALATE_ADMINS)
TASK_REANNOUNCE = "task.reannounce"
TASK_UNCLAIMED = "task.unclaimed"
TASK_TIMERS = (TASK_REANNOUNCE, TASK_UNCLAIMED)
DRILL_END = "drill.end"
POLICE_REMINDER = "followup.police"
STATUS_CHECK = "followup.status_check"
OCCURRENCE_REMINDER = "followup.occurrence"
OCCURRENCE_OVERDUE = "followup.occurrence_overdue"
OCCURRENCE_TIMERS = (OCCURRENCE_REMINDER, OCCURRENCE_OVERDUE)
RETURN_REMINDER = "followup.return_interview"
RETURN_OVERDUE = "followup.return_interview_overdue"
# What stops when an alert is closed (rejected or resolved). The serious-occurrence
# report does not: it is owed for the missing episode whatever its outcome.
SEARCH_FOLLOWUPS = (POLICE_REMINDER, STATUS_CHECK)

Handler = Callable[[UnitOfWork, ServiceContext, Timer], Awaitable[None]]


def key_for(kind: str, incident_id: int) -> str:
    return f"{kind}:{incident_id}"


async def schedule(
    uow: UnitOfWork,
    ctx: ServiceContext,
    *,
    kind: str,
    key: str,
    after: timedelta | None = None,
    due_at: datetime | None = None,
    incident_id: int | None = None,
    subject_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> bool:
    """Arm a timer ``after`` from now (or at ``due_at``); a key still waiting is kept."""
    now = ctx.clock.now()
    if due_at is None:
        if after is None:
            raise ValueError("a timer needs after= or due_at=")
        due_at = now + after
    return await uow.timers.schedule(
        key=key,
        kind=kind,
        due_at=due_at,
        incident_id=incident_id,
        subject_id=subject_id,
        payload=payload or {},
        at=now,
    )


async def cancel(uow: UnitOfWork, ctx: ServiceContext, *, key: str, prefix: bool = False) -> int:
    return await uow.timers.cancel(key, at=ctx.clock.now(), prefix=prefix)


async def schedule_vetting_escalations(
    uow: UnitOfWork, ctx: ServiceContext, incident_id: int
) -> None:
    """A pending alert nobody vets goes to every coordinator, then to every admin."""
    for level, kind, after in (
        (1, ESCALATE_AREA, ctx.alerts.escalate_area_after),
        (2, ESCALATE_ADMINS, ctx.alerts.escalate_admins_after),
    ):
        await schedule(
            uow,
            ctx,
            kind=kind,
            key=key_for(kind, incident_id),
            after=after,
            incident_id=incident_id,
            payload={"level": level, "minutes": round(after.total_seconds() / 60)},
        )


async def cancel_vetting_escalations(uow: UnitOfWork, ctx: ServiceContext, incident_id: int) -> int:
    return await uow.timers.cancel_for_incident(
        incident_id, kinds=VETTING_ESCALATIONS, at=ctx.clock.now()
    )


async def schedule_task_timers(
    uow: UnitOfWork, ctx: ServiceContext, *, task_id: int, incident_id: int
) -> None:
    """An open task nobody claims is announced again, then a coordinator is told."""
    for kind, after in (
        (TASK_REANNOUNCE, ctx.alerts.task_reannounce_after),
        (TASK_UNCLAIMED, ctx.alerts.task_unclaimed_after),
    ):
        await schedule(
            uow,
            ctx,
            kind=kind,
            key=key_for(kind, task_id),
            after=after,
            incident_id=incident_id,
            subject_id=task_id,
            payload={"minutes": round(after.total_seconds() / 60)},
        )


async def cancel_task_timers(uow: UnitOfWork, ctx: ServiceContext, *, task_id: int) -> None:
    for kind in TASK_TIMERS:
        await cancel(uow, ctx, key=key_for(kind, task_id))


def sequence_key(kind: str, owner_id: int, seq: int) -> str:
    """One link of a chain of timers (an incident's or a task's): each its own key."""
    return f"{kind}:{owner_id}:{seq}"


async def schedule_police_reminders(
    uow: UnitOfWork, ctx: ServiceContext, incident: Incident
) -> None:
    """No report number yet: remind at the risk level's deadline after raising."""
    await schedule(
        uow,
        ctx,
        kind=POLICE_REMINDER,
        key=sequence_key(POLICE_REMINDER, incident.id, 1),
        due_at=incident.created_at + ctx.alerts.police_deadline[incident.risk_level],
        incident_id=incident.id,
        payload={"seq": 1},
    )


async def next_police_reminder(
    uow: UnitOfWork, ctx: ServiceContext, incident: Incident, *, after_seq: int
) -> None:
    await _next_in_sequence(
        uow, ctx, POLICE_REMINDER, incident, after_seq=after_seq, after=ctx.alerts.police_repeat
    )


async def _next_in_sequence(
    uow: UnitOfWork,
    ctx: ServiceContext,
    kind: str,
    incident: Incident,
    *,
    after_seq: int,
    after: timedelta,
) -> None:
    """A repeating timer's next firing, under its own key (``kind:incident:seq``)."""
    seq = after_seq + 1
    await schedule(
        uow,
        ctx,
        kind=kind,
        key=sequence_key(kind, incident.id, seq),
        after=after,
        incident_id=incident.id,
        payload={"seq": seq},
    )


async def follow_police_deadline(uow: UnitOfWork, ctx: ServiceContext, incident: Incident) -> bool:
    """The risk changed: a first reminder still waiting moves to the new level's deadline."""
    return await uow.timers.reschedule(
        sequence_key(POLICE_REMINDER, incident.id, 1),
        due_at=incident.created_at + ctx.alerts.police_deadline[incident.risk_level],
    )


async def restart_status_checks(uow: UnitOfWork, ctx: ServiceContext, incident: Incident) -> None:
    """The next status check comes one interval (for the current risk) from now."""
    await uow.timers.cancel_for_incident(incident.id, kinds=(STATUS_CHECK,), at=ctx.clock.now())
    latest = await uow.timers.latest(incident.id, STATUS_CHECK)
    await next_status_check(
        uow, ctx, incident, after_seq=int(latest.payload.get("seq", 0)) if latest else 0
    )


async def next_status_check(
    uow: UnitOfWork, ctx: ServiceContext, incident: Incident, *, after_seq: int
) -> None:
    every = ctx.alerts.status_check_every[incident.risk_level]
    await _next_in_sequence(uow, ctx, STATUS_CHECK, incident, after_seq=after_seq, after=every)


async def cancel_search_followups(uow: UnitOfWork, ctx: ServiceContext, incident_id: int) -> int:
    return await uow.timers.cancel_for_incident(
        incident_id, kinds=SEARCH_FOLLOWUPS, at=ctx.clock.now()
    )


async def schedule_occurrence_reminders(
    uow: UnitOfWork, ctx: ServiceContext, incident: Incident
) -> None:
    """Reminders to file the serious-occurrence report, then the deadline, from raising."""
    deadline = incident.created_at + ctx.alerts.occurrence_deadline
    dues = [incident.created_at + after for after in ctx.alerts.occurrence_reminders]
    now = ctx.clock.now()
    for n, after in enumerate(ctx.alerts.occurrence_reminders, start=1):
        if (dues[n:] or [deadline])[0] <= now:
            continue  # approved late: a later reminder (or the deadline) has passed too
        await schedule(
            uow,
            ctx,
            kind=OCCURRENCE_REMINDER,
            key=sequence_key(OCCURRENCE_REMINDER, incident.id, n),
            due_at=incident.created_at + after,
            incident_id=incident.id,
            payload={"n": n, "deadline": deadline.isoformat()},
        )
    await schedule(
        uow,
        ctx,
        kind=OCCURRENCE_OVERDUE,
        key=key_for(OCCURRENCE_OVERDUE, incident.id),
        due_at=deadline,
        incident_id=incident.id,
        payload={"deadline": deadline.isoformat()},
    )


async def cancel_occurrence_timers(uow: UnitOfWork, ctx: ServiceContext, incident_id: int) -> int:
    return await uow.timers.cancel_for_incident(
        incident_id, kinds=OCCURRENCE_TIMERS, at=ctx.clock.now()
    )


async def schedule_return_interview_timers(
    uow: UnitOfWork, ctx: ServiceContext, *, task_id: int, incident_id: int, due_at: datetime
) -> None:
    """Reminders while the return interview is not done, then an overdue notice."""
    start = ctx.clock.now()
    for n, after in enumerate(ctx.alerts.return_interview_reminders, start=1):
        await schedule(
            uow,
            ctx,
            kind=RETURN_REMINDER,
            key=sequence_key(RETURN_REMINDER, task_id, n),
            due_at=start + after,
            incident_id=incident_id,
            subject_id=task_id,
            payload={"n": n},
        )
    await schedule(
        uow,
        ctx,
        kind=RETURN_OVERDUE,
        key=key_for(RETURN_OVERDUE, task_id),
        due_at=due_at,
        incident_id=incident_id,
        subject_id=task_id,
    )


async def cancel_return_interview_timers(
    uow: UnitOfWork, ctx: ServiceContext, *, task_id: int
) -> None:
    await cancel(uow, ctx, key=f"{RETURN_REMINDER}:{task_id}:", prefix=True)
    await cancel(uow, ctx, key=key_for(RETURN_OVERDUE, task_id))


def default_handlers() -> dict[str, Handler]:
    from bot.services import drills, escalation, followups, maps, tasks

    return {
        **escalation.HANDLERS,
        **tasks.TIMER_HANDLERS,
        **drills.TIMER_HANDLERS,
        **maps.HANDLERS,
        **followups.TIMER_HANDLERS,
    }


async def fire_due(
    ctx: ServiceContext,
    *,
    handlers: Mapping[str, Handler] | None = None,
    limit: int = 100,
) -> int:
    """Fire every timer due by ``ctx.clock.now()``, each exactly once; returns how many.

    One transaction per timer (see the module docstring). A handler that raises is
    logged, its timer is marked fired without effect and a ``timer.failed`` event is
    recorded, so a broken timer cannot hold up every timer behind it.
    """
    table = handlers if handlers is not None else default_handlers()
    now = ctx.clock.now()
    fired = 0
    while fired < limit:
        timer: Timer | None = None
        try:
            async with ctx.uow() as uow:
                claimed = await uow.timers.claim_due(now=now, limit=1)
                if not claimed:
                    break
                timer = claimed[0]
                handler = table.get(timer.kind)
                if handler is None:
                    log.warning("timer %s: no handler for kind %r", timer.id, timer.kind)
                else:
                    await handler(uow, ctx, timer)
                await uow.commit()
            fired += 1
        except Exception:
            if timer is None:
                raise
            log.exception("timer %s (%s) failed; marking it spent", timer.id, timer.kind)
            await _give_up(ctx, timer)
    return fired


async def _give_up(ctx: ServiceContext, timer: Timer) -> None:
    async with ctx.uow() as uow:
        if await uow.timers.finish(timer.id, at=ctx.clock.now()):
            await history.record(
                uow,
                ctx,
                action="timer.failed",
                subject_type="timer",
                subject_id=timer.id,
                incident_id=timer.incident_id,
                details={"kind": timer.kind, "key": timer.key},
            )
        await uow.commit()
