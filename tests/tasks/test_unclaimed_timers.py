"""T22's second half: an open task nobody claims is announced again at 15 minutes and
the coordinators are told at 30; claimed tasks stay quiet; a restart loses nothing."""

from __future__ import annotations

from tests.e2e.conftest import Person, World
from tests.tasks.helpers import add_templates, announcement, approved_alert

PHONE = "Call the youth's phone"
PLACE = "Check Bus terminal"


def offers(world: World, person: Person, title: str) -> int:
    return sum(
        1
        for m in world.emu.bot_messages(person.user_id)
        if (m.text or "").startswith("Task #")
        and " for alert " in (m.text or "")  # the offer, not the holder's own message
        and title in (m.text or "")
    )


def unclaimed_notices(world: World, person: Person) -> list[str]:
    return [
        m.text or ""
        for m in world.emu.bot_messages(person.user_id)
        if "Nobody has taken task" in (m.text or "")
    ]


async def tick(world: World) -> None:
    await world.hw.scheduler.tick()
    await world.settle()


async def test_unclaimed_tasks_are_offered_again_then_reported(world: World) -> None:
    scene = await approved_alert(world)
    c = scene.c
    await add_templates(world, c.cora)
    assert offers(world, c.rita, PHONE) == 1
    # Rita takes one task at once; the other stays open.
    await world.press(c.rita, announcement(world, c.rita, PLACE), "I'll take it")

    world.clock.advance(15 * 60 - 1)
    await tick(world)
    assert offers(world, c.rita, PHONE) == 1

    await world.restart()  # the timers are in the database, not in memory
    world.clock.advance(1)
    await tick(world)
    assert offers(world, c.rita, PHONE) == 2  # offered again
    assert offers(world, c.rita, PLACE) == 1  # taken: not offered again
    assert unclaimed_notices(world, c.cora) == []

    world.clock.advance(15 * 60)
    await tick(world)
    notices = unclaimed_notices(world, c.cora)
    assert any(PHONE in n for n in notices)
    assert not any(PLACE in n for n in notices)
    assert unclaimed_notices(world, c.rita) == []  # only coordinators are told

    # Each timer fires once.
    world.clock.advance(3600)
    await tick(world)
    assert offers(world, c.rita, PHONE) == 2
    assert len(unclaimed_notices(world, c.cora)) == len(notices)
