"""/incidents and /incident CODE: the open incidents a member may see, shown for their role.

Who sees which incident (default deny):

- coordinators and administrators: every open incident, pending or active;
- residence staff: the open incidents of their residence's youth and the ones they raised;
- everyone (residence staff too): the ACTIVE incidents that reach them now (the same
  recipients an approval sends to) and the ACTIVE incidents where they hold a task.
  An incident nobody has vetted yet (pending) never reaches anyone else.

What they see follows their role's alert fields (``AlertPolicy.visibility``); risk
notes, medical needs and associates are never shown here (only the sealed-details
message carries them). A page or list that shows a youth's details is an access to
personal information: it is recorded on the timeline in the same transaction that
queues the message, which goes with ``protect_content``. A code that is unknown,
closed or someone else's gets the same answer, so a guess learns nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import texts_incidents
from bot.domain.errors import NotAllowed, StaleAction
from bot.domain.incidents import (
    OPEN_STATUSES,
    Incident,
    IncidentStatus,
    Youth,
    age_on,
    normalise_code,
)
from bot.domain.membership import Member, Role, may_use
from bot.domain.outgoing import Button, Outgoing, Priority
from bot.domain.tasks import LIVE_STATUSES
from bot.domain.updates import IncidentUpdate
from bot.domain.visibility import AlertField
from bot.services import (
    access,
    acknowledgements,
    actions,
    history,
    resolution,
    task_access,
    task_views,
)
from bot.services.context import ServiceContext
from bot.services.fanout import PURPOSE
from bot.services.ports import UnitOfWork
from bot.texts_incidents import ListEntry, Page, UpdateLine

MANAGERS = (Role.COORDINATOR, Role.ADMIN)
# Who is told whether police know and the report number (and only if their fields allow it).
POLICE_ROLES = (Role.COORDINATOR, Role.ADMIN, Role.POLICE, Role.RESIDENCE_STAFF)
VIEW_ACTION = "incident.view"
PURPOSE_PAGE = f"incident page (/incident): {PURPOSE}"
NAME_FIELDS = frozenset({AlertField.PREFERRED_NAME, AlertField.LEGAL_NAME})


@dataclass(frozen=True, slots=True)
class ViewOutcome:
    """``shown``: messages with incident details queued. ``reply``: a kind line instead."""

    shown: int
    reply: str | None = None


# Who may see what ----------------------------------------------------------------------------


def _fields(ctx: ServiceContext, member: Member) -> frozenset[AlertField]:
    return ctx.alerts.visibility.get(member.role, frozenset({AlertField.CODE}))


async def _held(uow: UnitOfWork, member: Member) -> set[int]:
    """Incidents where this member holds a task now."""
    held = await uow.tasks.list_for_holder(member.id, statuses=list(LIVE_STATUSES))
    return {t.incident_id for t in held}


async def _may_see(
    uow: UnitOfWork, ctx: ServiceContext, member: Member, incident: Incident, held: set[int]
) -> bool:
    if not incident.is_open:
        return False
    if member.role in MANAGERS:
        return True
    if member.role is Role.RESIDENCE_STAFF and (
        incident.raised_by == member.id
        or (member.org_id is not None and member.org_id == incident.residence_org_id)
    ):
        return True
    if incident.status is not IncidentStatus.ACTIVE:
        return False  # never an unvetted alert to anyone outside the residence
    return incident.id in held or await task_access.is_recipient(uow, ctx, member, incident)


async def visible(uow: UnitOfWork, ctx: ServiceContext, member: Member) -> list[Incident]:
    """The open incidents this member may see, newest first."""
    held = await _held(uow, member)
    return [
        i
        for i in await uow.incidents.list(statuses=list(OPEN_STATUSES))
        if await _may_see(uow, ctx, member, i, held)
    ]


async def _youth(uow: UnitOfWork, incident: Incident) -> Youth | None:
    return await uow.youth.get(incident.youth_id) if incident.youth_id else None


def _first_name(incident: Incident, youth: Youth | None, fields: frozenset[AlertField]) -> str:
    if AlertField.PREFERRED_NAME in fields:
        name = youth.preferred_name if youth else (incident.subject_name or "")
    elif AlertField.LEGAL_NAME in fields:
        name = youth.legal_name if youth else (incident.subject_name or "")
    else:
        return ""
    return (name.split() or [""])[0]


def _full_name(incident: Incident, youth: Youth | None, fields: frozenset[AlertField]) -> str:
    if youth is None:
        return (incident.subject_name or "unnamed youth") if fields & NAME_FIELDS else ""
    preferred = AlertField.PREFERRED_NAME in fields
    legal = AlertField.LEGAL_NAME in fields
    if preferred and legal and youth.legal_name != youth.preferred_name:
        return f"{youth.preferred_name} (legal name {youth.legal_name})"
    if preferred:
        return youth.preferred_name
    return youth.legal_name if legal else ""


def _age(ctx: ServiceContext, incident: Incident, youth: Youth | None) -> int | None:
    if youth is not None:
        return age_on(youth.date_of_birth, ctx.clock.now().astimezone(ctx.zone).date())
    return incident.subject_age


async def _record_view(
    uow: UnitOfWork,
    ctx: ServiceContext,
    member: Member,
    incident: Incident,
    shown: set[AlertField],
    purpose: str,
) -> None:
    """The same record a profile view leaves: who, when, which child, which fields, why."""
    subject = ("youth", incident.youth_id) if incident.youth_id else ("incident", incident.id)
    await history.record(
        uow,
        ctx,
        action="youth.viewed" if incident.youth_id else "incident.viewed",
        subject_type=subject[0],
        subject_id=subject[1],
        actor=member,
        incident_id=incident.id,
        details={
            "fields": sorted(f.value for f in shown | {AlertField.CODE}),
            "purpose": purpose,
            "role": member.role.value,
        },
    )


# /incidents ----------------------------------------------------------------------------------


async def list_open(ctx: ServiceContext, *, telegram_id: int) -> ViewOutcome:
    """/incidents: one protected message listing what this member may see, with a button each."""
    async with ctx.uow() as uow:
        member = await access.require_command(uow, telegram_id=telegram_id, command="incidents")
        found = await visible(uow, ctx, member)
        if not found:
            return ViewOutcome(0, texts_incidents.NO_INCIDENTS)
        fields = _fields(ctx, member)
        entries: list[ListEntry] = []
        buttons: list[Button] = []
        for incident in found[: texts_incidents.LIST_SHOWN]:
            entries.append(
                ListEntry(
                    incident,
                    risk=AlertField.RISK_LEVEL in fields,
                    tasks=await uow.tasks.list_for_incident(incident.id),
                )
            )
            buttons.append(
                await actions.button(
                    uow,
                    ctx,
                    f"{'DRILL ' if incident.is_drill else ''}{incident.code}",
                    action=VIEW_ACTION,
                    payload={"incident": incident.id},
                    audience_telegram_id=member.telegram_id,
                )
            )
        now = ctx.clock.now()
        await uow.outbox.add(
            Outgoing.text(
                member.telegram_id,
                texts_incidents.listing(entries, now, total=len(found)),
                keyboard=tuple((b,) for b in buttons),
                protect_content=True,
                priority=Priority.REPLY,
                recipient_member_id=member.id,
                kind="incident_list",
            ),
            at=now,
        )
        await uow.commit()
    return ViewOutcome(1)


# /incident CODE ------------------------------------------------------------------------------


async def view(ctx: ServiceContext, *, telegram_id: int, code: str) -> ViewOutcome:
    """/incident CODE: the page, or one line that does not say whether the code exists."""
    wanted = normalise_code(code)
    async with ctx.uow() as uow:
        member = await access.require_command(uow, telegram_id=telegram_id, command="incident")
        await uow.timeline.serialize()  # see TimelineRepo.serialize: never after /found
        incident = await uow.incidents.get_by_code(wanted) if len(wanted) <= 20 else None
        if incident is not None and await _may_see(
            uow, ctx, member, incident, await _held(uow, member)
        ):
            await _show(uow, ctx, member, incident)
            await uow.commit()
            return ViewOutcome(1)
        if incident is None:
            return ViewOutcome(0, texts_incidents.not_visible(wanted))
        if member.role in MANAGERS:  # coordinators may know what became of any alert
            outcome = dict(resolution.OUTCOME_LABELS).get(incident.outcome or "")
            return ViewOutcome(0, texts_incidents.closed(incident, outcome, ctx.zone))
        await history.record(
            uow,
            ctx,
            action="incident.view_denied",
            subject_type="incident",
            subject_id=incident.id,
            actor=member,
            incident_id=incident.id,
            details={"role": member.role.value},
        )
        await uow.commit()
    return ViewOutcome(0, texts_incidents.not_visible(wanted))


async def open_from_list(
    uow: UnitOfWork, ctx: ServiceContext, *, actor: Member, incident_id: int
) -> ViewOutcome:
    """A code pressed in /incidents: checked again, since the incident may have moved on."""
    if not may_use(actor.role, "incident"):
        raise NotAllowed(f"{actor.role} may not use /incident")
    incident = await history.incident_to_write(uow, incident_id)
    if incident is None or not await _may_see(uow, ctx, actor, incident, await _held(uow, actor)):
        raise StaleAction("the incident is closed or no longer yours to see")
    await _show(uow, ctx, actor, incident)
    return ViewOutcome(1)


async def _show(uow: UnitOfWork, ctx: ServiceContext, member: Member, incident: Incident) -> None:
    fields = _fields(ctx, member)
    youth = await _youth(uow, incident)
    name = _full_name(incident, youth, fields)
    age = _age(ctx, incident, youth) if AlertField.AGE in fields and name else None
    found = await uow.tasks.list_for_incident(incident.id)
    manager = member.role in MANAGERS
    seen: list[str] | None = None
    can_help: list[str] = []
    not_yet: list[str] | None = None
    if incident.approved_at is not None:  # sent at least once, so acknowledgements exist
        acks = await acknowledgements.summarise(uow, ctx, incident)
        seen, can_help = acks.seen, acks.can_help
        not_yet = acks.not_yet if manager else None
    p = Page(
        incident,
        name=name or None,
        age=age,
        risk=AlertField.RISK_LEVEL in fields,
        last_seen=AlertField.LAST_SEEN in fields,
        police=member.role in POLICE_ROLES and AlertField.POLICE_REPORT in fields,
        tasks=found,
        holders=await task_views.holder_names(uow, found),
        seen=seen,
        can_help=can_help,
        not_yet=not_yet,
        updates=await latest_updates(uow, ctx, incident=incident, viewer=member),
    )
    shown = {
        f
        for f, on in (
            (AlertField.RISK_LEVEL, p.risk),
            (AlertField.LAST_SEEN, p.last_seen),
            (AlertField.POLICE_REPORT, p.police),
            (AlertField.AGE, age is not None),
        )
        if on
    }
    if name:
        shown |= fields & NAME_FIELDS
    now = ctx.clock.now()
    await uow.outbox.add(
        Outgoing.text(
            member.telegram_id,
            texts_incidents.page(p, now, ctx.zone),
            protect_content=True,
            priority=Priority.REPLY,
            recipient_member_id=member.id,
            kind="incident_view",
            ref=f"incident_view:{incident.id}",
            incident_id=incident.id,
        ),
        at=now,
    )
    await _record_view(uow, ctx, member, incident, shown, PURPOSE_PAGE)


async def latest_updates(
    uow: UnitOfWork, ctx: ServiceContext, *, incident: Incident, viewer: Member
) -> list[UpdateLine]:
    """The newest updates on an incident, newest first, at most ``UPDATES_SHOWN``.

    An update was sent to the alert's coordinators, its task holders and the people near
    its place; the page shows the whole story only to those who run or lead the search
    (coordinators, administrators, police, child protection, the youth's residence).
    Everyone else (outreach responders, staff of other residences) sees confirmed
    sightings and their own updates.
    """
    sees_all = viewer.role in (
        Role.COORDINATOR,
        Role.ADMIN,
        Role.POLICE,
        Role.CHILD_PROTECTION,
    ) or (viewer.role is Role.RESIDENCE_STAFF and viewer.org_id == incident.residence_org_id)
    fields = _fields(ctx, viewer)
    lines: list[UpdateLine] = []
    for update in await uow.incident_updates.latest_for_incident(
        incident.id, limit=texts_incidents.UPDATES_SHOWN * 4
    ):
        if not (sees_all or update.is_confirmed or update.member_id == viewer.id):
            continue
        poster = await uow.members.get(update.member_id)
        lines.append(
            UpdateLine(
                update.created_at,
                poster.name if poster else "a former member",
                poster.role if poster else Role.RESPONDER,
                _update_text(update, show_place=AlertField.LAST_SEEN in fields),
                confirmed_sighting=update.is_confirmed,
            )
        )
        if len(lines) == texts_incidents.UPDATES_SHOWN:
            break
    return lines


def _update_text(update: IncidentUpdate, *, show_place: bool) -> str:
    parts = [update.text] if update.text else []
    if update.has_point and show_place:
        where = update.location_label or f"{update.latitude:.5f}, {update.longitude:.5f}"
        parts.append(f"(at {where})")
    if update.photo_file_id:
        parts.append("(with a photo)")
    return " ".join(parts) or "(a place)"
