"""T11 end to end: an alert nobody vets escalates to every coordinator at 5 minutes and
to every admin at 10, once each; the timers are stored, so a restart mid-wait catches
up; an approved alert escalates nothing; five minutes are five real minutes across
the spring-forward night in America/Toronto."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.services import history
from tests.e2e.conftest import Person, World
from tests.e2e.test_alert_journey import Cast, add_profile, cast, raise_alert

FIVE = timedelta(minutes=5)
TEN = timedelta(minutes=10)


def escalations(world: World, person: Person, code: str) -> int:
    return sum(
        1
        for m in world.emu.bot_messages(person.user_id)
        if "waited" in (m.text or "") and code in (m.text or "")
    )


def vet_cards(world: World, person: Person, code: str) -> int:
    return sum(
        1
        for m in world.emu.bot_messages(person.user_id)
        if "VETTING NEEDED" in (m.text or "") and code in (m.text or "")
    )


async def tick(world: World) -> int:
    fired = await world.hw.scheduler.tick()
    await world.settle()
    return fired


async def at(world: World, moment: datetime) -> None:
    world.clock.set(moment)
    await tick(world)


async def escalated_events(world: World, code: str) -> list[tuple[datetime, int]]:
    async with world.hw.ctx.uow() as uow:
        incident = await uow.incidents.get_by_code(code)
    assert incident is not None
    events = await history.for_subject(
        world.hw.ctx, subject_type="incident", subject_id=incident.id
    )
    return [
        (e.at, e.event.details["level"]) for e in events if e.event.action == "incident.escalated"
    ]


def counts(world: World, c: Cast, code: str) -> tuple[int, int, int]:
    return (
        escalations(world, c.cora, code),
        escalations(world, c.admin, code),
        escalations(world, c.sam, code),
    )


async def raised(world: World) -> tuple[Cast, str, datetime]:
    c = await cast(world)
    await add_profile(world, c.sam, canaries=False)
    code = await raise_alert(world, c.sam)
    return c, code, world.clock.now()


async def test_unvetted_alert_escalates_to_coordinators_then_admins_once_each(
    world: World,
) -> None:
    c, code, t0 = await raised(world)
    assert vet_cards(world, c.cora, code) == 1
    assert vet_cards(world, c.admin, code) == 0  # the local coordinator was enough at first

    await at(world, t0 + FIVE - timedelta(seconds=1))
    assert counts(world, c, code) == (0, 0, 0)

    await at(world, t0 + FIVE)
    assert counts(world, c, code) == (1, 0, 0)
    assert vet_cards(world, c.cora, code) == 2  # a fresh card with the reminder

    await at(world, t0 + TEN - timedelta(seconds=1))
    assert counts(world, c, code) == (1, 0, 0)
    await at(world, t0 + TEN)
    assert counts(world, c, code) == (1, 1, 0)
    assert vet_cards(world, c.admin, code) == 1

    await at(world, t0 + timedelta(hours=2))
    assert counts(world, c, code) == (1, 1, 0)
    assert await escalated_events(world, code) == [(t0 + FIVE, 1), (t0 + TEN, 2)]

    # The admin's escalated card works: approving it settles every card.
    card = next(
        m for m in world.emu.bot_messages(c.admin.user_id) if "VETTING NEEDED" in (m.text or "")
    )
    _, answer = await world.press(c.admin, card, "Approve and send")
    assert "approved" in answer.get("text", "")


async def test_timers_survive_a_restart_and_catch_up_once(world: World) -> None:
    c, code, t0 = await raised(world)
    await at(world, t0 + timedelta(minutes=2))
    await world.restart()
    world.clock.set(t0 + TEN + timedelta(seconds=30))
    await tick(world)
    assert counts(world, c, code) == (1, 1, 0)
    await tick(world)
    await world.restart()
    await at(world, t0 + timedelta(hours=1))
    assert counts(world, c, code) == (1, 1, 0)
    assert [level for _, level in await escalated_events(world, code)] == [1, 2]


async def test_an_approved_alert_escalates_nothing(world: World) -> None:
    c, code, t0 = await raised(world)
    await at(world, t0 + timedelta(minutes=1))
    card = next(
        m for m in world.emu.bot_messages(c.cora.user_id) if "VETTING NEEDED" in (m.text or "")
    )
    _, answer = await world.press(c.cora, card, "Approve and send")
    assert "approved" in answer.get("text", "")
    await at(world, t0 + timedelta(minutes=30))
    assert counts(world, c, code) == (0, 0, 0)
    assert await escalated_events(world, code) == []


async def test_five_minutes_are_five_real_minutes_across_spring_forward(world: World) -> None:
    toronto = ZoneInfo("America/Toronto")
    world.clock.set(datetime(2026, 3, 8, 6, 58, tzinfo=UTC))  # 01:58 EST
    c, code, t0 = await raised(world)
    assert t0.astimezone(toronto).strftime("%H:%M %Z") == "01:58 EST"

    await at(world, t0 + FIVE - timedelta(seconds=1))
    assert counts(world, c, code) == (0, 0, 0)
    await at(world, t0 + FIVE)
    assert counts(world, c, code) == (1, 0, 0)
    [(fired_at, level)] = await escalated_events(world, code)
    assert level == 1
    assert fired_at - t0 == FIVE  # five real minutes ...
    assert fired_at.astimezone(toronto).strftime("%H:%M %Z") == "03:03 EDT"  # ... 01:58 -> 03:03
