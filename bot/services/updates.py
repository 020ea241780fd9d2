"""Updates on an active incident, and the sightings coordinators confirm.

Anyone taking part in an incident
(:func:`bot.services.update_audience.takes_part`) can post an update with ``/update``
(a short form) or by replying to one of the bot's messages about it (both in
:mod:`bot.services.update_forms`): text, optionally a place and a photo. It goes,
with ``protect_content``, to the incident's coordinators, its task holders and, when
it has a place, the active members whose own area covers that place; never to the
poster, each person once. A place is sent as a venue or a location right after the
text, so clients draw the map.

A coordinator who neither posted the update nor raised the alert can confirm an
update with a place as a sighting: in one transaction the update is marked, the
incident's last-known point moves there as a new version that this coordinator
approves (the approval stays current and is on the timeline), the people near the
new point are told, and members the alert now reaches for the first time get it.

Refusals (not taking part, another incident's code, a closed alert) change nothing
and are recorded without the refused content.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot import texts_updates
from bot.domain.errors import InvalidInput, NotAllowed, NotFound, StaleAction
from bot.domain.forms import clean_text
from bot.domain.geo import validate_optional_point
from bot.domain.incidents import (
    Incident,
    IncidentStatus,
    LocationSource,
    content_hash,
    sent_fields,
)
from bot.domain.membership import VETTING_ROLES, Member
from bot.domain.outgoing import Keyboard, Outgoing, Priority
from bot.domain.updates import (
    KIND_SIGHTING,
    KIND_SIGHTING_MAP,
    KIND_UPDATE,
    KIND_UPDATE_MAP,
    LABEL_MAX,
    TEXT_MAX,
    IncidentUpdate,
    codes_named,
)
from bot.services import actions, fanout, history, maps
from bot.services.context import ServiceContext
from bot.services.ports import UnitOfWork
from bot.services.update_audience import (
    has_content_for,
    sees_photos,
    sees_places,
    takes_part,
    update_recipients,
)

COMMAND = "update"
CONFIRM_ACTION = "update.confirm"


@dataclass(frozen=True, slots=True)
class Posted:
    incident: Incident
    update: IncidentUpdate
    recipients: int


@dataclass(frozen=True, slots=True)
class Refused:
    """Nothing was posted. ``reason`` names the explanation in texts_updates.refused."""

    reason: str
    code: str | None = None  # the incident it was about
    named: str | None = None  # the other incident the update named


@dataclass(frozen=True, slots=True)
class SightingOutcome:
    """``what``: confirmed, already (someone confirmed it first), closed, older."""

    what: str
    incident: Incident
    update: IncidentUpdate
    by_name: str | None = None
    notified: int = 0
    newly_alerted: int = 0


# Refusing --------------------------------------------------------------------------------------


async def refusal_for(
    uow: UnitOfWork,
    ctx: ServiceContext,
    member: Member,
    incident: Incident,
    *,
    text: str | None,
    via: str,
) -> Refused | None:
    """Why this member can't post this update to this incident now, or None."""
    others = sorted(codes_named(text) - {incident.code})
    if others:
        return Refused("wrong_incident", incident.code, others[0])
    if not await takes_part(uow, ctx, member, incident):
        return Refused("not_taking_part", incident.code)
    if incident.status is IncidentStatus.PENDING:
        return Refused("pending", incident.code)
    if incident.status is not IncidentStatus.ACTIVE:
        return Refused("closed", incident.code)
    return None


async def record_refusal(
    uow: UnitOfWork,
    ctx: ServiceContext,
    member: Member,
    incident: Incident,
    refusal: Refused,
    via: str,
) -> Refused:
    # Only the fact and the reason: the refused content is not kept anywhere.
    await history.record(
        uow,
        ctx,
        action="update.refused",
        subject_type="incident",
        subject_id=incident.id,
        actor=member,
        incident_id=incident.id,
        details={"reason": refusal.reason, "via": via},
    )
    return refusal


# Posting ---------------------------------------------------------------------------------------


