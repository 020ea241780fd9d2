"""Confirmed sightings: the incident's point moves (a vetted change), the people near the new
point and only they are told, the alert reaches whoever it now covers, stale and foreign
presses change nothing, and /found pulls every update and sighting back."""

from __future__ import annotations

import dataclasses

import pytest

from bot import texts
from bot.domain.errors import NotAllowed
from bot.domain.incidents import IncidentStatus, LocationSource
from bot.domain.membership import Role
from bot.emulator import EmuMessage
from bot.services import updates
from tests.e2e.conftest import Person, World, button_data
from tests.tasks.helpers import incident, member_id
from tests.updates.helpers import (
    NORTH_BAY,
    actions,
    alert_card,
    chats,
    ok_calls,
    placed_alert,
    reply_to,
    updates_of,
    with_text,
)

SUDBURY_MALL = (46.4950, -80.9700)


def update_copy(world: World, person: Person, update_id: int) -> EmuMessage:
    [card] = [
        m
        for m in world.emu.bot_messages(person.user_id)
        if f"UPDATE #{update_id} " in (m.text or m.caption or "")
    ]
    return card


def cards_of(world: World, person: Person) -> list[str]:
    return with_text(world, person, "MISSING YOUTH")


async def test_a_confirmed_sighting_moves_the_alert_and_reaches_the_people_near_it(
    world: World,
) -> None:
    p = await placed_alert(world)
    c = p.s.c
    before = await incident(world, p.code)
    assert before.approval_current

    # Rita (responder, Sudbury) replies to her alert with where she saw the youth.
    await reply_to(world, c.rita, alert_card(world, c.rita), location=NORTH_BAY)
    [update] = await updates_of(world, p.code)
    cora_copy = update_copy(world, c.cora, update.id)
    pins_before = len(ok_calls(world, "sendLocation"))
    _, answer = await world.press(c.cora, cora_copy, "Confirm sighting")
    assert answer.get("text", "").startswith(f"Confirmed. {p.code} now shows this as last seen")
    assert "also reaches 2 more" in answer.get("text", "")

    # The incident moved, as a new version whose approval is current and is Cora's.
    moved = await incident(world, p.code)
    cora_id = await member_id(world, c.cora)
    assert (moved.latitude, moved.longitude) == NORTH_BAY
    assert moved.location_source is LocationSource.SIGHTING
    assert moved.last_seen_at == update.created_at
    assert moved.version == before.version + 1
    assert moved.approval_current
    assert moved.approved_by == cora_id
    assert moved.content_hash != before.content_hash
    assert moved.status is IncidentStatus.ACTIVE
    [confirmed] = await updates_of(world, p.code)
    assert confirmed.confirmed_by == cora_id
    assert confirmed.confirmed_at is not None
    assert "incident.sighting_confirmed" in await actions(world, moved)

    # "Confirmed sighting" (with its map) reaches Nina (her area covers the point), the
    # task holder and the poster; not Ned (near, but not covering it), nor anyone in
    # Sudbury, Toronto, suspended or unknown, nor the coordinator who confirmed it.
    told = {p.nina.user_id, c.pat.user_id, c.rita.user_id}
    for person in (p.nina, c.pat, c.rita):
        assert len(with_text(world, person, f"CONFIRMED SIGHTING: {p.code}")) == 1, person.name
    for person in (c.cora, p.ned, c.sam, c.fay, c.sid, c.stranger, c.admin):
        assert with_text(world, person, "CONFIRMED SIGHTING") == [], person.name
    pins = ok_calls(world, "sendLocation")[pins_before:]
    # ...and Ned's pin is the alert's own last-seen point, which reaches him now (below).
    assert chats(pins) == told | {p.ned.user_id}
    assert all(x.params.get("protect_content") is True for x in pins)
    notice = with_text(world, p.nina, "CONFIRMED SIGHTING")[0]
    assert "Rita Responder (responder)" in notice
    assert "Cora Coordinator" in notice

    # The alert itself now reaches Nina and Ned, whom it never reached, each with their
    # role's fields; nobody gets it twice; Toronto still gets nothing.
    [ned_card] = cards_of(world, p.ned)
    [nina_card] = cards_of(world, p.nina)
    assert "Jordan Alexander Smith" in ned_card
    assert "Jordan" not in nina_card
    assert "Jay" in nina_card
    for person in (c.rita, c.pat, c.sam, c.cora):
        assert len(cards_of(world, person)) == 1, person.name
    assert cards_of(world, c.fay) == []

    # Pressing again, or someone else pressing Cora's button: nothing changes.
    _, again = await world.press(c.cora, cora_copy, "Confirm sighting")
    assert again.get("text") == "Already confirmed by Cora Coordinator. Nothing was changed."
    _, foreign = await world.press_data(
        c.rita, cora_copy, button_data(cora_copy, "Confirm sighting")
    )
    assert foreign.get("text") == texts.BUTTON_NOT_YOURS
    assert (await incident(world, p.code)).version == moved.version

    # Pat posts another place (the mall in Sudbury); then the youth is found.
    await reply_to(world, c.pat, alert_card(world, c.pat), location=SUDBURY_MALL)
    later = (await updates_of(world, p.code))[0]
    assert later.id != update.id
    stale_copy = update_copy(world, c.cora, later.id)

    # /incident shows the story: the coordinator every update, the sighting marked; an
    # outreach responder only the confirmed sighting (the other went to the people near it).
    [cora_page] = await world.say(c.cora, f"/incident {p.code}")
    latest = (cora_page.text or "").split("Latest updates")[1]
    assert "Pat Police (police officer): (at 46.49500, -80.97000)" in latest
    assert "Rita Responder (responder): CONFIRMED SIGHTING (at 46.30910, -79.46080)" in latest
    [nina_page] = await world.say(p.nina, f"/incident {p.code}")
    latest = (nina_page.text or "").split("Latest updates")[1]
    assert "Rita Responder (responder): CONFIRMED SIGHTING (at 46.30910, -79.46080)" in latest
    assert "Pat Police" not in latest
    await world.say(c.sam, "/found")
    await world.answer(c.sam, "[Returned to the residence]")
    await world.answer(c.sam, "[Yes, close it and pull details back]")
    # (The return interview /found starts is offered to Sam too: look for the reply.)
    assert any(
        f"{p.code} is closed" in (m.text or "") for m in world.emu.bot_messages(c.sam.user_id)
    )

    # /found pulled back every update, sighting and map, and the alerts the move sent.
    for person in (c.cora, c.pat, c.rita, p.nina, p.ned):
        left = [
            m
            for m in world.emu.messages(person.user_id)
            if m.from_bot
            and not m.deleted
            and (
                m.location is not None
                or any(
                    f in (m.text or m.caption or "")
                    for f in ("UPDATE #", "CONFIRMED SIGHTING", "MISSING YOUTH")
                )
            )
        ]
        assert left == [], (person.name, [m.text or m.caption or m.location for m in left])
        assert len(with_text(world, person, f"Resolved: {p.code}")) == 1, person.name
    assert with_text(world, p.nina, "CONFIRMED SIGHTING", deleted=True)
    assert (await world.hw.store.counts()).get("pending", 0) == 0

    # A stale Confirm after /found: a polite answer, and the point stays where it was.
    _, stale = await world.press(c.cora, stale_copy, "Confirm sighting")
    assert stale.get("text") == f"{p.code} is closed. Nothing was changed."
    after = await incident(world, p.code)
    assert (after.latitude, after.longitude) == NORTH_BAY
    assert (await updates_of(world, p.code))[0].confirmed_at is None

    # Replying to the "resolved" notice: the alert takes no more updates.
    resolved = next(
        m for m in world.emu.bot_messages(c.rita.user_id) if "Resolved:" in (m.text or "")
    )
    [refused] = await reply_to(world, c.rita, resolved, text="I saw her again")
    assert f"{p.code}</b> is closed" in (refused.raw_text or "")
    assert len(await updates_of(world, p.code)) == 2


