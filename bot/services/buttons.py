"""One entry point for every button press: resolve the token, re-authorise, act.

The outcome types tell the handler what to render. A press on a button whose
world has changed raises :class:`StaleAction`; a press by the wrong person
raises :class:`NotAllowed` (and is audited); nothing changes in either case.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from bot.domain.errors import NotAllowed, StaleAction
from bot.domain.membership import Role
from bot.domain.outgoing import Button
from bot.domain.tasks import AckKind
from bot.services import (
    access,
    actions,
    alerts,
    drills,
    fanout,
    followups,
    forms,
    history,
    incident_views,
    invites,
    members,
    profiles,
    registration,
    task_views,
    tasks,
    updates,
)
from bot.services.acknowledgements import AckOutcome, acknowledge
from bot.services.alerts import VetOutcome
from bot.services.context import ServiceContext
from bot.services.drills import DrillOutcome
from bot.services.followups import FollowupOutcome
from bot.services.forms import FormReply
from bot.services.incident_views import ViewOutcome
from bot.services.invites import CreatedInvite
from bot.services.members import Decision
from bot.services.ports import ActionRecord, UnitOfWork
from bot.services.profiles import ProfileView
from bot.services.registration import Prompt
from bot.services.tasks import TaskOutcome
from bot.services.updates import SightingOutcome


@dataclass(frozen=True, slots=True)
class InviteOrgChoice:
    role: Role
    choices: list[Button]


@dataclass(frozen=True, slots=True)
class SensitiveSent:
    youth_id: int


Outcome = (
    InviteOrgChoice
    | CreatedInvite
    | Decision
    | Prompt
    | FormReply
    | VetOutcome
    | ProfileView
    | SensitiveSent
    | TaskOutcome
    | AckOutcome
    | ViewOutcome
    | DrillOutcome
    | SightingOutcome
    | FollowupOutcome
)

VETTING: dict[str, Callable[..., Coroutine[Any, Any, VetOutcome]]] = {
    "alert.approve": alerts.approve,
    "alert.reject_menu": alerts.reject_menu,
    "alert.reject": alerts.reject,
    "alert.reach": alerts.change_reach,
    "alert.risk": alerts.change_risk,
    "alert.orgs_menu": alerts.orgs_menu,
    "alert.add_org": alerts.add_org,
}

TASKS: dict[str, Callable[..., Coroutine[Any, Any, TaskOutcome]]] = {
    "task.release": tasks.release,
    "task.done_menu": task_views.done_menu,
    "task.complete": tasks.complete,
    "task.reassign_menu": task_views.reassign_menu,
    "task.reassign": tasks.reassign,
    "task.cancel": tasks.cancel,
}


async def press(ctx: ServiceContext, *, telegram_id: int, token: str) -> Outcome:
    if await _is_profile_view(ctx, token):
        return await _view_profile(ctx, telegram_id=telegram_id, token=token)
    try:
        async with ctx.uow() as uow:
            record = await actions.resolve(uow, ctx, token=token, telegram_id=telegram_id)
            outcome = await _dispatch(uow, ctx, telegram_id, record)
            await uow.commit()
    except NotAllowed as denied:
        # Rolled back above; the denial itself is recorded in its own transaction.
        async with ctx.uow() as audit:
            await history.record(
                audit,
                ctx,
                action="action.denied",
                subject_type="button",
                subject_id=token[:8],
                actor_telegram_id=telegram_id,
                details={"reason": denied.detail[:200]},
            )
            await audit.commit()
        raise
    return outcome


async def _dispatch(
    uow: UnitOfWork, ctx: ServiceContext, telegram_id: int, record: ActionRecord
) -> Outcome:
    if record.action.startswith("reg."):
        return await registration.press(uow, ctx, telegram_id=telegram_id, record=record)
    actor = await access.require_active(uow, telegram_id=telegram_id)
    if record.action == "invite.role":
        role = Role(record.payload["role"])
        return InviteOrgChoice(role, await invites.org_choices(uow, ctx, actor=actor, role=role))
    if record.action == "invite.org":
        return await invites.create_in(
            uow,
            ctx,
            actor_telegram_id=telegram_id,
            role=Role(record.payload["role"]),
            org_id=int(record.payload["org_id"]),
        )
    if record.action in ("member.approve", "member.reject"):
        return await members.decide_registration(
            uow,
            ctx,
            actor=actor,
            member_id=int(record.payload["member_id"]),
            approve=record.action == "member.approve",
        )
    if record.action == "form.choice":
        return await forms.press(uow, ctx, telegram_id=telegram_id, payload=record.payload)
    if record.action in VETTING:
        return await VETTING[record.action](uow, ctx, actor=actor, payload=record.payload)
    if record.action == "alert.sensitive":
        youth_id = await fanout.sensitive_details(
            uow, ctx, actor=actor, incident_id=int(record.payload["incident"])
        )
        return SensitiveSent(youth_id)
    if record.action == "task.claim":
        return await tasks.claim(uow, ctx, actor=actor, task_id=int(record.payload["task"]))
    if record.action == "task.templates":
        return await tasks.add_from_templates(
            uow, ctx, actor=actor, incident_id=int(record.payload["incident"])
        )
    if record.action in TASKS:
        return await TASKS[record.action](uow, ctx, actor=actor, payload=record.payload)
    if record.action == updates.CONFIRM_ACTION:
        return await updates.confirm_sighting(uow, ctx, actor=actor, payload=record.payload)
    if record.action in followups.BUTTONS:
        return await followups.BUTTONS[record.action](uow, ctx, actor=actor, payload=record.payload)
    if record.action == "alert.ack":
        return await acknowledge(
            uow,
            ctx,
            actor=actor,
            incident_id=int(record.payload["incident"]),
            kind=AckKind(record.payload["kind"]),
        )
    if record.action == incident_views.VIEW_ACTION:
        return await incident_views.open_from_list(
            uow, ctx, actor=actor, incident_id=int(record.payload["incident"])
        )
    if record.action.startswith("drill."):
        return await drills.press(uow, ctx, actor=actor, record=record)
    raise StaleAction(f"unknown action {record.action!r}")


async def _is_profile_view(ctx: ServiceContext, token: str) -> bool:
    async with ctx.uow() as uow:
        record = await uow.actions.get(token)
    return record is not None and record.action == "youth.view"


async def _view_profile(ctx: ServiceContext, *, telegram_id: int, token: str) -> ProfileView:
    # Opening a profile records the view in its own transaction (profiles.view).
    async with ctx.uow() as uow:
        record = await actions.resolve(uow, ctx, token=token, telegram_id=telegram_id)
    return await profiles.view(ctx, telegram_id=telegram_id, youth_id=int(record.payload["youth"]))
