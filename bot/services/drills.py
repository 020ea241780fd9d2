"""Drills (/drill): a coordinator runs the real alert flow with a fictional youth.

A drill is an ordinary incident with ``is_drill`` set, raised through the real path
(:func:`bot.services.alerts.submit`), so vetting, reach, delivery, tasks,
acknowledgements and timers behave exactly as they would for a real child. What
differs: the youth is fictional (flagged, never listed with real profiles), every
message about it starts with DRILL (the outbox marks them), and it ends by itself
after ``AlertPolicy.drill_duration`` if nobody ends it sooner (a stored timer).

The coordinator who starts a drill raises it, honestly under their own name, so the
two-person rule holds as in reality: someone else has to approve it. One drill at a
time per residence; the drill's end timer is keyed by residence, so even two
simultaneous presses of "Start" start one drill.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot import texts_drills
from bot.domain import drills as drill_rules
from bot.domain.errors import NotAllowed, NotFound, StaleAction
from bot.domain.geo import Point
from bot.domain.incidents import OPEN_STATUSES, Incident, Outcome, normalise_code
from bot.domain.membership import (
    VETTING_ROLES,
    Member,
    MemberStatus,
    Organisation,
    OrgKind,
    Role,
    may_use,
)
from bot.domain.outgoing import Button
from bot.domain.reach import covers
from bot.services import access, actions, alerts, drill_cleanup, history, resolution, timers
from bot.services.context import ServiceContext
from bot.services.ports import ActionRecord, UnitOfWork
from bot.services.ports_alerts import Timer
from bot.services.resolution import Resolution

COMMAND = "drill"
LAST_SEEN_AGO = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class DrillOutcome:
    """What a drill command or button did, for the handler to render.

    ``what``: pick, confirm, started, running, ended, which, none_to_end, no_residence,
    no_vetter, not_now, usage.
    """

    what: str
    residence: Organisation | None = None
    incident: Incident | None = None
    youth_name: str | None = None
    ends_at: datetime | None = None
    choices: tuple[Button, ...] = ()
    resolution: Resolution | None = None
    codes: tuple[str, ...] = ()


def end_timer_key(residence_org_id: int) -> str:
    return f"{timers.DRILL_END}:org:{residence_org_id}"


# /drill ---------------------------------------------------------------------------------------


async def command(ctx: ServiceContext, *, telegram_id: int, args: list[str]) -> DrillOutcome:
    """``/drill`` starts one (pick a residence, confirm); ``/drill end [CODE]`` ends one."""
    async with ctx.uow() as uow:
        member = await access.require_command(uow, telegram_id=telegram_id, command=COMMAND)
        if not args:
            outcome = await _begin(uow, ctx, member)
        elif args[0].lower() == "end" and len(args) <= 2:
            outcome = await _end_by_code(uow, ctx, member, args[1] if len(args) == 2 else None)
        else:
            outcome = DrillOutcome("usage")
        await uow.commit()
    return outcome


async def _residences_for(uow: UnitOfWork, member: Member) -> list[Organisation]:
    """Residences in a coordinator's own area; every residence if none is (or for admins)."""
    residences = [o for o in await uow.organisations.list() if o.kind is OrgKind.RESIDENCE]
    if member.role is Role.COORDINATOR:
        local = [
            o
            for o in residences
            if o.latitude is not None
            and o.longitude is not None
            and covers(member.area, Point(o.latitude, o.longitude))
        ]
        if local:
            return local
    return residences


async def _someone_else_can_approve(uow: UnitOfWork, member: Member) -> bool:
    vetters = await uow.members.list(statuses=[MemberStatus.ACTIVE], roles=list(VETTING_ROLES))
    return any(v.id != member.id for v in vetters)


