"""Tasks from templates, claim, release, reassign, complete; stale and foreign presses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot import texts
from bot.domain.errors import IllegalTransition
from bot.domain.incidents import Incident, IncidentStatus, Place, RiskLevel
from bot.domain.tasks import TaskStatus, check_transition, templates_for
from bot.emulator import EmuMessage
from tests.e2e.conftest import Person, World, button_data
from tests.tasks.helpers import (
    add_templates,
    announcement,
    approved_alert,
    last_with,
    member_id,
    task_titled,
    tasks_of,
    timeline,
)

BUS = "Check Bus terminal"


def _incident(**changes: object) -> Incident:
    base: dict[str, object] = {
        "id": 1,
        "code": "HW-AAAAA",
        "status": IncidentStatus.ACTIVE,
        "raised_by": 1,
        "residence_org_id": 1,
        "youth_id": 1,
        "created_at": datetime(2026, 3, 6, tzinfo=UTC),
        "version": 1,
        "content_hash": "x",
    }
    base.update(changes)
    return Incident(**base)


def test_templates_come_from_the_youths_places_and_the_risk() -> None:
    places = (Place("Bus terminal", 46.49, -80.98), Place("Mall", 46.5, -81.0))
    low = templates_for(_incident(police_told=False), places, RiskLevel.LOW)
    assert [t.title for t in low] == [
        "Tell police / record the report number",
        "Call the youth's phone",
        "Check Bus terminal",
        "Check Mall",
    ]
    assert (low[2].latitude, low[2].longitude, low[2].location_label) == (
        46.49,
        -80.98,
        "Bus terminal",
    )
    high = templates_for(
        _incident(police_told=True, police_report_number="R-1", latitude=46.4, longitude=-81.0),
        places,
        RiskLevel.HIGH,
    )
    assert [t.key for t in high] == ["call_phone", "place", "place", "social_media", "last_seen"]
    assert templates_for(_incident(police_told=True), (), RiskLevel.MEDIUM)[0].key == (
        "police_number"
    )


def test_transition_table() -> None:
    check_transition(TaskStatus.OPEN, TaskStatus.CLAIMED)
    check_transition(TaskStatus.CLAIMED, TaskStatus.OPEN)
    for current, target in (
        (TaskStatus.OPEN, TaskStatus.DONE),
        (TaskStatus.DONE, TaskStatus.OPEN),
        (TaskStatus.CANCELLED, TaskStatus.CLAIMED),
    ):
        with pytest.raises(IllegalTransition):
            check_transition(current, target)


async def test_claim_release_reassign_complete_and_stale_buttons(world: World) -> None:
    scene = await approved_alert(world)
    c = scene.c
    await add_templates(world, c.cora)
    titles = [t.title for t in await tasks_of(world, scene.code)]
    assert titles == [
        "Call the youth's phone",
        BUS,
        "Check social media",
        "Search around the last-seen place",
    ]
    # Announced to everyone the alert reached, and to nobody else.
    for person in (c.rita, c.pat, c.sam, c.cora):
        announcement(world, person, BUS)
    for person in (c.fay, c.sid, c.admin):
        assert not any(
            "Task #" in (m.text or "") for m in world.emu.bot_messages(person.user_id)
        ), person.name

    # Rita takes it, then gives it back: open again, with a Claim button for everyone.
    _, answer = await world.press(c.rita, announcement(world, c.rita, BUS), "I'll take it")
    assert answer["text"].startswith("It's yours")
    assert "Taken by Rita Responder" in (announcement(world, c.pat, BUS).text or "")
    rita_controls = last_with(world, c.rita, "is yours")
    _, answer = await world.press(c.rita, rita_controls, "Give it back")
    assert answer["text"].startswith("Given back")
    assert "Open: can you take it?" in (announcement(world, c.pat, BUS).text or "")
    # The old control is stale now: nothing changes.
    _, answer = await world.press(c.rita, rita_controls, "Done")
    assert answer["text"] == texts.BUTTON_GONE

    # Pat takes it; the coordinator hands it to Rita.
    stale_claim = button_data(announcement(world, c.sam, BUS), "I'll take it")  # drawn open
    _, answer = await world.press(c.pat, announcement(world, c.pat, BUS), "I'll take it")
    assert answer["text"].startswith("It's yours")
    pat_controls = last_with(world, c.pat, "is yours")
    [overview] = await world.say(c.cora, "/tasks")
    assert f"{BUS}: taken by Pat Police" in (overview.text or "")
    task = await task_titled(world, scene.code, BUS)
    [menu], _ = await world.press(c.cora, overview, f"Reassign #{task.id}")
    _, answer = await world.press(c.cora, menu, "Rita Responder")
    assert answer["text"] == "Given to Rita Responder."
    task = await task_titled(world, scene.code, BUS)
    assert task.holder_member_id == await member_id(world, c.rita)

    # Stale presses after it changed hands change nothing.
    _, answer = await world.press(c.pat, pat_controls, "Give it back")
    assert answer["text"] == texts.BUTTON_GONE
    _, answer = await world.press_data(c.sam, announcement(world, c.sam, BUS), stale_claim)
    assert answer["text"] == "Already taken by Rita Responder. Nothing was changed."
    _, answer = await world.press(c.cora, menu, "Sam Staff")  # the menu was for Pat's task
    assert answer["text"] == texts.BUTTON_GONE
    assert (await task_titled(world, scene.code, BUS)).holder_member_id == await member_id(
        world, c.rita
    )

    # Rita notes and completes it; the approving coordinator hears.
    [noted] = await world.say(c.rita, f"/note {task.id} Not at the terminal, asked the driver")
    assert noted.text == "Note added."
    [mine] = await world.say(c.rita, "/mytasks")
    [outcomes], _ = await world.press(c.rita, mine, "Done")
    _, answer = await world.press(c.rita, outcomes, "Not there")
    assert answer["text"].startswith("Marked done")
    done = await task_titled(world, scene.code, BUS)
    assert done.status is TaskStatus.DONE
    assert done.outcome == "not_there"
    assert [n["text"] for n in done.notes] == ["Not at the terminal, asked the driver"]
    assert "Done by Rita Responder" in (announcement(world, c.pat, BUS).text or "")
    assert "is done" in (last_with(world, c.cora, f"Task #{task.id} on").text or "")
    assert await timeline(world, done) == [
        "task.created",
        "task.claimed",
        "task.released",
        "task.claimed",
        "task.reassigned",
        "task.noted",
        "task.completed",
    ]

    # A coordinator cancels another task; a free task can be added by code.
    [overview] = await world.say(c.cora, "/tasks")
    phone = await task_titled(world, scene.code, "Call the youth's phone")
    _, answer = await world.press(c.cora, overview, f"Cancel #{phone.id}")
    assert answer["text"] == "Task cancelled."
    _, answer = await world.press(c.cora, overview, f"Cancel #{phone.id}")
    assert answer["text"] == texts.BUTTON_GONE
    assert "Cancelled" in (announcement(world, c.rita, "Call the youth's phone").text or "")
    replies = await world.say(c.cora, f"/newtask {scene.code} Check the  <b>mall</b>")
    assert "1 task sent to everyone the alert reaches." in [m.text for m in replies]
    assert "Check the <b>mall</b>" in (announcement(world, c.pat, "mall").text or "")
    [refused] = await world.say(c.rita, f"/newtask {scene.code} Something")
    assert refused.text == texts.ERRORS["not_allowed"]


async def test_non_recipients_pressing_a_claim_token_get_nothing(world: World) -> None:
    scene = await approved_alert(world)
    c = scene.c
    await add_templates(world, c.cora)
    claim = button_data(announcement(world, c.rita, BUS), "I'll take it")
    [fay_help] = await world.say(c.fay, "/help")
    before = len(world.emu.bot_messages(c.fay.user_id))
    _, answer = await world.press_data(c.fay, fay_help, claim)
    assert answer.get("text") == texts.ERRORS["not_allowed"]
    assert len(world.emu.bot_messages(c.fay.user_id)) == before
    # A stranger gets no answer with content (the gate answers outsiders blankly).
    stranger_msg = world.emu.bot_messages(c.rita.user_id)[-1]
    update = world.emu.press_button(c.stranger.user_id, stranger_msg.message_id, claim)
    await world.settle()
    record = world.emu.callback_answers.get(update["callback_query"]["id"], {})
    assert "Task" not in str(record.get("answer") or {})
    assert not any("Task" in (m.text or "") for m in world.emu.bot_messages(c.stranger.user_id))
    task = await task_titled(world, scene.code, BUS)
    assert task.status is TaskStatus.OPEN
    assert task.holder_member_id is None
    assert await timeline(world, task) == ["task.created"]
    # And a recipient cannot add templates twice, nor may a responder add them at all.
    [rita_tasks] = await world.say(c.rita, "/tasks")
    assert BUS in (rita_tasks.text or "")
    assert not (rita_tasks.reply_markup or {}).get("inline_keyboard")
    [fay_tasks] = await world.say(c.fay, "/tasks")
    assert BUS not in (fay_tasks.text or "")


async def test_acknowledgements_once_each_and_the_coordinators_view(world: World) -> None:
    scene = await approved_alert(world)
    c = scene.c

    def card(person: Person) -> EmuMessage:
        return next(
            m
            for m in world.emu.bot_messages(person.user_id)
            if "MISSING YOUTH" in (m.text or m.caption or "")
        )

    rita_card = card(c.rita)
    _, answer = await world.press(c.rita, rita_card, "Seen")
    assert answer["text"] == "Thank you, noted."
    _, answer = await world.press(c.rita, rita_card, "Seen")
    assert answer["text"] == "Already noted. Thank you."
    _, answer = await world.press(c.pat, card(c.pat), "I can help")
    assert answer["text"] == "Thank you, noted."
    # Someone else's card button is not theirs.
    _, answer = await world.press_data(
        c.sam,
        card(c.sam),
        button_data(rita_card, "I can help"),
    )
    assert answer["text"] == texts.BUTTON_NOT_YOURS

    [view] = await world.say(c.cora, f"/acks {scene.code}")
    text = view.text or ""
    assert "Seen: Rita Responder" in text
    assert "Can help: Pat Police" in text
    assert "Not yet: Cora Coordinator, Sam Staff" in text
    [refused] = await world.say(c.rita, f"/acks {scene.code}")
    assert "Acknowledgements" not in (refused.text or "")

    async with world.hw.ctx.uow() as uow:
        inc = await uow.incidents.get_by_code(scene.code)
        assert inc is not None
        events = await uow.timeline.list_for_subject("incident", str(inc.id))
    assert [
        e.event.details["kind"] for e in events if e.event.action == "incident.acknowledged"
    ] == [
        "seen",
        "can_help",
    ]
