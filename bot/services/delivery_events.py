"""What happens when Telegram refuses, rejects or may have duplicated a delivery.

The sender (the only code that talks to Telegram) calls these with plain facts about
an outbox row; they record the outcome on the timeline, flag unreachable members and
tell the people who need to know. Nothing here repeats a message's content.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from bot import texts_delivery
from bot.domain.membership import Member, MemberStatus, Role
from bot.domain.outgoing import Outgoing, Priority
from bot.services import history
from bot.services.context import ServiceContext

NOTICE_KIND = "delivery_alarm"  # notices about delivery: never alarmed about themselves


@dataclass(frozen=True, slots=True)
class Unreachable:
    """A 403: the recipient blocked the bot, deleted their account, or never started it."""

    outbox_id: int
    chat_id: int
    member_id: int | None
    incident_id: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """A 400 that retrying cannot fix (chat not found, can't parse entities, too long)."""

    outbox_id: int
    chat_id: int
    kind: str
    reason: str
    incident_id: int | None = None


def is_alarm(kind: str) -> bool:
    """Notices about delivery problems: failures of these raise no further alarms."""
    return kind == NOTICE_KIND


async def recipient_unreachable(ctx: ServiceContext, failure: Unreachable) -> None:
    """Flag the member unreachable and audit the refusal."""
    async with ctx.uow() as uow:
        if failure.member_id is not None:
            await uow.members.mark_unreachable(failure.member_id, at=ctx.clock.now())
        await history.record(
            uow,
            ctx,
            action="delivery.unreachable",
            subject_type="outbox",
            subject_id=failure.outbox_id,
            incident_id=failure.incident_id,
            details={
                "outbox_id": failure.outbox_id,
                "chat_id": failure.chat_id,
                "member_id": failure.member_id,
                "reason": failure.reason,
            },
        )
        await uow.commit()


async def delivery_uncertain(
    ctx: ServiceContext,
    *,
    outbox_id: int,
    chat_id: int,
    incident_id: int | None,
    gave_up: bool = False,
) -> None:
    """Telegram may have delivered a message whose answer never came: audit it."""
    async with ctx.uow() as uow:
        await history.record(
            uow,
            ctx,
            action="delivery.uncertain",
            subject_type="outbox",
            subject_id=outbox_id,
            incident_id=incident_id,
            details={"outbox_id": outbox_id, "chat_id": chat_id, "resend": not gave_up},
        )
        await uow.commit()


async def message_rejected(ctx: ServiceContext, failure: Rejected) -> None:
    async with ctx.uow() as uow:
        await history.record(
            uow,
            ctx,
            action="delivery.rejected",
            subject_type="outbox",
            subject_id=failure.outbox_id,
            incident_id=failure.incident_id,
            details={
                "outbox_id": failure.outbox_id,
                "chat_id": failure.chat_id,
                "kind": failure.kind,
                "reason": failure.reason,
            },
        )
        await uow.commit()


def _notice(member: Member, text: str, incident_id: int | None = None) -> Outgoing:
    message = Outgoing.text(
        member.telegram_id,
        text,
        priority=Priority.NOTICE,
        recipient_member_id=member.id,
        kind=NOTICE_KIND,
    )
    return replace(message, incident_id=incident_id)


async def report_unreachable(ctx: ServiceContext, failures: Sequence[Unreachable]) -> int:
    """Tell coordinators, in ONE notice each, who could not be reached.

    A failure of an incident's message goes to the coordinator who approved that
    incident (when they are still active); anything else goes to every active
    coordinator and admin. Returns how many notices were queued.
    """
    if not failures:
        return 0
    async with ctx.uow() as uow:
        fallback: list[Member] | None = None
        per_target: dict[int, tuple[Member, list[Unreachable]]] = {}
        for failure in failures:
            targets: list[Member] = []
            if failure.incident_id is not None:
                approver = await uow.members.incident_approver(failure.incident_id)
                if approver is not None and approver.status is MemberStatus.ACTIVE:
                    targets = [approver]
            if not targets:
                if fallback is None:
                    fallback = await uow.members.list(
                        statuses=[MemberStatus.ACTIVE], roles=[Role.COORDINATOR, Role.ADMIN]
                    )
                targets = fallback
            for target in targets:
                per_target.setdefault(target.id, (target, []))[1].append(failure)
        queued = 0
        for target, items in per_target.values():
            names: list[str] = []
            others = 0
            seen: set[int] = set()
            for item in items:
                key = item.member_id if item.member_id is not None else -item.chat_id
                if key in seen:
                    continue
                seen.add(key)
                member = await uow.members.get(item.member_id) if item.member_id else None
                if member is None:
                    others += 1
                else:
                    names.append(member.name or f"member #{member.id}")
            incidents = {i.incident_id for i in items}
            incident_id = next(iter(incidents)) if len(incidents) == 1 else None
            text = texts_delivery.unreachable_notice(
                names, others, for_alert=incident_id is not None
            )
            await uow.outbox.add(_notice(target, text, incident_id), at=ctx.clock.now())
            queued += 1
        await uow.commit()
    return queued


async def report_rejected(ctx: ServiceContext, failures: Sequence[Rejected]) -> int:
    """Alarm every active admin, in ONE notice each: how many, which kinds, why."""
    if not failures:
        return 0
    groups: Counter[tuple[str, str]] = Counter((f.kind, f.reason) for f in failures)
    kinds = [(kind, reason, n) for (kind, reason), n in sorted(groups.items())]
    text = texts_delivery.rejected_notice(len(failures), kinds)
    async with ctx.uow() as uow:
        admins = await uow.members.list(statuses=[MemberStatus.ACTIVE], roles=[Role.ADMIN])
        for admin in admins:
            await uow.outbox.add(_notice(admin, text), at=ctx.clock.now())
        await uow.commit()
    return len(admins)
