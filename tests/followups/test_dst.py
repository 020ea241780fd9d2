"""Every follow-up timer counts real hours across the spring-forward night in
America/Toronto (2026-03-08, 02:00 EST -> 03:00 EDT): each fires at its deadline on the
fake clock, not a second before, and the local times people are shown are right."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.e2e.conftest import World
from tests.followups.helpers import approve, at, count, found, raise_alert, received, staffed

TORONTO = ZoneInfo("America/Toronto")
SECOND = timedelta(seconds=1)
HOUR = timedelta(hours=1)


def local(moment: datetime) -> str:
    return moment.astimezone(TORONTO).strftime("%a %H:%M %Z")


async def test_followups_fire_on_real_hours_across_spring_forward(world: World) -> None:
    world.clock.set(datetime(2026, 3, 8, 5, 30, tzinfo=UTC))
    t0 = world.clock.now()
    assert local(t0) == "Sun 00:30 EST"
    c = await staffed(world)
    # One alert is found at once (its return interview starts now) ...
    earlier = await raise_alert(world, c.sam, report="2026-1")
    await found(world, c.sam)
    # ... and another, low risk, police not told, is approved.
    code = await raise_alert(world, c.sam, risk="low")
    await approve(world, c.cora, code)
    assert world.clock.now() == t0

    deadlines = [
        ("police", c.sam, "Police not told yet", t0 + 4 * HOUR, "Sun 05:30 EDT"),
        ("status check", c.cora, "Status check for", t0 + 6 * HOUR, "Sun 07:30 EDT"),
        ("occurrence", c.sam, "Serious-occurrence report due", t0 + 12 * HOUR, "Sun 13:30 EDT"),
        ("return interview", c.sam, "Reminder: Return interview", t0 + 24 * HOUR, "Mon 01:30 EDT"),
    ]
    for name, person, fragment, due, shown in deadlines:
        assert local(due) == shown, name  # n real hours: n + 1 on the wall clock
        await at(world, due - SECOND)
        assert count(world, person, fragment) == 0, name
        await at(world, due)
        assert count(world, person, fragment) == 1, name

    occurrence = received(world, c.sam, "Serious-occurrence report due")[0]
    assert "due by Mon 09 Mar, 01:30" in (occurrence.text or "")  # 24 real hours
    [interview] = received(world, c.sam, "Reminder: Return interview")
    assert earlier in (interview.text or "")
    assert "Wed 11 Mar, 01:30" in (interview.text or "")