async def _begin(uow: UnitOfWork, ctx: ServiceContext, member: Member) -> DrillOutcome:
    residences = await _residences_for(uow, member)
    if not residences:
        return DrillOutcome("no_residence")
    if not await _someone_else_can_approve(uow, member):
        return DrillOutcome("no_vetter")
    if len(residences) == 1:
        return await _confirm(uow, ctx, member, residences[0])
    choices = tuple(
        [
            await actions.button(
                uow,
                ctx,
                org.name[:40],
                action="drill.pick",
                payload={"org": org.id},
                audience_telegram_id=member.telegram_id,
            )
            for org in residences
        ]
    )
    return DrillOutcome("pick", choices=choices)


async def _running_for(uow: UnitOfWork, residence_org_id: int) -> Incident | None:
    open_ = await uow.incidents.list(
        statuses=list(OPEN_STATUSES), residence_org_id=residence_org_id
    )
    return next((i for i in open_ if i.is_drill), None)


async def _confirm(
    uow: UnitOfWork, ctx: ServiceContext, member: Member, residence: Organisation
) -> DrillOutcome:
    running = await _running_for(uow, residence.id)
    if running is not None:
        return DrillOutcome("running", residence=residence, incident=running)
    start = await actions.button(
        uow,
        ctx,
        texts_drills.START,
        action="drill.start",
        payload={"org": residence.id},
        audience_telegram_id=member.telegram_id,
    )
    not_now = await actions.button(
        uow,
        ctx,
        texts_drills.NOT_NOW,
        action="drill.not_now",
        payload={},
        audience_telegram_id=member.telegram_id,
    )
    return DrillOutcome("confirm", residence=residence, choices=(start, not_now))


# Buttons --------------------------------------------------------------------------------------


async def press(
    uow: UnitOfWork, ctx: ServiceContext, *, actor: Member, record: ActionRecord
) -> DrillOutcome:
    """Every drill button: re-check the role, then do what the button said."""
    if not may_use(actor.role, COMMAND):
        raise NotAllowed("only coordinators and administrators run drills")
    if record.action == "drill.not_now":
        return DrillOutcome("not_now")
    if record.action == "drill.end":
        return await end(uow, ctx, actor=actor, incident_id=int(record.payload["incident"]))
    residence = await uow.organisations.get(int(record.payload["org"]))
    if residence is None or residence.kind is not OrgKind.RESIDENCE:
        raise NotFound("residence")
    if record.action == "drill.pick":
        return await _confirm(uow, ctx, actor, residence)
    if record.action == "drill.start":
        return await start(uow, ctx, actor=actor, residence=residence)
    raise StaleAction(f"unknown action {record.action!r}")


# Starting -------------------------------------------------------------------------------------


async def start(
    uow: UnitOfWork, ctx: ServiceContext, *, actor: Member, residence: Organisation
) -> DrillOutcome:
    """Create the fictional youth and raise the drill through the real alert path."""
    running = await _running_for(uow, residence.id)
    if running is not None:
        return DrillOutcome("running", residence=residence, incident=running)
    if not await _someone_else_can_approve(uow, actor):
        return DrillOutcome("no_vetter")
    now = ctx.clock.now()
    has_point = residence.latitude is not None and residence.longitude is not None
    point = (residence.latitude or 0.0, residence.longitude or 0.0) if has_point else None
    fields = drill_rules.fictional_youth(
        seed=ctx.ids.token(8), today=now.astimezone(ctx.zone).date(), near=point
    )
    youth = await uow.youth.add(
        residence_org_id=residence.id,
        created_by=actor.id,
        at=now,
        fields={**fields, "is_drill": True},
    )
    # Last seen at the residence, as staff would report it; no location if it has none.
    location: dict[str, Any] = {
        "latitude": point[0] if point else None,
        "longitude": point[1] if point else None,
        "label": residence.name if point else None,
        "source": "residence" if point else "none",
    }
    data: dict[str, Any] = {
        "youth": str(youth.id),
        "last_seen": (now - LAST_SEEN_AGO).isoformat(),
        "location": location,
        **drill_rules.DRILL_REPORT,
        **drill_rules.DRILL_RISK_ANSWERS,
        "police_told": False,
        "drill": True,
    }
    incident = await alerts.submit(uow, ctx, raiser=actor, data=data)
    ends_at = now + ctx.alerts.drill_duration
    minutes = round(ctx.alerts.drill_duration.total_seconds() / 60)
    if not await timers.schedule(
        uow,
        ctx,
        kind=timers.DRILL_END,
        key=end_timer_key(residence.id),
        due_at=ends_at,
        incident_id=incident.id,
        payload={"minutes": minutes},
    ):
        # Someone started a drill here at the same moment: this one never happened.
        raise StaleAction("a drill was just started for this residence")
    await history.record(
        uow,
        ctx,
        action="drill.started",
        subject_type="incident",
        subject_id=incident.id,
        actor=actor,
        incident_id=incident.id,
        details={
            "residence_org_id": residence.id,
            "youth_id": youth.id,
            "ends_at": ends_at.isoformat(),
            "minutes": minutes,
        },
    )
    end_now = await actions.button(
        uow,
        ctx,
        texts_drills.END_NOW,
        action="drill.end",
        payload={"incident": incident.id},
        audience_telegram_id=actor.telegram_id,
    )
    return DrillOutcome(
        "started",
        residence=residence,
        incident=incident,
        youth_name=youth.preferred_name,
        ends_at=ends_at,
        choices=(end_now,),
    )


