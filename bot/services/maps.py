"""Map pins (venue and location messages) and the 48-hour window they live in.

Telegram draws a venue or location as a map, which is what people searching need; but
a map cannot be edited into a note, and a bot may delete its messages only for 48
hours. So a pin must never outlive the window in which /found could pull it back:
each batch of pins arms a stored timer that deletes them shortly before the window
closes (the card beside each pin keeps the coordinates as text). Deleted pins are
relabelled so that /found does not try to delete them a second time.
"""

from __future__ import annotations

from datetime import timedelta

from bot.domain.incidents import Incident
from bot.domain.outgoing import Outgoing, Priority
from bot.domain.updates import KIND_SIGHTING_MAP, KIND_UPDATE_MAP
from bot.services import history, timers
from bot.services.context import ServiceContext
from bot.services.ports import UnitOfWork
from bot.services.ports_alerts import Timer

KIND_ALERT_MAP = "alert_map"  # the last-seen point, right after an alert card
MAP_KINDS = (KIND_ALERT_MAP, KIND_UPDATE_MAP, KIND_SIGHTING_MAP)
KIND_REMOVED = "map_removed"  # a pin the expiry timer already deleted
MAPS_EXPIRE = "maps.expire"
# The timer fires this long before the delete window (itself clear of Telegram's 48 h)
# closes for pins queued when it was armed; it removes every pin sent at least
# ``delete_window - 2 * EARLY`` ago, so a pin sent a little after queueing is still covered.
EARLY = timedelta(minutes=15)


def alert_pin(incident: Incident, *, chat_id: int, member_id: int, title: str) -> Outgoing | None:
    """The alert's last-seen point as a venue (named) or a location, or None if it has none."""
    if incident.latitude is None or incident.longitude is None:
        return None
    # After every card of the batch (REPLY comes after ALERT): the card matters first.
    return Outgoing.pin(
        chat_id,
        incident.latitude,
        incident.longitude,
        title=title,
        label=incident.location_label,
        protect_content=True,
        priority=Priority.REPLY,
        recipient_member_id=member_id,
        kind=KIND_ALERT_MAP,
        ref=f"alert:{incident.id}",
        incident_id=incident.id,
    )


async def schedule_expiry(
    uow: UnitOfWork, ctx: ServiceContext, *, incident_id: int, tag: str
) -> None:
    """Arm the removal of the pins just queued for this incident (``tag`` names the batch)."""
    await timers.schedule(
        uow,
        ctx,
        kind=MAPS_EXPIRE,
        key=f"{MAPS_EXPIRE}:{incident_id}:{tag}",
        after=ctx.alerts.delete_window - EARLY,
        incident_id=incident_id,
    )


async def expire(uow: UnitOfWork, ctx: ServiceContext, timer: Timer) -> None:
    """Delete this incident's pins that are about to leave Telegram's delete window, and
    come back for any pin sent later (a slow send, an outage) or not sent yet."""
    if timer.incident_id is None:
        return
    incident = await history.incident_to_write(uow, timer.incident_id)
    if incident is None or not incident.is_open:
        return  # /found (or a rejection) already pulled everything back
    now = ctx.clock.now()
    cutoff = now - (ctx.alerts.delete_window - 2 * EARLY)
    sent = await uow.outbox.sent_for_incident(incident.id, kinds=MAP_KINDS)
    old = [pin for pin in sent if pin.sent_at is not None and pin.sent_at <= cutoff]
    for pin in old:
        await uow.outbox.add(
            Outgoing.delete(pin.chat_id, pin.message_id, incident_id=incident.id), at=now
        )
    if old:
        await uow.outbox.relabel([pin.outbox_id for pin in old], kind=KIND_REMOVED)
        await history.record(
            uow,
            ctx,
            action="maps.removed",
            subject_type="incident",
            subject_id=incident.id,
            incident_id=incident.id,
            details={"pins": len(old), "reason": "before Telegram's 48-hour delete window closes"},
        )
    younger = [pin.sent_at for pin in sent if pin.sent_at is not None and pin.sent_at > cutoff]
    if await uow.outbox.unsent_for_incident(incident.id, kinds=MAP_KINDS):
        again = now + EARLY  # still queued: look again soon
    elif younger:
        again = min(younger) + ctx.alerts.delete_window - EARLY
    else:
        return
    await timers.schedule(
        uow,
        ctx,
        kind=MAPS_EXPIRE,
        key=f"{MAPS_EXPIRE}:{incident.id}:at{int(again.timestamp())}",
        due_at=max(again, now + timedelta(seconds=1)),
        incident_id=incident.id,
    )


HANDLERS: dict[str, timers.Handler] = {MAPS_EXPIRE: expire}
