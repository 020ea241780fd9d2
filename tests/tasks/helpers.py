"""An approved alert, quickly, and ways to find task messages and rows."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.incidents import Incident
from bot.domain.membership import Member, Role
from bot.domain.tasks import Task
from bot.emulator import EmuMessage
from tests.e2e.conftest import Person, World, button_data
from tests.e2e.test_alert_journey import SUDBURY, Cast, add_profile, cast, raise_alert


@dataclass
class Scene:
    c: Cast
    code: str
    helpers: list[Person]  # extra in-area responders


async def approved_alert(world: World, extra: int = 0) -> Scene:
    c = await cast(world)
    team = (await _member(world, c.rita)).org_id
    helpers = [
        await world.member(f"Helper {i:02d}", Role.RESPONDER, team, area=(*SUDBURY, 15))
        for i in range(extra)
    ]
    await add_profile(world, c.sam, canaries=False)
    code = await raise_alert(world, c.sam)
    card = next(
        m for m in world.emu.bot_messages(c.cora.user_id) if "VETTING NEEDED" in (m.text or "")
    )
    _, answer = await world.press(c.cora, card, "Approve and send")
    assert "approved" in answer.get("text", "")
    return Scene(c, code, helpers)


async def _member(world: World, person: Person) -> Member:
    async with world.hw.ctx.uow() as uow:
        member = await uow.members.get_by_telegram_id(person.user_id)
    assert member is not None
    return member


async def member_id(world: World, person: Person) -> int:
    return int((await _member(world, person)).id)


async def add_templates(world: World, coordinator: Person) -> EmuMessage:
    [overview] = await world.say(coordinator, "/tasks")
    assert "No tasks yet" in (overview.text or ""), overview.text
    _, answer = await world.press(coordinator, overview, "Add tasks from templates")
    assert "sent to everyone" in answer.get("text", ""), answer
    return overview


def announcement(world: World, person: Person, title: str) -> EmuMessage:
    found = [
        m
        for m in world.emu.bot_messages(person.user_id)
        if (m.text or "").startswith("Task #")
        and " for alert " in (m.text or "")
        and title in (m.text or "")
    ]
    assert len(found) == 1, (person.name, [m.text for m in world.emu.bot_messages(person.user_id)])
    return found[0]


def last_with(world: World, person: Person, fragment: str) -> EmuMessage:
    found = [m for m in world.emu.bot_messages(person.user_id) if fragment in (m.text or "")]
    assert found, f"nothing with {fragment!r} for {person.name}"
    return found[-1]


async def incident(world: World, code: str) -> Incident:
    async with world.hw.ctx.uow() as uow:
        found = await uow.incidents.get_by_code(code)
    assert found is not None
    return found


async def tasks_of(world: World, code: str) -> list[Task]:
    inc = await incident(world, code)
    async with world.hw.ctx.uow() as uow:
        return await uow.tasks.list_for_incident(inc.id)


async def task_titled(world: World, code: str, title: str) -> Task:
    [task] = [t for t in await tasks_of(world, code) if t.title == title]
    return task


async def timeline(world: World, task: Task) -> list[str]:
    async with world.hw.ctx.uow() as uow:
        events = await uow.timeline.list_for_subject("task", str(task.id))
    return [e.event.action for e in events]


__all__ = ["button_data"]
