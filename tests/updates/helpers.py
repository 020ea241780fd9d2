"""An approved alert with people placed around it, replies to the bot's messages, and
ways to find update and sighting messages in the emulator."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.incidents import Incident
from bot.domain.membership import Role
from bot.domain.updates import IncidentUpdate
from bot.emulator import EmuMessage
from bot.emulator.models import Call
from tests.e2e.conftest import Person, World
from tests.tasks.helpers import Scene, announcement, approved_alert, incident, member_id

# The alert is raised at 100 Elm Street, Sudbury (HIGH risk: 50 km reach). North Bay is
# about 120 km east: nobody there got the alert.
NORTH_BAY = (46.3091, -79.4608)
NORTH_BAY_ADDRESS = "100 Main Street West, North Bay"
NORTH_BAY_LABEL = "100 Main Street West, North Bay, Ontario"
NED_AREA = (46.31, -78.94)  # 40 km east of North Bay
TASK = "Check the bus terminal"


@dataclass
class Placed:
    s: Scene
    nina: Person  # responder whose own area covers North Bay
    ned: Person  # police 40 km from North Bay: the moved alert reaches him, the point doesn't

    @property
    def code(self) -> str:
        return self.s.code


async def placed_alert(world: World, *, task_for_pat: bool = True) -> Placed:
    """The tasks scene (Cora approved Sam's alert) plus Nina and Ned near North Bay, and Pat
    (police, Sudbury) holding a task."""
    s = await approved_alert(world)
    c = s.c
    async with world.hw.ctx.uow() as uow:
        rita = await uow.members.get_by_telegram_id(c.rita.user_id)
        pat = await uow.members.get_by_telegram_id(c.pat.user_id)
    assert rita is not None
    assert pat is not None
    nina = await world.member("Nina Near", Role.RESPONDER, rita.org_id, area=(*NORTH_BAY, 15))
    ned = await world.member("Ned Nearby", Role.POLICE, pat.org_id, area=(*NED_AREA, 10))
    if task_for_pat:
        await world.say(c.cora, f"/newtask {s.code} {TASK}")
        _, answer = await world.press(c.pat, announcement(world, c.pat, TASK), "I'll take it")
        assert "It's yours" in answer.get("text", ""), answer
    return Placed(s, nina, ned)


async def reply_to(
    world: World,
    person: Person,
    message: EmuMessage,
    *,
    text: str | None = None,
    location: tuple[float, float] | None = None,
    photo: bytes | None = None,
    caption: str | None = None,
) -> list[EmuMessage]:
    """``person`` answers ``message`` with Telegram's Reply; returns the bot's new messages."""
    before = max((m.message_id for m in world.emu.messages(person.user_id)), default=0)
    if text is not None:
        world.emu.send_text(person.user_id, text, reply_to=message.message_id)
    elif location is not None:
        world.emu.send_location(person.user_id, *location, reply_to=message.message_id)
    else:
        assert photo is not None
        world.emu.send_photo(person.user_id, photo, caption=caption, reply_to=message.message_id)
    await world.settle()
    return [m for m in world.emu.bot_messages(person.user_id) if m.message_id > before]


def alert_card(world: World, person: Person) -> EmuMessage:
    [card] = [
        m
        for m in world.emu.bot_messages(person.user_id)
        if "MISSING YOUTH" in (m.text or m.caption or "")
    ]
    return card


def with_text(world: World, person: Person, fragment: str, *, deleted: bool = False) -> list[str]:
    """Bot messages in ``person``'s chat containing ``fragment`` (text or caption)."""
    return [
        m.text or m.caption or ""
        for m in world.emu.messages(person.user_id)
        if m.from_bot and m.deleted == deleted and fragment in (m.text or m.caption or "")
    ]


def chats(calls: list[Call]) -> set[int]:
    return {int(c.chat_id or 0) for c in calls}


def ok_calls(world: World, method: str) -> list[Call]:
    return [c for c in world.emu.calls_to(method) if c.ok]


async def updates_of(world: World, code: str) -> list[IncidentUpdate]:
    inc = await incident(world, code)
    async with world.hw.ctx.uow() as uow:
        return await uow.incident_updates.latest_for_incident(inc.id)


async def actions(world: World, incident_: Incident) -> list[str]:
    async with world.hw.ctx.uow() as uow:
        return [
            e.event.action
            async for e in uow.timeline.iterate()
            if e.event.incident_id == incident_.id
        ]


__all__ = ["incident", "member_id"]
