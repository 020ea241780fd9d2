"""Raising an alert (/missing): a guided form; nothing exists until it is submitted.

Vetting lives in :mod:`bot.services.vetting` (re-exported here for callers that
think of "alerts" as one thing).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.domain.errors import NotAllowed, NotFound
from bot.domain.forms import FormSpec, Parsed, Step, StepKind
from bot.domain.geo import validate_optional_point
from bot.domain.incidents import (
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
from bot.domain.membership import Member, OrgKind, Role
from bot.services import access, history, profiles, timers
from bot.services.context import ServiceContext
from bot.services.forms import FormBehaviour
from bot.services.ports import UnitOfWork
from bot.services.vetting import (
    REJECT_REASONS,
    VetOutcome,
    add_org,
    approve,
    change_reach,
    change_risk,
    orgs_menu,
    reject,
    reject_menu,
    send_vetting_cards,
    vetters_for,
)

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
    validate_optional_point(location.get("latitude"), location.get("longitude"))
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
        content_hash=content_hash(fields),
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
    await timers.schedule_vetting_escalations(uow, ctx, incident.id)
    if not incident.police_report_number:
        await timers.schedule_police_reminders(uow, ctx, incident)
    return incident


__all__ = [
    "REJECT_REASONS",
    "VetOutcome",
    "add_org",
    "approve",
    "change_reach",
    "change_risk",
    "orgs_menu",
    "reject",
    "reject_menu",
    "send_vetting_cards",
    "start_raise",
    "submit",
    "vetters_for",
]


def form_behaviours() -> list[FormBehaviour]:
    from bot.services import resolution

    return [RaiseAlert(), *resolution.form_behaviours()]