async def post(
    uow: UnitOfWork,
    ctx: ServiceContext,
    *,
    actor: Member,
    incident: Incident,
    text: str | None,
    latitude: float | None = None,
    longitude: float | None = None,
    location_label: str | None = None,
    photo_file_id: str | None = None,
    via: str,
) -> Posted | Refused:
    """Store an update and send it to the people who need it (all checks included)."""
    incident = await history.incident_to_write(uow, incident.id) or incident
    refusal = await refusal_for(uow, ctx, actor, incident, text=text, via=via)
    if refusal is not None:
        return await record_refusal(uow, ctx, actor, incident, refusal, via)
    typed = text is not None and text.strip() != ""
    cleaned = clean_text(text, TEXT_MAX) if text is not None and typed else None
    if typed and cleaned is None:  # too long, or control characters
        return await record_refusal(
            uow, ctx, actor, incident, Refused("text_shape", incident.code), via
        )
    validate_optional_point(latitude, longitude)
    if cleaned is None and latitude is None and photo_file_id is None:
        return await record_refusal(uow, ctx, actor, incident, Refused("empty", incident.code), via)
    update = await uow.incident_updates.add(
        incident_id=incident.id,
        member_id=actor.id,
        at=ctx.clock.now(),
        text=cleaned,
        latitude=latitude,
        longitude=longitude,
        location_label=(location_label or "")[:LABEL_MAX] or None,
        photo_file_id=(photo_file_id or "")[:200] or None,
    )
    audience = await update_recipients(uow, incident, update, exclude={actor.id})
    # Nobody gets an empty update (a bare place, for a role that receives no places).
    audience = [m for m in audience if has_content_for(ctx, m, update)]
    for member in audience:
        await _send_update(uow, ctx, incident, update, actor, member)
    if audience and update.has_point:
        await maps.schedule_expiry(uow, ctx, incident_id=incident.id, tag=f"u{update.id}")
    await history.record(
        uow,
        ctx,
        action="update.posted",
        subject_type="incident_update",
        subject_id=update.id,
        actor=actor,
        incident_id=incident.id,
        details={
            "via": via,
            "place": update.has_point,
            "photo": update.photo_file_id is not None,
            "recipients": [m.id for m in audience],
        },
    )
    return Posted(incident, update, len(audience))


def _may_confirm(member: Member, incident: Incident, update: IncidentUpdate) -> bool:
    return (
        update.has_point
        and not update.is_confirmed
        and member.role in VETTING_ROLES
        and member.id not in (update.member_id, incident.raised_by)
    )


async def _send_update(
    uow: UnitOfWork,
    ctx: ServiceContext,
    incident: Incident,
    update: IncidentUpdate,
    poster: Member,
    member: Member,
) -> None:
    now = ctx.clock.now()
    photo = update.photo_file_id if sees_photos(ctx, member) else None
    may_confirm = _may_confirm(member, incident, update)
    keyboard: Keyboard = ()
    if may_confirm:
        confirm = await actions.button(
            uow,
            ctx,
            texts_updates.CONFIRM,
            action=CONFIRM_ACTION,
            payload={"update": update.id},
            audience_telegram_id=member.telegram_id,
        )
        keyboard = ((confirm,),)
    card = texts_updates.update_card(
        incident,
        update,
        poster.name,
        poster.role,
        ctx.zone,
        budget=1024 if photo else 4096,
        photo_withheld=update.photo_file_id is not None and photo is None,
        may_confirm=may_confirm,
        show_place=sees_places(ctx, member),
    )
    common: dict[str, Any] = {
        "protect_content": True,
        "priority": Priority.ALERT,
        "recipient_member_id": member.id,
        "incident_id": incident.id,
    }
    ref = f"update:{update.id}"
    if photo:
        message = Outgoing.photo(
            member.telegram_id,
            photo,
            caption=card,
            keyboard=keyboard,
            kind=KIND_UPDATE,
            ref=ref,
            **common,
        )
    else:
        message = Outgoing.text(
            member.telegram_id, card, keyboard=keyboard, kind=KIND_UPDATE, ref=ref, **common
        )
    await uow.outbox.add(message, at=now)
    if update.has_point and sees_places(ctx, member):
        title = texts_updates.venue_title(incident, update, sighting=False)
        await uow.outbox.add(_map(member, update, title, KIND_UPDATE_MAP, ref, common), at=now)


def _map(
    member: Member, update: IncidentUpdate, title: str, kind: str, ref: str, common: dict[str, Any]
) -> Outgoing:
    """A venue when the place has a name, otherwise a plain location."""
    return Outgoing.pin(
        member.telegram_id,
        update.latitude or 0.0,
        update.longitude or 0.0,
        title=title,
        label=update.location_label,
        kind=kind,
        ref=ref,
        **common,
    )


# Confirming a sighting -------------------------------------------------------------------------


async def _name(uow: UnitOfWork, member_id: int | None) -> str | None:
    if member_id is None:
        return None
    member = await uow.members.get(member_id)
    return member.name if member else None


