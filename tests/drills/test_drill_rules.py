"""Who may run a drill, and the rules around one: one at a time per residence, someone
else must be able to approve it, a rejected drill is cleaned up at once."""

from __future__ import annotations

from bot import texts
from bot.domain.drills import MARK_PLAIN
from bot.domain.incidents import IncidentStatus
from bot.domain.membership import ROLE_COMMANDS, OrgKind, Role
from tests.drills.helpers import (
    incident,
    last_with,
    scene,
    start_drill,
    timeline_of,
    waiting_timers,
)
from tests.e2e.conftest import World, button_data
from tests.e2e.test_alert_journey import MAPLE_HOUSE, SUDBURY


async def all_incidents(world: World) -> int:
    async with world.hw.ctx.uow() as uow:
        return len(await uow.incidents.list())


async def test_only_coordinators_and_admins_can_run_a_drill(world: World) -> None:
    assert "drill" in ROLE_COMMANDS[Role.COORDINATOR]
    assert "drill" in ROLE_COMMANDS[Role.ADMIN]
    s = await scene(world)
    c = s.c
    for person in (c.sam, c.rita, c.pat):
        [answer] = await world.say(person, "/drill")
        assert answer.text == texts.ERRORS["not_allowed"]
    # Someone else pressing the coordinator's Start button starts nothing either.
    [confirm] = await world.say(c.cora, "/drill")
    _, answer = await world.press_data(c.rita, confirm, button_data(confirm, "Start the drill"))
    assert answer.get("text") in (texts.BUTTON_NOT_YOURS, texts.BUTTON_GONE)
    assert await all_incidents(world) == 0
    async with world.hw.ctx.uow() as uow:
        actions = [e.event.action async for e in uow.timeline.iterate()]
    assert "drill.started" not in actions
    assert "action.denied" in actions  # the wrong person's press is on the record


async def test_one_drill_per_residence_and_a_rejected_drill_is_cleaned_up(world: World) -> None:
    s = await scene(world)
    c = s.c
    code = await start_drill(world, c.cora)
    drill = await incident(world, code)

    # A second /drill for the same residence points at the running one.
    [running] = await world.say(c.cora, "/drill")
    assert (running.text or "").startswith(MARK_PLAIN)
    assert f"already running for Maple House: {code}" in (running.text or "")
    assert await all_incidents(world) == 1

    # Dan rejects it at vetting: the drill is over there and then.
    card = last_with(world, s.dan, f"Code: {code}")
    [menu], _ = await world.press(s.dan, card, "Reject")
    assert (menu.text or "").startswith(MARK_PLAIN)
    await world.press(s.dan, menu, "Duplicate of another alert")
    assert (await incident(world, code)).status is IncidentStatus.REJECTED
    assert await waiting_timers(world, drill.id) == []
    async with world.hw.ctx.uow() as uow:
        youth = await uow.youth.get(drill.youth_id or 0)
    assert youth is not None
    assert not youth.active
    assert "rejected at vetting by Dan Deputy" in (last_with(world, c.cora, "is over").text or "")
    ended = [d for a, d in await timeline_of(world, drill.id) if a == "drill.ended"]
    assert [d["how"] for d in ended] == ["rejected"]

    # So the residence is free for the next drill, which the button on its start
    # message ends at once (and only once).
    second = await start_drill(world, c.cora)
    assert second != code
    started = last_with(world, c.cora, f"{second} started for Maple House")
    _, toast = await world.press(c.cora, started, "End the drill now")
    assert toast.get("text") == f"Drill {second} ended"
    assert (await incident(world, second)).status is IncidentStatus.RESOLVED
    _, again = await world.press(c.cora, started, "End the drill now")
    assert again.get("text") == texts.BUTTON_GONE


async def test_choosing_the_residence_and_needing_someone_else_to_approve(world: World) -> None:
    await world.org(OrgKind.RESIDENCE, "Maple House", MAPLE_HOUSE)
    await world.org(OrgKind.RESIDENCE, "Birch House", (46.52, -80.95))
    await world.org(OrgKind.RESIDENCE, "Far House", (43.65, -79.38))  # Toronto: not hers
    cora = await world.member("Cora Coordinator", Role.COORDINATOR, None, area=(*SUDBURY, 40))

    # Alone, nobody could approve it: refused before anything exists.
    [alone] = await world.say(cora, "/drill")
    assert "no other active coordinator or administrator" in (alone.text or "")

    await world.member("Alex Admin", Role.ADMIN, None, area=None)
    [pick] = await world.say(cora, "/drill")
    labels = [b["text"] for row in (pick.reply_markup or {})["inline_keyboard"] for b in row]
    assert labels == ["Maple House", "Birch House"]  # the residences in her own area
    [confirm], _ = await world.press(cora, pick, "Birch House")
    assert "Start a DRILL for Birch House?" in (confirm.text or "")
    assert "Everyone in the area will get DRILL messages" in (confirm.text or "")
    _, toast = await world.press(cora, confirm, "Not now")
    assert toast.get("text") == "No drill started."
    assert await all_incidents(world) == 0
    [nothing] = await world.say(cora, "/drill end")
    assert "no drill running" in (nothing.text or "")
