"""A drill nobody ends closes itself: a stored timer fires once at its deadline on the
fake clock (also across restarts), closes it through the real resolution path and
cleans up; real alerts running beside it are never touched."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.drills import MARK_PLAIN
from bot.domain.incidents import IncidentStatus
from bot.domain.tasks import TaskStatus
from bot.services import alerts, maps, timers
from tests.drills.helpers import (
    approve,
    drill_cards,
    incident,
    last_with,
    marked,
    requests_about,
    roster_names,
    scene,
    start_drill,
    tick,
    timeline_of,
    waiting_timers,
)
from tests.e2e.conftest import Person, World
from tests.e2e.test_alert_journey import MAPLE_HOUSE, alert_cards
from tests.tasks.helpers import tasks_of

TWO_HOURS = timedelta(minutes=120)  # the default alerts.drill_duration_minutes


async def real_alert(world: World, staff: Person) -> str:
    """A real youth and a real alert, raised by staff through the same submit as /missing
    (the form itself is exercised in tests/e2e)."""
    async with world.hw.ctx.uow() as uow:
        member = await uow.members.get_by_telegram_id(staff.user_id)
        assert member is not None
        assert member.org_id is not None
        youth = await uow.youth.add(
            residence_org_id=member.org_id,
            created_by=member.id,
            at=world.clock.now(),
            fields={"legal_name": "Jordan Smith", "preferred_name": "Jay"},
        )
        raised = await alerts.submit(
            uow,
            world.hw.ctx,
            raiser=member,
            data={
                "youth": str(youth.id),
                "last_seen": world.clock.now().isoformat(),
                "location": {
                    "latitude": MAPLE_HOUSE[0],
                    "longitude": MAPLE_HOUSE[1],
                    "label": "Maple House",
                    "source": "residence",
                },
                "clothing": "Black hoodie",
                "circumstances": "Left after dinner",
                "risk_exploitation": True,
                "police_told": True,
            },
        )
        await uow.commit()
    await world.settle()
    return raised.code


async def ended_events(world: World, incident_id: int) -> list[str]:
    return [
        details["how"]
        for action, details in await timeline_of(world, incident_id)
        if action == "drill.ended"
    ]


async def test_the_drill_closes_itself_once_at_its_deadline_and_cleans_up(world: World) -> None:
    s = await scene(world)
    c = s.c
    t0 = world.clock.now()
    code = await start_drill(world, c.cora)
    drill = await incident(world, code)
    # As for a real child: vetting escalations, and police not told (drills say not yet).
    assert await waiting_timers(world, drill.id) == sorted(
        [timers.DRILL_END, timers.ESCALATE_AREA, timers.ESCALATE_ADMINS, timers.POLICE_REMINDER]
    )
    await approve(world, s.dan, code)
    await world.say(s.dan, f"/newtask {code} Check the bus shelter")
    assert [t.title for t in await tasks_of(world, code)] == ["Check the bus shelter"]
    assert sorted(await waiting_timers(world, drill.id)) == sorted(
        [
            timers.DRILL_END,
            maps.MAPS_EXPIRE,
            timers.TASK_REANNOUNCE,
            timers.TASK_UNCLAIMED,
            timers.POLICE_REMINDER,
            timers.STATUS_CHECK,  # the follow-ups an approval starts
            timers.OCCURRENCE_REMINDER,
            timers.OCCURRENCE_REMINDER,
            timers.OCCURRENCE_OVERDUE,
        ]
    )
    assert len(drill_cards(world, c.rita, code)) == 1

    world.clock.set(t0 + TWO_HOURS - timedelta(seconds=1))
    await tick(world)
    assert (await incident(world, code)).status is IncidentStatus.ACTIVE

    world.clock.set(t0 + TWO_HOURS)
    assert await tick(world) >= 1
    closed = await incident(world, code)
    assert closed.status is IncidentStatus.RESOLVED
    assert closed.resolved_at == t0 + TWO_HOURS
    for person in (c.sam, c.pat, c.rita):
        assert drill_cards(world, person, code) == []
        assert (last_with(world, person, "has ended").text or "").startswith(MARK_PLAIN)
    assert "ran its full time" in (last_with(world, c.cora, "is over").text or "")
    assert await waiting_timers(world, drill.id) == []  # task timers included
    assert {t.status for t in await tasks_of(world, code)} == {TaskStatus.CANCELLED}
    assert await ended_events(world, drill.id) == ["timer"]
    async with world.hw.ctx.uow() as uow:
        youth = await uow.youth.get(drill.youth_id or 0)
    assert youth is not None
    assert not youth.active

    # Once: later ticks change nothing, and the area may run a new drill.
    world.clock.set(t0 + 3 * TWO_HOURS)
    before = len(world.emu.calls)
    await tick(world)
    assert len(world.emu.calls) == before
    assert await ended_events(world, drill.id) == ["timer"]
    assert all(marked(words) for _, words in requests_about(world, code))
    again = await start_drill(world, c.cora)
    assert again != code


async def test_the_deadline_survives_restarts_and_fires_once(world: World) -> None:
    s = await scene(world)
    t0 = world.clock.now()
    code = await start_drill(world, s.c.cora)
    drill = await incident(world, code)
    world.clock.set(t0 + timedelta(minutes=30))
    await tick(world)  # the vetting escalations fire; the drill waits
    await world.restart()
    world.clock.set(t0 + TWO_HOURS + timedelta(minutes=5))  # down over the deadline
    await tick(world)
    assert (await incident(world, code)).status is IncidentStatus.RESOLVED
    await world.restart()
    await tick(world)
    assert await ended_events(world, drill.id) == ["timer"]
    assert await waiting_timers(world, drill.id) == []
    # A drill closed while still waiting for vetting pulls its vetting cards back too.
    assert not any(
        code in (m.text or "") and "VETTING" in (m.text or "")
        for m in world.emu.bot_messages(s.dan.user_id)
    )


async def test_a_real_alert_beside_a_drill_is_never_marked_or_touched(world: World) -> None:
    s = await scene(world)
    c = s.c
    real = await real_alert(world, c.sam)
    drill_code = await start_drill(world, c.cora)
    await approve(world, c.cora, real)
    await approve(world, s.dan, drill_code)
    real_cards = alert_cards(world, c.rita)
    assert any(real in card for card in real_cards)
    real_words = requests_about(world, real)
    assert real_words
    assert not any(marked(words) for _, words in real_words)
    # /found offers both, the drill plainly labelled; the real one closes alone.
    [which] = await world.say(c.sam, "/found")
    labels = [b["text"] for row in (which.reply_markup or {})["inline_keyboard"] for b in row]
    assert any(label.startswith(f"DRILL {drill_code}") for label in labels), labels
    assert any(label.startswith(real) for label in labels), labels
    await world.answer(
        c.sam,
        f"[{next(lab for lab in labels if lab.startswith(real))}]",
        "[Returned to the residence]",
    )
    await world.answer(c.sam, "[Yes, close it and pull details back]")
    closed_real = await incident(world, real)
    assert closed_real.status is IncidentStatus.RESOLVED
    assert not any(d.get("drill") for _, d in await timeline_of(world, closed_real.id))
    drill = await incident(world, drill_code)
    assert drill.status is IncidentStatus.ACTIVE
    assert len(drill_cards(world, c.rita, drill_code)) == 1
    assert timers.DRILL_END in await waiting_timers(world, drill.id)
    # The real youth stays on the roster; the drill's never appears there.
    names = await roster_names(world, c.sam)
    assert "Jay" in names
    assert not any(n.startswith("Drill Youth") for n in names)
