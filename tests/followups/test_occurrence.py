"""The serious-occurrence report (due within 24 hours, Ontario): once an alert is
approved, the residence's staff are reminded at 12 and 23 hours with a "Report filed"
button; the first press records it and stops the rest; later presses are answered
politely. If nobody marks it filed, the coordinator is told once at 24 hours, also
when the youth was found in the meantime."""

from __future__ import annotations

from datetime import timedelta

from tests.e2e.conftest import World, button_data
from tests.followups.helpers import (
    approve,
    assert_via_outbox,
    at,
    count,
    events,
    found,
    incident,
    raise_alert,
    received,
    restart_at,
    staffed,
    tick,
)

DUE = "Serious-occurrence report due"
OVERDUE = "Serious-occurrence report overdue"
SECOND = timedelta(seconds=1)
HOUR = timedelta(hours=1)


async def test_reminders_stop_once_the_report_is_marked_filed(world: World) -> None:
    c = await staffed(world)
    code = await raise_alert(world, c.sam, report="2026-1")
    t0 = world.clock.now()
    await at(world, t0 + 12 * HOUR)
    assert count(world, c.sam, DUE) == 0  # not before a coordinator confirms it
    await approve(world, c.cora, code)
    await tick(world)  # approved late: the 12-hour reminder was already due
    assert count(world, c.sam, DUE) == 1

    await at(world, t0 + 23 * HOUR - SECOND)
    assert count(world, c.sam, DUE) == 1
    await restart_at(world, t0 + 23 * HOUR + 30 * 60 * SECOND)  # down across 23 h
    assert count(world, c.sam, DUE) == 2
    await tick(world)
    assert count(world, c.sam, DUE) == 2
    for other in (c.cora, c.rita, c.pat, c.admin):
        assert count(world, other, DUE) == 0, other.name
    first, second = received(world, c.sam, DUE)
    assert "(Jay)" in (second.text or "")
    assert "Sat 07 Mar, 10:00" in (second.text or "")
    assert await assert_via_outbox(world, [c.sam], DUE) == 2

    stale = button_data(first, "Report filed")
    _, answer = await world.press(c.sam, second, "Report filed")
    assert "is marked filed" in answer.get("text", "")
    for message in received(world, c.sam, "Serious-occurrence report"):
        assert "marked filed by Sam Staff" in (message.text or "")
        assert not (message.reply_markup or {}).get("inline_keyboard")
    _, again = await world.press_data(c.sam, first, stale)
    assert "Already marked filed by Sam Staff" in again.get("text", "")
    assert [a for a, _ in await events(world, code, "incident.occurrence_reported")] == [
        "incident.occurrence_reported"
    ]
    assert (await incident(world, code)).occurrence_reported_at == t0 + 23 * HOUR + 1800 * SECOND

    await at(world, t0 + 30 * HOUR)
    assert count(world, c.cora, OVERDUE) == 0


async def test_a_missed_deadline_tells_the_coordinator_once_even_after_found(world: World) -> None:
    c = await staffed(world)
    code = await raise_alert(world, c.sam, report="2026-1")
    t0 = world.clock.now()
    await approve(world, c.cora, code)
    await at(world, t0 + HOUR)
    await found(world, c.sam)  # the report is owed for the episode all the same

    await at(world, t0 + 24 * HOUR - SECOND)
    assert count(world, c.sam, DUE) == 2
    assert count(world, c.cora, OVERDUE) == 0
    await at(world, t0 + 24 * HOUR)
    [overdue] = received(world, c.cora, OVERDUE)
    assert code in (overdue.text or "")
    assert "Jay" not in (overdue.text or "")
    for other in (c.sam, c.admin, c.rita):
        assert count(world, other, OVERDUE) == 0, other.name
    await at(world, t0 + 72 * HOUR)
    assert count(world, c.cora, OVERDUE) == 1

    # Filing late still counts, and is recorded once.
    _, answer = await world.press(c.sam, received(world, c.sam, DUE)[-1], "Report filed")
    assert "is marked filed" in answer.get("text", "")
    assert len(await events(world, code, "incident.occurrence_reported")) == 1
