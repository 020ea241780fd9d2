"""A drill, quickly: the cast of the alert journey plus a second coordinator, and ways to
find what the bot sent about a drill."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from bot.domain.drills import MARK_HTML, MARK_PLAIN
from bot.domain.incidents import Incident
from bot.domain.membership import Role
from bot.emulator import EmuMessage
from storage.models import OutboxRow, TimerRow
from tests.e2e.conftest import Person, World
from tests.e2e.test_alert_journey import SUDBURY, Cast, cast
from tests.tasks.helpers import incident, last_with, member_id

# Every Bot API method that puts words in front of people.
MESSAGE_METHODS = {
    "sendmessage",
    "sendphoto",
    "sendvenue",
    "editmessagetext",
    "editmessagecaption",
}
MEDIA_METHODS = {"editmessagemedia"}
CODE = re.compile(r"HW-[A-Z2-9]{5}")


@dataclass
class Scene:
    c: Cast
    dan: Person  # a second coordinator: the one who can approve Cora's drill


async def scene(world: World) -> Scene:
    c = await cast(world)
    async with world.hw.ctx.uow() as uow:
        rita = await uow.members.get_by_telegram_id(c.rita.user_id)
    assert rita is not None
    dan = await world.member("Dan Deputy", Role.COORDINATOR, rita.org_id, area=(*SUDBURY, 40))
    return Scene(c, dan)


async def start_drill(world: World, coordinator: Person) -> str:
    """/drill, then Start on the confirmation; returns the drill's code."""
    [confirm] = await world.say(coordinator, "/drill")
    assert "Start a DRILL for Maple House?" in (confirm.text or ""), confirm.text
    assert "another coordinator must approve it" in (confirm.text or "")
    replies, answer = await world.press(coordinator, confirm, "Start the drill")
    assert "started" in answer.get("text", ""), answer
    [started] = replies
    assert (started.text or "").startswith(MARK_PLAIN), started.text
    match = CODE.search(started.text or "")
    assert match, started.text
    return match.group(0)


async def approve(world: World, vetter: Person, code: str) -> None:
    card = last_with(world, vetter, f"Code: {code}")
    assert "VETTING NEEDED" in (card.text or "")
    _, answer = await world.press(vetter, card, "Approve and send")
    assert "approved" in answer.get("text", ""), answer


def drill_cards(world: World, person: Person, code: str) -> list[EmuMessage]:
    return [
        m
        for m in world.emu.bot_messages(person.user_id)
        if "MISSING YOUTH" in (m.text or m.caption or "") and code in (m.text or m.caption or "")
    ]


def _words(method: str, params: dict[str, Any]) -> str | None:
    if method in MEDIA_METHODS:
        media = params.get("media")
        if isinstance(media, str):
            media = json.loads(media)
        return media.get("caption") if isinstance(media, dict) else None
    for key in ("text", "caption", "title"):  # a venue's title is its words
        if isinstance(params.get(key), str):
            return str(params[key])
    return None


def requests_about(world: World, *fragments: str) -> list[tuple[str, str]]:
    """(method, words) of every request the emulator received that shows any fragment."""
    found = []
    for call in world.emu.calls:
        method = call.method.lower()
        if method not in MESSAGE_METHODS | MEDIA_METHODS:
            continue
        words = _words(method, call.params)
        if words and any(f in words for f in fragments):
            found.append((method, words))
    return found


async def outbox_rows(world: World, incident_id: int) -> list[OutboxRow]:
    async with world.hw.db.sessions() as s:
        query = select(OutboxRow).where(OutboxRow.incident_id == incident_id)
        return list((await s.execute(query)).scalars())


async def waiting_timers(world: World, incident_id: int) -> list[str]:
    async with world.hw.db.sessions() as s:
        query = select(TimerRow.kind).where(
            TimerRow.incident_id == incident_id,
            TimerRow.fired_at.is_(None),
            TimerRow.cancelled_at.is_(None),
        )
        return sorted((await s.execute(query)).scalars())


async def timeline_of(world: World, incident_id: int) -> list[tuple[str, dict[str, Any]]]:
    async with world.hw.ctx.uow() as uow:
        events = [e async for e in uow.timeline.iterate()]
    return [
        (e.event.action, dict(e.event.details))
        for e in events
        if e.event.incident_id == incident_id
    ]


async def roster_names(world: World, person: Person) -> list[str]:
    """The youth names /youth offers this person (one button each)."""
    replies = await world.say(person, "/youth")
    names = []
    for message in replies:
        for row in (message.reply_markup or {}).get("inline_keyboard", []):
            names.extend(str(b.get("text")) for b in row)
    return names


async def tick(world: World) -> int:
    fired = await world.hw.scheduler.tick()
    await world.settle()
    return fired


def marked(words: str) -> bool:
    return words.startswith((MARK_HTML, MARK_PLAIN))  # plain: a venue's title


__all__ = ["Incident", "incident", "last_with", "member_id"]
