"""The return interview: /found creates a task due in 72 hours, offered only to the
residence's staff and the coordinator (the search is over, so not the whole reach),
which /found's own retraction leaves alone. Reminders at 24 and 48 hours go to its
holder, or to everyone it was offered to while nobody holds it; at 72 hours the
coordinator is told it is overdue; all of it stops when the task is done."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.tasks import RETURN_INTERVIEW, TaskStatus
from tests.e2e.conftest import World
from tests.followups.helpers import (
    approve,
    assert_via_outbox,
    at,
    count,
    found,
    incident,
    raise_alert,
    received,
    restart_at,
    staffed,
    tick,
)
from tests.tasks.helpers import add_templates

OFFER = "Return interview with Jay"
REMINDER = "Reminder: Return interview"
OVERDUE = "Overdue: Return interview"
SECOND = timedelta(seconds=1)
HOUR = timedelta(hours=1)


async def test_found_starts_a_return_interview_its_holder_is_reminded_of(world: World) -> None:
    c = await staffed(world)
    code = await raise_alert(world, c.sam, report="2026-1")
    await approve(world, c.cora, code)
    await add_templates(world, c.cora)  # search tasks: everyone in reach got them
    assert count(world, c.rita, "Call the youth's phone") == 1

    await found(world, c.sam)
    t1 = world.clock.now()
    assert count(world, c.rita, "Call the youth's phone") == 0  # search tasks pulled back
    [offer] = received(world, c.sam, OFFER)  # ... the return interview is not
    assert count(world, c.cora, OFFER) == 1
    for outsider in (c.rita, c.pat, c.admin, c.fay):
        assert count(world, outsider, OFFER) == 0, outsider.name
    assert "Due by: Mon 09 Mar, 11:00" in (offer.text or "")  # 72 h after 10:00 EST: EDT by then
    assert offer.protect_content
    inc = await incident(world, code)
    async with world.hw.ctx.uow() as uow:
        [task] = [
            t for t in await uow.tasks.list_for_incident(inc.id) if t.template == RETURN_INTERVIEW
        ]
    assert task.due_at == t1 + 72 * HOUR

    # It is listed and claimable on the resolved alert.
    [listing] = await world.say(c.sam, "/tasks")
    assert OFFER in (listing.text or "")
    assert "Call the youth" not in (listing.text or "")
    _, answer = await world.press(c.sam, offer, "I'll take it")
    assert "It's yours" in answer.get("text", "")

    await at(world, t1 + 24 * HOUR - SECOND)
    assert count(world, c.sam, REMINDER) == 0
    await at(world, t1 + 24 * HOUR)
    assert count(world, c.sam, REMINDER) == 1
    assert count(world, c.cora, REMINDER) == 0  # held: only the holder is reminded
    await restart_at(world, t1 + 49 * HOUR)  # down across 48 h
    assert count(world, c.sam, REMINDER) == 2
    await tick(world)
    assert count(world, c.sam, REMINDER) == 2
    assert await assert_via_outbox(world, [c.sam], REMINDER) == 2

    [mine] = await world.say(c.sam, "/mytasks")
    [menu], _ = await world.press(c.sam, mine, "Done")
    _, answer = await world.press(c.sam, menu, "Got information")
    assert "Marked done" in answer.get("text", "")
    await at(world, t1 + 100 * HOUR)
    assert count(world, c.cora, OVERDUE) == 0
    assert count(world, c.sam, REMINDER) == 2


async def test_an_unclaimed_return_interview_reminds_everyone_then_is_overdue(
    world: World,
) -> None:
    c = await staffed(world)
    code = await raise_alert(world, c.sam, report="2026-1")  # never approved
    await found(world, c.sam)
    t1 = world.clock.now()
    assert count(world, c.sam, OFFER) == 1
    assert count(world, c.cora, OFFER) == 1

    await at(world, t1 + 24 * HOUR)
    for person in (c.sam, c.cora):
        [reminder] = received(world, person, REMINDER)
        assert "Nobody has taken it yet" in (reminder.text or "")
    await at(world, t1 + 72 * HOUR - SECOND)
    assert count(world, c.cora, OVERDUE) == 0
    assert count(world, c.sam, REMINDER) == 2
    await at(world, t1 + 72 * HOUR)
    [overdue] = received(world, c.cora, OVERDUE)
    assert code in (overdue.text or "")
    assert "Nobody has taken it" in (overdue.text or "")
    assert count(world, c.sam, OVERDUE) == 0
    await tick(world)
    assert count(world, c.cora, OVERDUE) == 1

    # The coordinator cancels it from /tasks; it stays cancelled and quiet.
    [listing] = await world.say(c.cora, "/tasks")
    task_id = (listing.text or "").split("#")[1].split(" ")[0]
    _, answer = await world.press(c.cora, listing, f"Cancel #{task_id}")
    assert "cancelled" in answer.get("text", "").lower()
    inc = await incident(world, code)
    async with world.hw.ctx.uow() as uow:
        [task] = await uow.tasks.list_for_incident(inc.id)
    assert task.status is TaskStatus.CANCELLED
