"""Raising an alert (/missing) and vetting it: the two-person rule, reach, versions.

Staff raise an alert through a guided form; nothing exists until they submit.
Coordinators whose area covers the last-seen point (all coordinators and admins
if none does) vet it. The person who raised it can never approve it. An approval
holds only for the exact version it approved; an edit needs a new approval.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot import texts_alerts
from bot.domain.errors import InvalidInput, NotAllowed, NotFound, StaleAction
from bot.domain.forms import FormSpec, Parsed, Step, StepKind
from bot.domain.geo import Point, validate_point
from bot.domain.incidents import (
    RISK_ORDER,
    RISK_QUESTIONS,
    Incident,
    IncidentStatus,
    LocationSource,
    RiskLevel,
    Youth,
    age_on,
    assess_risk,
    content_hash,
    incident_code,
)
from bot.domain.membership import VETTING_ROLES, Member, MemberStatus, OrgKind, Role
from bot.domain.outgoing import Button, Outgoing, Priority
from bot.domain.reach import REACH_CHOICES_KM, covers
from bot.services import access, actions, fanout, history, profiles
from bot.services.context import ServiceContext
from bot.services.forms import FormBehaviour
from bot.services.ports import UnitOfWork

RAISERS = (Role.RESIDENCE_STAFF, Role.COORDINATOR, Role.ADMIN)
WHEN_SHORTCUTS = (
    ("-0", "Just now"),
    ("-30", "30 minutes ago"),
    ("-60", "1 hour ago"),
    ("-120", "2 hours ago"),
    ("-240", "4 hours ago"),
)
OFF_ROSTER = "other"


def _off_roster(d: Mapping[str, Any]) -> bool:
    return d.get("youth") == OFF_ROSTER


RAISE_STEPS = (
    Step("youth", StepKind.CHOICE),
    Step("subject_name", StepKind.TEXT, max_len=80, skip_if=lambda d: not _off_roster(d)),
    Step(
        "subject_age", StepKind.NUMBER, minimum=5, maximum=25, skip_if=lambda d: not _off_roster(d)
    ),
    Step("subject_description", StepKind.TEXT, max_len=500, skip_if=lambda d: not _off_roster(d)),
    Step("last_seen", StepKind.WHEN, choices=WHEN_SHORTCUTS),
    Step("location", StepKind.LOCATION),
    Step(
        "location_confirm",
        StepKind.YES_NO,
        skip_if=lambda d: (d.get("location") or {}).get("source") != "address",
    ),
    Step("clothing", StepKind.TEXT, max_len=300),
    Step("circumstances", StepKind.TEXT, max_len=500),
    Step("photo", StepKind.PHOTO, optional=True),
    *(Step(q, StepKind.YES_NO) for q in RISK_QUESTIONS),
    Step("police_told", StepKind.YES_NO),
    Step(
        "police_report",
        StepKind.TEXT,
        optional=True,
        max_len=40,
        skip_if=lambda d: not d.get("police_told"),
    ),
    Step("review", StepKind.CHOICE, choices=(("submit", "Send to a coordinator"),)),
)


class RaiseAlert(FormBehaviour):
    kind = "alert.raise"
    spec = FormSpec(kind, RAISE_STEPS)

    async def choices(
        self,
        uow: UnitOfWork,
        ctx: ServiceContext,
        member: Member,
        step: Step,
        data: dict[str, Any],
    ) -> list[tuple[str, str]]:
        if step.key == "youth":
            roster = await profiles.roster_for(uow, member)
            return [(str(y.id), y.preferred_name) for y in roster] + [
                (OFF_ROSTER, "Someone not on the list")
            ]
        if step.key == "location":
            options: list[tuple[str, str]] = []
            org = await uow.organisations.get(member.org_id) if member.org_id else None
            if org and org.kind is OrgKind.RESIDENCE and org.latitude is not None:
                options.append(("residence", "At the residence"))
            options.append(("unknown", "I don't know where"))
            return options
        return list(step.choices)

    async def resolve_shortcut(
        self,
        uow: UnitOfWork,
        ctx: ServiceContext,
        member: Member,
        step: Step,
        value: str,
        data: dict[str, Any],
    ) -> Parsed:
        if value == "unknown":
            return Parsed.good(
                {"latitude": None, "longitude": None, "label": None, "source": "none"}
            )
        if value == "residence" and member.org_id is not None:
            org = await uow.organisations.get(member.org_id)
            if org and org.latitude is not None and org.longitude is not None:
                return Parsed.good(
                    {
                        "latitude": org.latitude,
                        "longitude": org.longitude,
                        "label": org.name,
                        "source": "residence",
                    }
                )
        return Parsed.bad("choice")

    def after_step(self, data: dict[str, Any], step: Step, ctx: ServiceContext) -> str | None:
        if step.key == "location_confirm" and data.get("location_confirm") is False:
            data["location"] = None
            return "location"
        if step.key == RISK_QUESTIONS[-1]:
            data["risk_level"] = assess_risk(data, age=data.get("subject_age")).value
        return None

    async def complete(
        self, uow: UnitOfWork, ctx: ServiceContext, member: Member, data: dict[str, Any]
    ) -> Incident:
        return await submit(uow, ctx, raiser=member, data=data)


async def start_raise(ctx: ServiceContext, *, telegram_id: int) -> Any:
    from bot.services import forms

    async with ctx.uow() as uow:
        member = await access.require_command(uow, telegram_id=telegram_id, command="missing")
        reply = await forms.begin(uow, ctx, member=member, kind=RaiseAlert.kind)
        await uow.commit()
    return reply


async def submit(
    uow: UnitOfWork, ctx: ServiceContext, *, raiser: Member, data: dict[str, Any]
) -> Incident:
    """Create the incident from a completed form and send it to vetting."""
    if raiser.role not in RAISERS:
        raise NotAllowed("only residence staff and coordinators raise alerts")
    youth: Youth | None = None
    if data.get("youth") not in (None, OFF_ROSTER):
        youth = await uow.youth.get(int(data["youth"]))
        if youth is None or not profiles.may_view(raiser, youth):
            raise NotFound("youth")
    now = ctx.clock.now()
    location = data.get("location") or {}
    check_point(location)
    age = age_on(youth.date_of_birth, now.astimezone(ctx.zone).date()) if youth else None
    risk = RiskLevel(data.get("risk_level") or assess_risk(data, age=age).value)
    fields: dict[str, Any] = {
        "youth_id": youth.id if youth else None,
        "subject_name": data.get("subject_name"),
        "subject_age": data.get("subject_age"),
        "subject_description": data.get("subject_description"),
        "last_seen_at": datetime.fromisoformat(data["last_seen"])
        if data.get("last_seen")
        else None,
        "latitude": location.get("latitude"),
        "longitude": location.get("longitude"),
        "location_label": location.get("label"),
        "location_source": LocationSource(location.get("source") or "none"),
        "clothing": data.get("clothing"),
        "circumstances": data.get("circumstances"),
        "photo_file_id": data.get("photo") or (youth.photo_file_id if youth else None),
        "risk_level": risk,
        "risk_answers": {q: bool(data.get(q)) for q in RISK_QUESTIONS},
        "police_told": bool(data.get("police_told")),
        "police_report_number": data.get("police_report"),
        "reach_radius_km": ctx.alerts.radius_km[risk],
        "extra_org_ids": [],
    }
    residence = youth.residence_org_id if youth else raiser.org_id
    fields.update(
        code=incident_code(ctx.ids.token(16)),
        status=IncidentStatus.PENDING,
        raised_by=raiser.id,
        residence_org_id=residence,
        created_at=now,
        submitted_at=now,
        version=1,
        content_hash=content_hash(hashable(fields)),
        is_drill=bool(data.get("drill")),
    )
    incident = await uow.incidents.add(fields=fields)
    await history.record(
        uow,
        ctx,
        action="incident.raised",
        subject_type="incident",
        subject_id=incident.id,
        actor=raiser,
        incident_id=incident.id,
        details={
            "youth_id": incident.youth_id,
            "risk": risk.value,
            "location_source": incident.location_source.value,
        },
    )
    await send_vetting_cards(uow, ctx, incident)
    return incident


def check_point(location: Mapping[str, Any]) -> None:
    lat, lon = location.get("latitude"), location.get("longitude")
    if lat is not None or lon is not None:
        validate_point(lat, lon)  # type: ignore[arg-type]  # raises InvalidInput on None


def hashable(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.value if isinstance(v, RiskLevel) else v) for k, v in fields.items()}


# Vetting ----------------------------------------------------------------------------------


async def vetters_for(uow: UnitOfWork, incident: Incident) -> list[Member]:
    """Coordinators whose own area covers the point; every coordinator and admin if none."""
    everyone = await uow.members.list(statuses=[MemberStatus.ACTIVE], roles=list(VETTING_ROLES))
    everyone = [m for m in everyone if m.id != incident.raised_by]
    if incident.has_point:
        point = Point(incident.latitude or 0.0, incident.longitude or 0.0)
        local = [m for m in everyone if m.role is Role.COORDINATOR and covers(m.area, point)]
        if local:
            return local
    return everyone


@dataclass(frozen=True, slots=True)
class VetCard:
    incident: Incident
    youth: Youth | None
    reach: Counter[Role]
    raiser_name: str


async def _card(uow: UnitOfWork, ctx: ServiceContext, incident: Incident) -> VetCard:
    youth = await uow.youth.get(incident.youth_id) if incident.youth_id else None
    recipients = await fanout.recipients(uow, ctx, incident)
    raiser = await uow.members.get(incident.raised_by)
    return VetCard(
        incident, youth, Counter(m.role for m in recipients), raiser.name if raiser else ""
    )


async def _vet_buttons(
    uow: UnitOfWork, ctx: ServiceContext, incident: Incident, vetter: Member
) -> tuple[tuple[Button, ...], ...]:
    async def b(text: str, action: str, **payload: Any) -> Button:
        return await actions.button(
            uow,
            ctx,
            text,
            action=action,
            payload={"incident": incident.id, "version": incident.version, **payload},
            audience_telegram_id=vetter.telegram_id,
        )

    radius = incident.reach_radius_km or 0
    return (
        (await b("Approve and send", "alert.approve"), await b("Reject", "alert.reject_menu")),
        (
            await b(f"Reach: {radius:g} km ▸", "alert.reach"),
            await b(f"Risk: {incident.risk_level.value} ▸", "alert.risk"),
        ),
        (await b("Add an organisation", "alert.orgs_menu"),),
    )


async def send_vetting_cards(uow: UnitOfWork, ctx: ServiceContext, incident: Incident) -> None:
    card = await _card(uow, ctx, incident)
    text = texts_alerts.vet_card(card.incident, card.youth, card.reach, card.raiser_name, ctx.zone)
    now = ctx.clock.now()
    for vetter in await vetters_for(uow, incident):
        if incident.photo_file_id:
            await uow.outbox.add(
                Outgoing.photo(
                    vetter.telegram_id,
                    incident.photo_file_id,
                    caption=texts_alerts.vet_photo_caption(incident),
                    protect_content=True,
                    priority=Priority.ALERT,
                    recipient_member_id=vetter.id,
                    kind="vet_photo",
                    ref=f"vet:{incident.id}",
                    incident_id=incident.id,
                ),
                at=now,
            )
        await uow.outbox.add(
            Outgoing.text(
                vetter.telegram_id,
                text,
                keyboard=await _vet_buttons(uow, ctx, incident, vetter),
                protect_content=True,
                priority=Priority.ALERT,
                recipient_member_id=vetter.id,
                kind="vet_card",
                ref=f"vet:{incident.id}",
                incident_id=incident.id,
            ),
            at=now,
        )


async def _settle_cards(uow: UnitOfWork, ctx: ServiceContext, incident_id: int, note: str) -> None:
    """Replace every vetting card (and its photo) with a short note: details come out."""
    now = ctx.clock.now()
    await uow.outbox.cancel_pending(ref=f"vet:{incident_id}")
    for sent in await uow.outbox.sent_for_ref(f"vet:{incident_id}"):
        if sent.method == "sendPhoto":
            await uow.outbox.add(
                Outgoing.delete(sent.chat_id, sent.message_id, incident_id=incident_id), at=now
            )
        else:
            await uow.outbox.add(Outgoing.edit_text(sent.chat_id, sent.message_id, note), at=now)


async def _load_for_vetting(uow: UnitOfWork, *, actor: Member, payload: dict[str, Any]) -> Incident:
    if actor.role not in VETTING_ROLES:
        raise NotAllowed("only coordinators and admins vet alerts")
    incident = await uow.incidents.get(int(payload["incident"]))
    if incident is None:
        raise NotFound("incident")
    if incident.status is not IncidentStatus.PENDING or incident.version != payload.get("version"):
        raise StaleAction("this alert changed or was dealt with")
    return incident


@dataclass(frozen=True, slots=True)
class VetOutcome:
    incident: Incident
    what: str  # approved | rejected | reach | risk | orgs
    recipients: int = 0
    org_choices: tuple[Button, ...] = ()
    reason_choices: tuple[Button, ...] = ()


async def approve(
    uow: UnitOfWork, ctx: ServiceContext, *, actor: Member, payload: dict[str, Any]
) -> VetOutcome:
    incident = await _load_for_vetting(uow, actor=actor, payload=payload)
    if incident.raised_by == actor.id:
        raise NotAllowed("the person who raised an alert cannot approve it")
    recipients = await fanout.recipients(uow, ctx, incident)
    if not recipients:
        raise InvalidInput(
            "this alert would reach nobody: widen the reach or add an organisation first"
        )
    won = await uow.incidents.approve(
        incident.id,
        version=incident.version,
        content_hash=incident.content_hash,
        by_member_id=actor.id,
        at=ctx.clock.now(),
    )
    if not won:
        raise StaleAction("someone else acted on this alert first")
    approved = await uow.incidents.get(incident.id)
    if approved is None:
        raise NotFound("incident")
    await history.record(
        uow,
        ctx,
        action="incident.approved",
        subject_type="incident",
        subject_id=incident.id,
        actor=actor,
        incident_id=incident.id,
        details={
            "version": incident.version,
            "content_hash": incident.content_hash,
            "recipients": len(recipients),
        },
    )
    sent = await fanout.release(uow, ctx, approved, recipients)
    await _settle_cards(
        uow,
        ctx,
        incident.id,
        texts_alerts.vet_settled(approved, "approved and sent", actor.name, sent),
    )
    await _tell_raiser(uow, ctx, approved, texts_alerts.raiser_approved(approved, sent))
    return VetOutcome(approved, "approved", recipients=sent)


REJECT_REASONS = (
    ("duplicate", "Duplicate of another alert"),
    ("detail", "Not enough detail"),
    ("returned", "Youth already back"),
    ("other", "Other: I'll call the residence"),
)


async def reject_menu(
    uow: UnitOfWork, ctx: ServiceContext, *, actor: Member, payload: dict[str, Any]
) -> VetOutcome:
    incident = await _load_for_vetting(uow, actor=actor, payload=payload)
    buttons = tuple(
        [
            await actions.button(
                uow,
                ctx,
                label,
                action="alert.reject",
                payload={"incident": incident.id, "version": incident.version, "reason": key},
                audience_telegram_id=actor.telegram_id,
            )
            for key, label in REJECT_REASONS
        ]
    )
    return VetOutcome(incident, "reject_menu", reason_choices=buttons)


async def reject(
    uow: UnitOfWork, ctx: ServiceContext, *, actor: Member, payload: dict[str, Any]
) -> VetOutcome:
    incident = await _load_for_vetting(uow, actor=actor, payload=payload)
    reasons = dict(REJECT_REASONS)
    reason = reasons.get(str(payload.get("reason")), reasons["other"])
    won = await uow.incidents.reject(
        incident.id,
        version=incident.version,
        by_member_id=actor.id,
        reason=reason,
        at=ctx.clock.now(),
    )
    if not won:
        raise StaleAction("someone else acted on this alert first")
    await history.record(
        uow,
        ctx,
        action="incident.rejected",
        subject_type="incident",
        subject_id=incident.id,
        actor=actor,
        incident_id=incident.id,
        details={"reason": str(payload.get("reason"))},
    )
    await _settle_cards(
        uow,
        ctx,
        incident.id,
        texts_alerts.vet_settled(incident, f"rejected ({reason})", actor.name, 0),
    )
    await _tell_raiser(
        uow, ctx, incident, texts_alerts.raiser_rejected(incident, reason, actor.name)
    )
    return VetOutcome(incident, "rejected")


async def _revise_pending(
    uow: UnitOfWork,
    ctx: ServiceContext,
    incident: Incident,
    actor: Member,
    changes: dict[str, Any],
    action: str,
) -> Incident:
    current = {**fields_of(incident), **changes}
    won = await uow.incidents.revise(
        incident.id,
        expected_version=incident.version,
        fields=changes,
        content_hash=content_hash(hashable(current)),
        back_to_vetting=False,
    )
    if not won:
        raise StaleAction("this alert changed meanwhile")
    revised = await uow.incidents.get(incident.id)
    if revised is None:
        raise NotFound("incident")
    await history.record(
        uow,
        ctx,
        action=action,
        subject_type="incident",
        subject_id=incident.id,
        actor=actor,
        incident_id=incident.id,
        details={k: _plain(v) for k, v in changes.items()},
    )
    # Every vetter's card now describes an old version: replace them all.
    await _settle_cards(uow, ctx, incident.id, texts_alerts.vet_superseded(revised))
    await send_vetting_cards(uow, ctx, revised)
    return revised


def _plain(value: Any) -> Any:
    if isinstance(value, RiskLevel):
        return value.value
    if isinstance(value, tuple):
        return list(value)
    return value


def fields_of(incident: Incident) -> dict[str, Any]:
    return {
        "youth_id": incident.youth_id,
        "subject_name": incident.subject_name,
        "subject_age": incident.subject_age,
        "subject_description": incident.subject_description,
        "last_seen_at": incident.last_seen_at,
        "latitude": incident.latitude,
        "longitude": incident.longitude,
        "location_label": incident.location_label,
        "clothing": incident.clothing,
        "circumstances": incident.circumstances,
        "photo_file_id": incident.photo_file_id,
        "risk_level": incident.risk_level,
        "police_report_number": incident.police_report_number,
        "reach_radius_km": incident.reach_radius_km,
        "extra_org_ids": list(incident.extra_org_ids),
    }


async def change_reach(
    uow: UnitOfWork, ctx: ServiceContext, *, actor: Member, payload: dict[str, Any]
) -> VetOutcome:
    incident = await _load_for_vetting(uow, actor=actor, payload=payload)
    current = incident.reach_radius_km or REACH_CHOICES_KM[0]
    bigger = [r for r in REACH_CHOICES_KM if r > current]
    radius = bigger[0] if bigger else REACH_CHOICES_KM[0]
    revised = await _revise_pending(
        uow, ctx, incident, actor, {"reach_radius_km": radius}, "incident.reach_changed"
    )
    return VetOutcome(revised, "reach")


async def change_risk(
    uow: UnitOfWork, ctx: ServiceContext, *, actor: Member, payload: dict[str, Any]
) -> VetOutcome:
    incident = await _load_for_vetting(uow, actor=actor, payload=payload)
    index = RISK_ORDER.index(incident.risk_level)
    risk = RISK_ORDER[(index + 1) % len(RISK_ORDER)]
    revised = await _revise_pending(
        uow,
        ctx,
        incident,
        actor,
        {"risk_level": risk, "reach_radius_km": ctx.alerts.radius_km[risk]},
        "incident.risk_changed",
    )
    return VetOutcome(revised, "risk")


async def orgs_menu(
    uow: UnitOfWork, ctx: ServiceContext, *, actor: Member, payload: dict[str, Any]
) -> VetOutcome:
    incident = await _load_for_vetting(uow, actor=actor, payload=payload)
    buttons = []
    for org in await uow.organisations.list():
        if org.id in incident.extra_org_ids or org.id == incident.residence_org_id:
            continue
        buttons.append(
            await actions.button(
                uow,
                ctx,
                org.name[:40],
                action="alert.add_org",
                payload={"incident": incident.id, "version": incident.version, "org": org.id},
                audience_telegram_id=actor.telegram_id,
            )
        )
    return VetOutcome(incident, "orgs_menu", org_choices=tuple(buttons))


async def add_org(
    uow: UnitOfWork, ctx: ServiceContext, *, actor: Member, payload: dict[str, Any]
) -> VetOutcome:
    incident = await _load_for_vetting(uow, actor=actor, payload=payload)
    org = await uow.organisations.get(int(payload["org"]))
    if org is None:
        raise NotFound("organisation")
    orgs = [*incident.extra_org_ids, org.id]
    revised = await _revise_pending(
        uow, ctx, incident, actor, {"extra_org_ids": orgs}, "incident.org_added"
    )
    return VetOutcome(revised, "orgs")


async def _tell_raiser(uow: UnitOfWork, ctx: ServiceContext, incident: Incident, text: str) -> None:
    raiser = await uow.members.get(incident.raised_by)
    if raiser is None or not raiser.is_active:
        return
    await uow.outbox.add(
        Outgoing.text(
            raiser.telegram_id,
            text,
            priority=Priority.ALERT,
            recipient_member_id=raiser.id,
            kind="notice",
            incident_id=incident.id,
        ),
        at=ctx.clock.now(),
    )


def form_behaviours() -> list[FormBehaviour]:
    from bot.services import resolution

    return [RaiseAlert(), *resolution.form_behaviours()]
