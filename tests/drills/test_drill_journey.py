"""A drill end to end: a coordinator starts it, another approves it, the area gets it,
acknowledgements, tasks and sealed details work as in reality, and every message the
bot sends about it, from the first vetting card to the last thank-you, says DRILL."""

from __future__ import annotations

from bot.domain.drills import MARK_PLAIN
from bot.domain.incidents import IncidentStatus, Outcome
from bot.domain.tasks import TaskStatus
from bot.services import history
from tests.drills.helpers import (
    _words,
    approve,
    drill_cards,
    incident,
    last_with,
    marked,
    member_id,
    outbox_rows,
    requests_about,
    roster_names,
    scene,
    start_drill,
    timeline_of,
    waiting_timers,
)
from tests.e2e.conftest import World
from tests.tasks.helpers import add_templates, tasks_of


async def test_a_drill_runs_the_real_flow_and_every_message_says_drill(world: World) -> None:
    s = await scene(world)
    c = s.c
    code = await start_drill(world, c.cora)
    drill = await incident(world, code)
    assert drill.is_drill
    assert drill.status is IncidentStatus.PENDING
    assert drill.raised_by == await member_id(world, c.cora)  # honestly: she raised it
    async with world.hw.ctx.uow() as uow:
        youth = await uow.youth.get(drill.youth_id or 0)
    assert youth is not None
    assert youth.is_drill
    assert youth.photo_file_id is None
    assert youth.preferred_name.startswith("Drill Youth ")
    assert youth.residence_org_id == drill.residence_org_id
    # The fictional youth is never offered with the real ones, not even during the drill.
    assert youth.preferred_name not in await roster_names(world, c.sam)

    # The two-person rule holds: Cora raised it, so Dan vets it and she gets no card.
    assert not any(
        "VETTING NEEDED" in (m.text or "") for m in world.emu.bot_messages(c.cora.user_id)
    )
    await approve(world, s.dan, code)

    # The area gets it, as a real alert, and every card says DRILL first.
    for person in (c.sam, c.pat, c.rita, s.dan):
        [card] = drill_cards(world, person, code)
        assert (card.text or "").startswith(f"{MARK_PLAIN}MISSING YOUTH"), card.text
        assert card.protect_content
    for person in (c.fay, c.sid, c.stranger):
        assert drill_cards(world, person, code) == []

    # Acknowledgements, tasks and sealed details behave as they would for a real child.
    [rita_card] = drill_cards(world, c.rita, code)
    _, seen = await world.press(c.rita, rita_card, "Seen")
    _, helping = await world.press(c.rita, rita_card, "I can help")
    assert seen.get("text")
    assert helping.get("text")
    await add_templates(world, s.dan)
    offer = next(
        m
        for m in world.emu.bot_messages(c.rita.user_id)
        if "Task #" in (m.text or "") and code in (m.text or "")
    )
    _, claimed = await world.press(c.rita, offer, "I'll take it")
    assert claimed.get("text"), claimed
    [pat_card] = drill_cards(world, c.pat, code)
    await world.press(c.pat, pat_card, "Sensitive details (recorded)")
    sealed = last_with(world, c.pat, "SEALED DETAILS")
    assert (sealed.text or "").startswith(MARK_PLAIN)
    assert "Drill place" in (sealed.text or "")  # the fictional places, never real ones
    [acks] = await world.say(s.dan, f"/acks {code}")
    assert (acks.text or "").startswith(MARK_PLAIN)
    assert "Rita Responder" in (acks.text or "")

    # Cora ends it early: the real resolution path pulls everything back.
    replies = await world.say(c.cora, f"/drill end {code}")
    ending = next(m for m in replies if "is ending" in (m.text or ""))
    assert (ending.text or "").startswith(MARK_PLAIN)
    ended = await incident(world, code)
    assert ended.status is IncidentStatus.RESOLVED
    assert ended.outcome is Outcome.OTHER
    for person in (c.sam, c.pat, c.rita, s.dan, c.cora):
        assert drill_cards(world, person, code) == []  # deleted
        thanks = last_with(world, person, "has ended")
        assert (thanks.text or "").startswith(MARK_PLAIN)
        assert "no youth was missing" in (thanks.text or "")
    summary = last_with(world, c.cora, "is over")
    assert "ended by Cora Coordinator" in (summary.text or "")
    assert "Reached 5 people; 1 pressed Seen and 1 I can help" in (summary.text or "")

    # Every request the emulator received about the drill starts with the marker.
    about = requests_about(world, code, youth.preferred_name)
    methods = {method for method, _ in about}
    assert {"sendmessage", "editmessagetext"} <= methods, methods
    assert len(about) > 25
    assert [words for _, words in about if not marked(words)] == []
    # ... and so does every row the outbox holds for it (deletions have no words).
    rows = await outbox_rows(world, drill.id)
    worded = [w for r in rows if (w := _words(r.method.lower(), r.params)) is not None]
    wordless = ("deleteMessage", "sendLocation")  # a bare pin follows its marked message
    assert len(worded) == len(rows) - sum(1 for r in rows if r.method in wordless)
    assert all(marked(w) for w in worded)

    # Nothing of it keeps running, and the profile is gone from every list.
    assert await waiting_timers(world, drill.id) == []
    assert {t.status for t in await tasks_of(world, code)} == {TaskStatus.CANCELLED}
    async with world.hw.ctx.uow() as uow:
        after = await uow.youth.get(youth.id)
    assert after is not None
    assert not after.active

    # The timeline keeps every event, each marked as a drill, and the chain verifies.
    events = await timeline_of(world, drill.id)
    actions = [action for action, _ in events]
    for expected in (
        "incident.raised",
        "drill.started",
        "incident.approved",
        "incident.disclosed",
        "incident.acknowledged",
        "task.claimed",
        "youth.sensitive_viewed",
        "incident.resolved",
        "incident.retracted",
        "task.cancelled",
        "drill.ended",
    ):
        assert expected in actions, (expected, actions)
    assert all(details.get("drill") is True for _, details in events)
    checked, problems = await history.verify(world.hw.ctx)
    assert checked > len(events)
    assert problems == []
