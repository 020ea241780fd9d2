"""The alert's last-seen point arrives as a map pin after its card, and no pin outlives
the window in which /found could pull it back: shortly before Telegram's 48 hours run
out, the pins are deleted (the card keeps the coordinates), once, across a restart."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from bot.emulator import EmuMessage
from bot.services import maps
from storage.models import OutboxRow
from tests.e2e.conftest import Person, World
from tests.tasks.helpers import approved_alert, incident
from tests.updates.helpers import actions, ok_calls


def pins(world: World, person: Person) -> list[EmuMessage]:
    every = world.emu.messages(person.user_id)  # deleted ones too
    return [m for m in every if m.from_bot and (m.venue or m.location)]


def cards(world: World, person: Person) -> list[EmuMessage]:
    return [
        m
        for m in world.emu.bot_messages(person.user_id)
        if "MISSING YOUTH" in (m.text or m.caption or "")
    ]


async def tick(world: World) -> None:
    await world.hw.scheduler.tick()
    await world.settle()


async def test_the_alert_pin_follows_the_card_and_is_removed_before_the_window_closes(
    world: World,
) -> None:
    s = await approved_alert(world)
    c = s.c
    inc = await incident(world, s.code)
    for person in (c.pat, c.rita):
        [card] = cards(world, person)
        [pin] = pins(world, person)
        assert pin.message_id > card.message_id, person.name
        assert pin.protect_content
        assert pin.venue is not None
        assert pin.venue["title"] == f"Last seen · {s.code}"
        assert pin.venue["address"] == inc.location_label
        assert (pin.location or (0.0, 0.0)) == (inc.latitude, inc.longitude)
    # The pin names nobody: the youth's name is only on the protected card beside it.
    assert all("Jay" not in str(x.params) for x in ok_calls(world, "sendVenue"))

    # Just before 47 h 15 min nothing happens; a restart loses nothing; at it, the pins go.
    due = world.hw.ctx.alerts.delete_window - maps.EARLY
    world.clock.advance(due.total_seconds() - 1)
    await tick(world)
    assert all(not p.deleted for p in pins(world, c.pat) + pins(world, c.rita))
    await world.restart()
    world.clock.advance(1)
    await tick(world)
    for person in (c.pat, c.rita):
        assert [p.deleted for p in pins(world, person)] == [True], person.name
        assert [m.deleted for m in cards(world, person)] == [False], person.name
    assert (await actions(world, inc)).count("maps.removed") == 1
    deletes = len(ok_calls(world, "deleteMessage"))
    world.clock.advance(timedelta(hours=1).total_seconds())
    await tick(world)
    assert len(ok_calls(world, "deleteMessage")) == deletes  # once

    # /found later edits the cards into notes and does not try the pins again.
    await world.say(c.sam, "/found")
    await world.answer(c.sam, "[Returned to the residence]")
    await world.answer(c.sam, "[Yes, close it and pull details back]")
    assert [x for x in world.emu.calls_to("deleteMessage") if not x.ok] == []
    for person in (c.pat, c.rita):
        assert cards(world, person) == [], person.name  # edited into the "removed" note


async def test_found_within_the_window_deletes_the_pins(world: World) -> None:
    s = await approved_alert(world)
    c = s.c
    await world.say(c.sam, "/found")
    await world.answer(c.sam, "[Returned to the residence]")
    await world.answer(c.sam, "[Yes, close it and pull details back]")
    for person in (c.pat, c.rita):
        assert [p.deleted for p in pins(world, person)] == [True], person.name
    # Nothing is left for the expiry timer to do, and it does nothing.
    world.clock.advance((world.hw.ctx.alerts.delete_window).total_seconds())
    before = len(world.emu.calls_to("deleteMessage"))
    await tick(world)
    assert len(world.emu.calls_to("deleteMessage")) == before


async def test_a_pin_sent_late_is_still_removed_in_time(world: World) -> None:
    """Rita's pin went out 20 minutes after the batch (an outage, a slow queue): the
    first expiry removes Pat's and comes back for hers before her 48 hours run out."""
    s = await approved_alert(world)
    c = s.c
    inc = await incident(world, s.code)
    t0 = world.clock.now()
    late = t0 + timedelta(minutes=20)
    [rita_pin] = pins(world, c.rita)
    async with world.hw.db.sessions() as session, session.begin():
        await session.execute(
            update(OutboxRow)
            .where(OutboxRow.chat_id == c.rita.user_id, OutboxRow.kind == maps.KIND_ALERT_MAP)
            .values(sent_at=late)
        )

    window = world.hw.ctx.alerts.delete_window
    world.clock.advance((window - maps.EARLY).total_seconds())
    await tick(world)
    assert [p.deleted for p in pins(world, c.pat)] == [True]
    assert [p.deleted for p in pins(world, c.rita)] == [False]

    world.clock.set(late + window - maps.EARLY - timedelta(seconds=1))
    await tick(world)
    assert [p.deleted for p in pins(world, c.rita)] == [False]
    world.clock.advance(1)
    await tick(world)
    assert [p.message_id for p in pins(world, c.rita) if p.deleted] == [rita_pin.message_id]
    assert (await actions(world, inc)).count("maps.removed") == 2
