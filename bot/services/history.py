"""Timeline use cases: append (called by every other use case) and verify.

Events about a drill incident carry ``{"drill": true}`` in their details.
"""

from __future__ import annotations

from typing import Any

from bot.domain.incidents import Incident
from bot.domain.membership import Member
from bot.domain.timeline import ChainProblem, Event, RecordedEvent, verify_chain
from bot.services.context import ServiceContext
from bot.services.ports import UnitOfWork


async def incident_to_write(uow: UnitOfWork, incident_id: int) -> Incident | None:
    """The incident, read under the timeline's lock (see ``TimelineRepo.serialize``): for a
    use case that queues messages about it, so /found either sees those messages or has
    already closed it."""
    await uow.timeline.serialize()
    return await uow.incidents.get(incident_id)


async def record(
    uow: UnitOfWork,
    ctx: ServiceContext,
    *,
    action: str,
    subject_type: str,
    subject_id: object,
    actor: Member | None = None,
    actor_telegram_id: int | None = None,
    incident_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> RecordedEvent:
    details = dict(details or {})
    if incident_id is not None and await uow.incidents.is_drill(incident_id):
        # Marked at the source, so any later count or report can leave drills out.
        details["drill"] = True
    event = Event(
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        actor_member_id=actor.id if actor else None,
        actor_telegram_id=actor.telegram_id if actor else actor_telegram_id,
        incident_id=incident_id,
        details=details,
    )
    return await uow.timeline.append(event, at=ctx.clock.now())


async def verify(ctx: ServiceContext) -> tuple[int, list[ChainProblem]]:
    """Check the whole chain; returns (events checked, problems)."""
    async with ctx.uow() as uow:
        events = [e async for e in uow.timeline.iterate()]
    return len(events), verify_chain(events)


async def for_subject(
    ctx: ServiceContext, *, subject_type: str, subject_id: object
) -> list[RecordedEvent]:
    async with ctx.uow() as uow:
        return await uow.timeline.list_for_subject(subject_type, str(subject_id))
