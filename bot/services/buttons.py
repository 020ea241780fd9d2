"""One entry point for every button press: resolve the token, re-authorise, act.

The outcome types tell the handler what to render. A press on a button whose
world has changed raises :class:`StaleAction`; a press by the wrong person
raises :class:`NotAllowed` (and is audited); nothing changes in either case.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.errors import NotAllowed, StaleAction
from bot.domain.membership import Role
from bot.domain.outgoing import Button
from bot.services import access, actions, history, invites, members, registration
from bot.services.context import ServiceContext
from bot.services.invites import CreatedInvite
from bot.services.members import Decision
from bot.services.ports import ActionRecord, UnitOfWork
from bot.services.registration import Prompt


@dataclass(frozen=True, slots=True)
class InviteOrgChoice:
    role: Role
    choices: list[Button]


Outcome = InviteOrgChoice | CreatedInvite | Decision | Prompt


async def press(ctx: ServiceContext, *, telegram_id: int, token: str) -> Outcome:
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
    raise StaleAction(f"unknown action {record.action!r}")
