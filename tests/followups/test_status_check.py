"""Status checks: while an alert is active its coordinator is asked every 2 hours (high
risk) or 6 (medium, low) to confirm the risk and reach. An unanswered check repeats;
"Still right" is recorded and restarts the interval; "Change risk" sends the alert back
to the vetting card (its own Risk button), and the next interval follows the new level.
A check fires once, also when the bot was down across it, and none after /found."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.incidents import IncidentStatus, RiskLevel
from tests.e2e.conftest import World, button_data
from tests.followups.helpers import (
    approve,
    assert_via_outbox,
    at,
    count,
    events,
    found,
    incident,
    raise_alert,
    received,
    restart_at,
    staffed,
    tick,
    vet_card,
)

CHECK = "Status check for"
SECOND = timedelta(seconds=1)
HOUR = timedelta(hours=1)


async def test_status_checks_repeat_until_answered_and_follow_the_risk(world: World) -> None:
    c = await staffed(world)
    code = await raise_alert(world, c.sam, risk="high", report="2026-1")
    t0 = world.clock.now()
    await approve(world, c.cora, code)

    await at(world, t0 + 2 * HOUR - SECOND)
    assert count(world, c.cora, CHECK) == 0
    await at(world, t0 + 2 * HOUR)
    [first] = received(world, c.cora, CHECK)
    assert f"Status check for {code}: still high risk, reach 50 km?" in (first.text or "")
    for other in (c.admin, c.sam, c.rita, c.pat):
        assert count(world, other, CHECK) == 0, other.name
    await tick(world)
    assert count(world, c.cora, CHECK) == 1

    await at(world, t0 + 4 * HOUR)  # nobody answered: asked again
    assert count(world, c.cora, CHECK) == 2
    old_still_right = button_data(first, "Still right")
    _, answer = await world.press_data(c.cora, first, old_still_right)
    assert "no longer active" in answer.get("text", "")  # the newer check is the one to answer
    assert await events(world, code, "incident.status_confirmed") == []

    await at(world, t0 + 4 * HOUR + 10 * 60 * SECOND)
    second = received(world, c.cora, CHECK)[-1]
    still_right = button_data(second, "Still right")
    _, answer = await world.press(c.cora, second, "Still right")
    assert "stays high risk, reach 50 km. Next check in 2 hours" in answer.get("text", "")
    settled = received(world, c.cora, CHECK)[-1]
    assert "confirmed by Cora Coordinator" in (settled.text or "")
    assert not (settled.reply_markup or {}).get("inline_keyboard")
    _, again = await world.press_data(c.cora, second, still_right)
    assert "no longer active" in again.get("text", "")
    [(_, confirmed)] = await events(world, code, "incident.status_confirmed")
    assert confirmed["risk"] == "high"

    # The interval restarted at the answer (4h10), not at the last check (4h).
    await at(world, t0 + 6 * HOUR + 10 * 60 * SECOND - SECOND)
    assert count(world, c.cora, CHECK) == 2
    await at(world, t0 + 6 * HOUR + 10 * 60 * SECOND)
    assert count(world, c.cora, CHECK) == 3

    # Change risk: back to the vetting card, whose Risk button lowers it; approved again.
    third = received(world, c.cora, CHECK)[-1]
    _, answer = await world.press(c.cora, third, "Change risk")
    assert "back at vetting" in answer.get("text", "")
    assert (await incident(world, code)).status is IncidentStatus.PENDING
    card = vet_card(world, c.cora, code)
    _, answer = await world.press(c.cora, card, "Risk: high ▸")  # cycles to low
    assert "updated" in answer.get("text", "")
    t1 = world.clock.now()
    await approve(world, c.cora, code)
    changed = await incident(world, code)
    assert changed.status is IncidentStatus.ACTIVE
    assert changed.risk_level is RiskLevel.LOW

    # Low risk: every 6 hours, from the approval; the bot is down across the deadline.
    await at(world, t1 + 6 * HOUR - SECOND)
    assert count(world, c.cora, CHECK) == 3
    await restart_at(world, t1 + 6 * HOUR + 5 * 60 * SECOND)
    assert count(world, c.cora, CHECK) == 4
    assert "still low risk, reach 10 km?" in (received(world, c.cora, CHECK)[-1].text or "")
    await tick(world)
    assert count(world, c.cora, CHECK) == 4

    await assert_via_outbox(world, [c.cora], CHECK)

    await found(world, c.sam)
    await at(world, t1 + 48 * HOUR)
    assert len(await events(world, code, "incident.status_check")) == 4  # none after /found