async def confirm_sighting(
    uow: UnitOfWork, ctx: ServiceContext, *, actor: Member, payload: dict[str, Any]
) -> SightingOutcome:
    update = await uow.incident_updates.get(int(payload["update"]))
    if update is None:
        raise NotFound("update")
    if actor.role not in VETTING_ROLES:
        raise NotAllowed("only coordinators confirm sightings")
    if update.member_id == actor.id:
        raise NotAllowed("you posted this update: another coordinator must confirm it")
    incident = await uow.incidents.get(update.incident_id)
    if incident is None:
        raise NotFound("incident")
    if update.is_confirmed:
        return SightingOutcome("already", incident, update, await _name(uow, update.confirmed_by))
    if incident.status is not IncidentStatus.ACTIVE:
        return SightingOutcome("closed", incident, update)
    if incident.raised_by == actor.id:
        raise NotAllowed("you raised this alert: another coordinator must confirm sightings")
    if not update.has_point:
        raise InvalidInput("this update has no place to confirm")
    if incident.last_seen_at is not None and update.created_at < incident.last_seen_at:
        return SightingOutcome("older", incident, update)
    now = ctx.clock.now()
    if not await uow.incident_updates.confirm(update.id, by_member_id=actor.id, at=now):
        current = await uow.incident_updates.get(update.id)
        by = await _name(uow, current.confirmed_by if current else None)
        return SightingOutcome("already", incident, update, by)
    changes: dict[str, Any] = {
        "latitude": update.latitude,
        "longitude": update.longitude,
        "location_label": update.location_label,
        "last_seen_at": update.created_at,
        "location_source": LocationSource.SIGHTING,
    }
    digest = content_hash({**sent_fields(incident), **changes})
    moved_ok = await uow.incidents.move_to_sighting(
        incident.id,
        expected_version=incident.version,
        fields=changes,
        content_hash=digest,
        by_member_id=actor.id,
        at=now,
    )
    if not moved_ok:  # the caller's transaction rolls back the confirmation too
        raise StaleAction("the alert changed meanwhile")
    moved = await uow.incidents.get(incident.id)
    confirmed = await uow.incident_updates.get(update.id)
    if moved is None or confirmed is None:
        raise NotFound("incident")
    notified = await _announce_sighting(uow, ctx, moved, confirmed, actor)
    if notified:
        await maps.schedule_expiry(uow, ctx, incident_id=moved.id, tag=f"s{confirmed.id}")
    newly = await _alert_newcomers(uow, ctx, moved)
    await history.record(
        uow,
        ctx,
        action="incident.sighting_confirmed",
        subject_type="incident",
        subject_id=incident.id,
        actor=actor,
        incident_id=incident.id,
        details={
            "update_id": update.id,
            "previous_version": incident.version,
            "version": moved.version,
            "content_hash": digest,
            "approved_by": actor.id,
            "notified": [m.id for m in notified],
            "newly_alerted": newly,
        },
    )
    return SightingOutcome(
        "confirmed", moved, confirmed, actor.name, notified=len(notified), newly_alerted=newly
    )


async def _announce_sighting(
    uow: UnitOfWork,
    ctx: ServiceContext,
    incident: Incident,
    update: IncidentUpdate,
    actor: Member,
) -> list[Member]:
    """The notice goes to the people near the new point, the coordinators, the task
    holders and the poster; not to the coordinator who confirmed it."""
    poster = await uow.members.get(update.member_id)
    if poster is None:
        raise NotFound("member")
    people = await update_recipients(uow, incident, update, exclude={actor.id})
    if poster.is_active and poster.id != actor.id:
        people = sorted({m.id: m for m in [*people, poster]}.values(), key=lambda m: m.id)
    now = ctx.clock.now()
    cards = {
        shown: texts_updates.sighting_card(
            incident, update, poster.name, poster.role, actor.name, ctx.zone, now, show_place=shown
        )
        for shown in (True, False)
    }
    ref = f"sighting:{update.id}"
    title = texts_updates.venue_title(incident, update, sighting=True)
    for member in people:
        common: dict[str, Any] = {
            "protect_content": True,
            "priority": Priority.ALERT,
            "recipient_member_id": member.id,
            "incident_id": incident.id,
        }
        shown = sees_places(ctx, member)
        await uow.outbox.add(
            Outgoing.text(member.telegram_id, cards[shown], kind=KIND_SIGHTING, ref=ref, **common),
            at=now,
        )
        if shown:
            await uow.outbox.add(
                _map(member, update, title, KIND_SIGHTING_MAP, ref, common), at=now
            )
    return people


async def _alert_newcomers(uow: UnitOfWork, ctx: ServiceContext, incident: Incident) -> int:
    """Members the alert reaches from its new point who never had it get it now."""
    already = await uow.outbox.recipients_of(incident.id, kinds=("alert",))
    newcomers = [m for m in await fanout.recipients(uow, ctx, incident) if m.id not in already]
    if not newcomers:
        return 0
    return await fanout.release(uow, ctx, incident, newcomers)
