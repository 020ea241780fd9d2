"""Police not told: an alert raised without a report number reminds the residence's staff
and the coordinator at the risk level's deadline, then every 30 minutes, once per firing,
across a restart, until /police records the number. Recording it changes no vetted
content: the approved alert stays approved and nothing is sent to vetting or the reach."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.incidents import IncidentStatus, content_hash, sent_fields
from bot.domain.membership import OrgKind, Role
from tests.e2e.conftest import World
from tests.e2e.test_alert_journey import TORONTO
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

REMINDER = "Police not told yet"
SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)


async def test_reminders_repeat_until_a_report_number_is_recorded(world: World) -> None:
    c = await staffed(world)
    code = await raise_alert(world, c.sam, risk="medium")
    t0 = world.clock.now()
    await approve(world, c.cora, code)
    alert_cards_for_rita = count(world, c.rita, "MISSING YOUTH")

    await at(world, t0 + 60 * MINUTE - SECOND)
    assert (count(world, c.sam, REMINDER), count(world, c.cora, REMINDER)) == (0, 0)
    await at(world, t0 + 60 * MINUTE)  # medium risk: one hour
    assert (count(world, c.sam, REMINDER), count(world, c.cora, REMINDER)) == (1, 1)
    for outsider in (c.rita, c.pat, c.admin):
        assert count(world, outsider, REMINDER) == 0, outsider.name
    [reminder] = received(world, c.sam, REMINDER)
    assert code in (reminder.text or "")
    assert "(Jay)" in (reminder.text or "")
    assert f"/police {code}" in (reminder.text or "")
    assert "Smith" not in (reminder.text or "")
    assert "Elm" not in (reminder.text or "")
    assert reminder.protect_content
    await tick(world)
    assert count(world, c.sam, REMINDER) == 1  # fired once

    await at(world, t0 + 90 * MINUTE - SECOND)
    assert count(world, c.sam, REMINDER) == 1
    await at(world, t0 + 90 * MINUTE)
    assert count(world, c.sam, REMINDER) == 2

    # Stopped across the 120-minute reminder, started at 125: it fires once, late.
    await restart_at(world, t0 + 125 * MINUTE)
    assert (count(world, c.sam, REMINDER), count(world, c.cora, REMINDER)) == (3, 3)
    await tick(world)
    assert count(world, c.sam, REMINDER) == 3
    assert [d["seq"] for _, d in await events(world, code, "incident.police_reminder")] == [1, 2, 3]

    # Bad input gets a kind answer and changes nothing.
    before = await incident(world, code)
    [usage] = await world.say(c.sam, f"/police {code}")
    assert "/police HW-ABCDE 2026-123456" in (usage.text or "")
    [bad] = await world.say(c.sam, f"/police {code} <b>12</b>")
    assert "only letters, digits" in (bad.text or "")
    [long] = await world.say(c.sam, f"/police {code} {'9' * 41}")
    assert "at most 40 characters" in (long.text or "")
    [unknown] = await world.say(c.sam, "/police HW-ZZZZZ 123")
    assert "couldn't find" in (unknown.text or "")
    assert await incident(world, code) == before
    assert await events(world, code, "incident.police_report_recorded") == []

    # Sam records it (code in any case, with or without HW-).
    [done] = await world.say(c.sam, f"/police {code.lower()} 2026-555 #A/1")
    assert "Recorded: police report 2026-555 #A/1" in (done.text or "")
    assert count(world, c.cora, f"Police report number recorded for {code}") == 1
    assert count(world, c.sam, "Police report number recorded") == 0  # Sam did it
    after = await incident(world, code)
    assert after.police_report_number == "2026-555 #A/1"
    assert after.police_told
    assert after.status is IncidentStatus.ACTIVE
    assert after.version == before.version
    assert after.approval_current
    assert after.content_hash == before.content_hash == content_hash(sent_fields(after))
    assert count(world, c.rita, "MISSING YOUTH") == alert_cards_for_rita  # nothing re-sent
    assert count(world, c.cora, "VETTING NEEDED") == 0  # and nothing back to vetting
    [(_, recorded)] = await events(world, code, "incident.police_report_recorded")
    assert recorded["report_number"] == "2026-555 #A/1"
    [same] = await world.say(c.sam, f"/police {code} 2026-555 #A/1")
    assert "already recorded" in (same.text or "")

    await at(world, t0 + timedelta(hours=6))
    assert (count(world, c.sam, REMINDER), count(world, c.cora, REMINDER)) == (3, 3)
    assert await assert_via_outbox(world, [c.sam, c.cora], REMINDER) == 6


async def test_high_risk_reminds_at_once_the_deadline_follows_the_risk_and_rejection_stops_it(
    world: World,
) -> None:
    c = await staffed(world)
    code = await raise_alert(world, c.sam, risk="low")  # four hours
    t0 = world.clock.now()
    await at(world, t0 + MINUTE)
    # Not yet approved: every active coordinator hears (Cora), with the residence.
    _, answer = await world.press(c.cora, vet_card(world, c.cora, code), "Risk: low ▸")
    assert "updated" in answer.get("text", "")
    await at(world, t0 + 60 * MINUTE - SECOND)  # medium now: one hour
    assert count(world, c.sam, REMINDER) == 0
    await at(world, t0 + 60 * MINUTE)
    assert (count(world, c.sam, REMINDER), count(world, c.cora, REMINDER)) == (1, 1)

    other = await raise_alert(world, c.sam, risk="high")
    await tick(world)  # high: at once
    assert count(world, c.sam, f"{REMINDER}: {other}") == 1

    _, answer = await world.press(c.cora, vet_card(world, c.cora, code), "Reject")
    [reasons] = received(world, c.cora, "not being sent")
    await world.press(c.cora, reasons, "Duplicate of another alert")
    await at(world, t0 + 3 * 60 * MINUTE)
    assert count(world, c.sam, f"{REMINDER}: {code}") == 1  # rejected: no more
    assert count(world, c.sam, f"{REMINDER}: {other}") == 2  # the other goes on, once late


async def test_who_may_record_a_report_number_and_who_may_correct_it(world: World) -> None:
    c = await staffed(world)
    far_police = await world.org(OrgKind.POLICE_SERVICE, "Toronto Police")
    tim = await world.member("Tim Toronto", Role.POLICE, far_police, area=(*TORONTO, 20))
    code = await raise_alert(world, c.sam, risk="medium")
    await approve(world, c.cora, code)
    unknown = (await world.say(tim, "/police HW-ZZZZZ 1"))[0].text

    # An officer the alert never reached gets the same answer as for an unknown code.
    [far] = await world.say(tim, f"/police {code} 2026-1")
    assert far.text == unknown
    assert (await incident(world, code)).police_report_number is None

    # The officer it reached records it; residence staff cannot overwrite it.
    [done] = await world.say(c.pat, f"/police {code} 2026-777")
    assert "Recorded: police report 2026-777" in (done.text or "")
    [refused] = await world.say(c.sam, f"/police {code} 2026-778")
    assert "already has police report 2026-777" in (refused.text or "")
    assert (await incident(world, code)).police_report_number == "2026-777"

    # A coordinator can correct it.
    [fixed] = await world.say(c.cora, f"/police {code} 2026-778")
    assert "Recorded: police report 2026-778" in (fixed.text or "")
    assert (await incident(world, code)).police_report_number == "2026-778"

    # A closed alert is not open to it any more.
    await found(world, c.sam)
    [closed] = await world.say(c.cora, f"/police {code} 2026-779")
    assert closed.text == unknown
