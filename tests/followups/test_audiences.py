"""Who hears about an incident's follow-ups, and who reads its updates on the page:
never a coordinator far away before approval, never another residence's staff."""

from __future__ import annotations

from bot.domain.membership import OrgKind, Role
from tests.e2e.conftest import World
from tests.e2e.test_alert_journey import TORONTO
from tests.followups.helpers import approve, raise_alert, received, staffed, tick


async def test_a_police_reminder_before_approval_goes_to_the_local_vetters(world: World) -> None:
    c = await staffed(world)
    far_team = await world.org(OrgKind.INTERVENTION_TEAM, "Toronto Team")
    tom = await world.member("Tom Toronto", Role.COORDINATOR, far_team, area=(*TORONTO, 20))
    await raise_alert(world, c.sam, risk="high")  # no report number: reminded at once
    await tick(world)
    assert len(received(world, c.cora, "Police not told")) == 1
    assert received(world, tom, "Police not told") == []
    assert received(world, tom, "VETTING NEEDED") == []  # he was never asked to vet it


async def test_another_residences_staff_see_only_confirmed_sightings_on_the_page(
    world: World,
) -> None:
    c = await staffed(world)
    oak = await world.org(OrgKind.RESIDENCE, "Oak House", (46.50, -80.98))
    olive = await world.member("Olive Oak", Role.RESIDENCE_STAFF, oak, area=(46.50, -80.98, 5))
    code = await raise_alert(world, c.sam, risk="high", report="2026-1")
    await approve(world, c.cora, code)
    await world.say(c.rita, f"/update {code} She said she'd be at CANARY_FLAT")
    await world.say(c.rita, "skip")
    await world.say(c.rita, "skip")
    await world.press(c.rita, world.emu.bot_messages(c.rita.user_id)[-1], "Post the update")
    assert received(world, olive, "CANARY_FLAT") == []  # it was not sent to her

    [olive_page] = await world.say(olive, f"/incident {code}")
    assert f"Incident {code}" in (olive_page.text or "")
    assert "CANARY_FLAT" not in (olive_page.text or "")
    [cora_page] = await world.say(c.cora, f"/incident {code}")
    assert "CANARY_FLAT" in (cora_page.text or "")
    [sam_page] = await world.say(c.sam, f"/incident {code}")  # the youth's own residence
    assert "CANARY_FLAT" in (sam_page.text or "")