async def test_only_another_coordinator_than_the_poster_and_the_raiser_may_confirm(
    world: World,
) -> None:
    p = await placed_alert(world, task_for_pat=False)
    c = p.s.c
    # Cora posts a place herself: her own update never comes back to her, and nobody
    # else who receives it is a coordinator, so there is no Confirm button anywhere.
    [done] = await reply_to(world, c.cora, alert_card(world, c.cora), location=NORTH_BAY)
    assert "going to 1 person" in (done.text or "")
    [own] = await updates_of(world, p.code)
    assert with_text(world, c.cora, "UPDATE #") == []
    [nina_copy] = with_text(world, p.nina, f"UPDATE #{own.id} ")
    assert "Cora Coordinator (coordinator)" in nina_copy
    assert "Confirm sighting" not in str(update_copy(world, p.nina, own.id).reply_markup)

    async with world.hw.ctx.uow() as uow:
        cora = await uow.members.get_by_telegram_id(c.cora.user_id)
        sam = await uow.members.get_by_telegram_id(c.sam.user_id)
        rita = await uow.members.get_by_telegram_id(c.rita.user_id)
        assert cora is not None
        assert sam is not None
        assert rita is not None
        payload = {"update": own.id}
        with pytest.raises(NotAllowed, match="you posted this update"):
            await updates.confirm_sighting(uow, world.hw.ctx, actor=cora, payload=payload)
        with pytest.raises(NotAllowed, match="only coordinators"):
            await updates.confirm_sighting(uow, world.hw.ctx, actor=rita, payload=payload)
        # Had the person who raised the alert been a coordinator, they could not confirm
        # either: a sighting re-approves the alert, and nobody approves their own alert.
        raiser = dataclasses.replace(sam, role=Role.COORDINATOR)
        with pytest.raises(NotAllowed, match="you raised this alert"):
            await updates.confirm_sighting(uow, world.hw.ctx, actor=raiser, payload=payload)
        inc = await uow.incidents.get_by_code(p.code)
        assert inc is not None
        assert not await uow.incidents.move_to_sighting(
            inc.id,
            expected_version=inc.version,
            fields={"latitude": 1.0, "longitude": 1.0},
            content_hash="x",
            by_member_id=sam.id,
            at=world.clock.now(),
        )
    unchanged = await incident(world, p.code)
    assert unchanged.version == 1
    assert (await updates_of(world, p.code))[0].confirmed_at is None