# Ending ---------------------------------------------------------------------------------------


async def _end_by_code(
    uow: UnitOfWork, ctx: ServiceContext, member: Member, code: str | None
) -> DrillOutcome:
    if code is not None:
        incident = await uow.incidents.get_by_code(normalise_code(code))
        if incident is None or not incident.is_drill:
            raise NotFound("drill")  # /drill end never touches a real alert
        return await end(uow, ctx, actor=member, incident_id=incident.id)
    running = [i for i in await uow.incidents.list(statuses=list(OPEN_STATUSES)) if i.is_drill]
    if not running:
        return DrillOutcome("none_to_end")
    if len(running) > 1:
        return DrillOutcome("which", codes=tuple(i.code for i in running))
    return await end(uow, ctx, actor=member, incident_id=running[0].id)


async def end(
    uow: UnitOfWork, ctx: ServiceContext, *, actor: Member, incident_id: int
) -> DrillOutcome:
    """End a drill now: closed through the real resolution path, then cleaned up."""
    if actor.role not in VETTING_ROLES:
        raise NotAllowed("only coordinators and administrators end drills")
    incident = await uow.incidents.get(incident_id)
    if incident is None or not incident.is_drill:
        raise NotFound("drill")
    if not incident.is_open:
        raise StaleAction("the drill has already ended")
    result = await resolution.close(
        uow,
        ctx,
        incident=incident,
        actor=actor,
        outcome=Outcome.OTHER,
        details={"reason": "drill ended"},
    )
    await drill_cleanup.wind_down(uow, ctx, result.incident, actor=actor, how="ended")
    return DrillOutcome("ended", incident=result.incident, resolution=result)


async def end_by_timer(uow: UnitOfWork, ctx: ServiceContext, timer: Timer) -> None:
    """Timer: the drill ran its time. Close it as /drill end would, with no actor."""
    incident = await uow.incidents.get(timer.incident_id) if timer.incident_id else None
    if incident is None or not incident.is_drill:
        return
    if incident.is_open:
        result = await resolution.close(
            uow,
            ctx,
            incident=incident,
            actor=None,
            outcome=Outcome.OTHER,
            details={"reason": "drill ended", "by": "timer"},
        )
        incident = result.incident
    # A drill closed some other way already wound down and cancelled this timer; if one
    # did not, its cleanup happens now.
    await drill_cleanup.wind_down(uow, ctx, incident, actor=None, how="timer")


TIMER_HANDLERS: dict[str, timers.Handler] = {timers.DRILL_END: end_by_timer}
