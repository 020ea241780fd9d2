"""T22: ten people press "I'll take it" at once: exactly one holder, nine told who has it."""

from __future__ import annotations

import asyncio

from bot.domain.tasks import TaskStatus
from bot.services import access, tasks
from bot.services.tasks import TaskOutcome
from tests.e2e.conftest import World, button_data
from tests.tasks.helpers import (
    add_templates,
    announcement,
    approved_alert,
    member_id,
    task_titled,
    timeline,
)

TITLE = "Check Bus terminal"


async def test_ten_concurrent_presses_make_exactly_one_holder(world: World) -> None:
    scene = await approved_alert(world, extra=8)
    await add_templates(world, scene.c.cora)
    pressers = [scene.c.rita, scene.c.pat, *scene.helpers]
    assert len(pressers) == 10

    # All ten presses are in the queue before the bot handles any of them.
    queries = []
    for person in pressers:
        message = announcement(world, person, TITLE)
        update = world.emu.press_button(
            person.user_id,
            message.message_id,
            button_data(message, "I'll take it"),
            chat_id=message.chat_id,
        )
        queries.append(update["callback_query"]["id"])
    await world.settle()

    task = await task_titled(world, scene.code, TITLE)
    assert task.status is TaskStatus.CLAIMED
    ids = {p.name: await member_id(world, p) for p in pressers}
    holder = next(p for p in pressers if ids[p.name] == task.holder_member_id)
    answers = [
        (world.emu.callback_answers.get(q, {}).get("answer") or {}).get("text", "") for q in queries
    ]
    assert sum(a.startswith("It's yours") for a in answers) == 1, answers
    assert answers.count(f"Already taken by {holder.name}. Nothing was changed.") == 9, answers
    assert timeline_claims(await timeline(world, task)) == 1

    # Everyone's announcement now names the holder and offers no Claim button.
    for person in pressers:
        text = announcement(world, person, TITLE).text or ""
        assert f"Taken by {holder.name}" in text
        assert not (announcement(world, person, TITLE).reply_markup or {}).get("inline_keyboard")
    # Only the holder got the task's controls.
    for person in pressers:
        yours = [
            m
            for m in world.emu.bot_messages(person.user_id)
            if "is yours" in (m.text or "") and TITLE in (m.text or "")
        ]
        assert len(yours) == (1 if person == holder else 0), person.name


def timeline_claims(actions: list[str]) -> int:
    return actions.count("task.claimed")


async def test_service_level_race_over_ten_units_of_work(world: World) -> None:
    scene = await approved_alert(world, extra=8)
    await add_templates(world, scene.c.cora)
    task = await task_titled(world, scene.code, TITLE)
    pressers = [scene.c.rita, scene.c.pat, *scene.helpers]
    ctx = world.hw.ctx

    async def one(telegram_id: int) -> TaskOutcome:
        async with ctx.uow() as uow:
            actor = await access.require_active(uow, telegram_id=telegram_id)
            outcome = await tasks.claim(uow, ctx, actor=actor, task_id=task.id)
            await uow.commit()
        return outcome

    outcomes = await asyncio.gather(*(one(p.user_id) for p in pressers))
    assert sorted(o.what for o in outcomes) == ["claimed"] + ["taken"] * 9
    winner = next(o for o in outcomes if o.what == "claimed")
    assert all(o.holder_name == winner.holder_name for o in outcomes)
    after = await task_titled(world, scene.code, TITLE)
    assert after.status is TaskStatus.CLAIMED
    assert after.version == task.version + 1
    assert timeline_claims(await timeline(world, after)) == 1
