"""/found pulls task messages back too: they name the places the youth goes."""

from __future__ import annotations

from tests.e2e.conftest import World
from tests.tasks.helpers import add_templates, approved_alert


async def test_found_withdraws_every_task_message(world: World) -> None:
    scene = await approved_alert(world)
    c = scene.c
    await add_templates(world, c.cora)
    place_messages = [
        m for m in world.emu.bot_messages(c.rita.user_id) if "Bus terminal" in (m.text or "")
    ]
    assert place_messages, "the template task names the youth's place"

    await world.say(c.sam, "/found")
    await world.answer(c.sam, "[Returned to the residence]")
    await world.answer(c.sam, "[Yes, close it and pull details back]")

    for person in (c.rita, c.pat, c.cora, c.sam):
        left = [
            m
            for m in world.emu.messages(person.user_id)
            if m.from_bot and not m.deleted and "Bus terminal" in (m.text or m.caption or "")
        ]
        assert left == [], person.name
