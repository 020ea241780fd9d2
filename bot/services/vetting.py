"""Vetting an alert: the two-person rule, reach and risk changes, first vetter wins.

Coordinators whose area covers the last-seen point (all coordinators and admins if
none does) get a card. The person who raised an alert can never approve it. An
approval holds only for the exact version and content it approved. Every change
on a pending alert replaces every vetter's card, so nobody approves a stale one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot import texts_alerts
from bot.domain.errors import InvalidInput, NotAllowed, NotFound, StaleAction
from bot.domain.geo import Point
from bot.domain.incidents import (
    RISK_ORDER,
    Incident,
    IncidentStatus,
    RiskLevel,
    Youth,
    content_hash,
    sent_fields,
)
from bot.domain.membership import VETTING_ROLES, Member, MemberStatus, Role
from bot.domain.outgoing import Button, Outgoing, Priority
from bot.domain.reach import REACH_CHOICES_KM, covers
from bot.services import actions, drill_cleanup, fanout, history, outbox, timers
from bot.services.context import ServiceContext
from bot.services.ports import UnitOfWork


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


async def send_vetting_cards(
    uow: UnitOfWork,
    ctx: ServiceContext,
    incident: Incident,
    *,
    to: Sequence[Member] | None = None,
) -> None:
    card = await _card(uow, ctx, incident)
    text = texts_alerts.vet_card(card.incident, card.youth, card.reach, card.raiser_name, ctx.zone)
    now = ctx.clock.now()
    for vetter in to if to is not None else await vetters_for(uow, incident):
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
    await outbox.settle(uow, ctx, ref=f"vet:{incident_id}", note=note, incident_id=incident_id)


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
    await timers.cancel_vetting_escalations(uow, ctx, incident.id)
    approved = await uow.incidents.get(incident.id)
    if approved is None:
        raise NotFound("incident")
    # Status checks run a full interval (for the risk just approved) from each approval.
    await timers.restart_status_checks(uow, ctx, approved)
    if incident.approved_version is None:
        # The serious-occurrence report is armed at the first approval, not at raising:
        # a coordinator has then confirmed the youth is missing, so duplicates and false
        # alarms rejected at vetting never nag the residence. Its deadline still counts
        # from the raising (the residence knew from then); a re-approval after an edit
        # arms nothing again.
        await timers.schedule_occurrence_reminders(uow, ctx, approved)
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
    await timers.cancel_vetting_escalations(uow, ctx, incident.id)
    await timers.cancel_search_followups(uow, ctx, incident.id)
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
    if incident.approved_version is not None:
        await _withdraw(uow, ctx, incident.id, actor)
    await drill_cleanup.wind_down(uow, ctx, incident, actor=actor, how="rejected")
    return VetOutcome(incident, "rejected")


# The vetting cards are settled into a note above; everything else is pulled back.
_VETTING_KINDS = frozenset({"vet_card", "vet_photo", "vet_reminder"})


async def _withdraw(uow: UnitOfWork, ctx: ServiceContext, incident_id: int, actor: Member) -> None:
    """A rejected alert that had been sent before (an edit or a status check put it back
    to vetting) is pulled back from everyone it reached, as /found would."""
    from bot.services import resolution  # resolution -> vetting

    withdrawn = await uow.incidents.get(incident_id)
    if withdrawn is None:
        raise NotFound("incident")
    kinds = tuple(k for k in fanout.ALERT_KINDS if k not in _VETTING_KINDS)
    result = await resolution.retract(uow, ctx, withdrawn, ctx.clock.now(), kinds=kinds)
    await history.record(
        uow,
        ctx,
        action="incident.retracted",
        subject_type="incident",
        subject_id=incident_id,
        actor=actor,
        incident_id=incident_id,
        details={
            "deleted": result.deleted,
            "edited": result.edited,
            "cancelled": result.cancelled,
            "notified": result.notified,
            "why": "rejected after it had been sent",
        },
    )


async def revise(
    uow: UnitOfWork,
    ctx: ServiceContext,
    incident: Incident,
    actor: Member,
    changes: dict[str, Any],
    *,
    action: str,
    back_to_vetting: bool,
    details: dict[str, Any] | None = None,
) -> Incident:
    """Apply a change as a new version, record it, and put fresh cards before the vetters.

    Every card already sent describes an older version: each is replaced with a note,
    so nobody can approve what is no longer true.
    """
    won = await uow.incidents.revise(
        incident.id,
        expected_version=incident.version,
        fields=changes,
        content_hash=content_hash({**sent_fields(incident), **changes}),
        back_to_vetting=back_to_vetting,
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
        details=details if details is not None else {k: _plain(v) for k, v in changes.items()},
    )
    await _settle_cards(uow, ctx, incident.id, texts_alerts.vet_superseded(revised))
    await send_vetting_cards(uow, ctx, revised)
    return revised


def _plain(value: Any) -> Any:
    if isinstance(value, RiskLevel):
        return value.value
    if isinstance(value, tuple):
        return list(value)
    return value


async def change_reach(
    uow: UnitOfWork, ctx: ServiceContext, *, actor: Member, payload: dict[str, Any]
) -> VetOutcome:
    incident = await _load_for_vetting(uow, actor=actor, payload=payload)
    current = incident.reach_radius_km or REACH_CHOICES_KM[0]
    bigger = [r for r in REACH_CHOICES_KM if r > current]
    radius = bigger[0] if bigger else REACH_CHOICES_KM[0]
    revised = await revise(
        uow,
        ctx,
        incident,
        actor,
        {"reach_radius_km": radius},
        action="incident.reach_changed",
        back_to_vetting=False,
    )
    return VetOutcome(revised, "reach")


async def change_risk(
    uow: UnitOfWork, ctx: ServiceContext, *, actor: Member, payload: dict[str, Any]
) -> VetOutcome:
    incident = await _load_for_vetting(uow, actor=actor, payload=payload)
    index = RISK_ORDER.index(incident.risk_level)
    risk = RISK_ORDER[(index + 1) % len(RISK_ORDER)]
    revised = await revise(
        uow,
        ctx,
        incident,
        actor,
        {"risk_level": risk, "reach_radius_km": ctx.alerts.radius_km[risk]},
        action="incident.risk_changed",
        back_to_vetting=False,
    )
    await timers.follow_police_deadline(uow, ctx, revised)
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
    revised = await revise(
        uow,
        ctx,
        incident,
        actor,
        {"extra_org_ids": orgs},
        action="incident.org_added",
        back_to_vetting=False,
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
