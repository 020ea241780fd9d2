"""Posting updates: the /update form and replies to the alert, who receives them (and who
never does), and every way an update is refused without anything being stored."""

from __future__ import annotations

from bot import texts
from bot.domain.incidents import IncidentStatus
from tests.e2e.conftest import World
from tests.fakes.nominatim import FakeNominatim
from tests.tasks.helpers import incident, member_id
from tests.updates.helpers import (
    NORTH_BAY,
    NORTH_BAY_ADDRESS,
    NORTH_BAY_LABEL,
    actions,
    alert_card,
    chats,
    ok_calls,
    placed_alert,
    reply_to,
    updates_of,
    with_text,
)

PHOTO = b"\x89PNG\r\n\x1a\n" + b"a photo taken at the bus station" * 8


async def test_update_form_reaches_coordinators_task_holders_and_people_near_the_place(
    world: World, nominatim: FakeNominatim
) -> None:
    nominatim.add(NORTH_BAY_ADDRESS, *NORTH_BAY, NORTH_BAY_LABEL)
    p = await placed_alert(world)
    c = p.s.c

    # Rita takes part in exactly one alert, so /update goes straight to the questions.
    [question] = await world.say(c.rita, "/update")
    assert "What did you see" in (question.text or "")
    await world.answer(c.rita, "Saw <b>her</b> at the bus station & she got on the 5 pm bus")
    [found] = await world.say(c.rita, NORTH_BAY_ADDRESS)
    assert NORTH_BAY_LABEL in (found.text or "")
    await world.answer(c.rita, "[Yes]", PHOTO)
    review = world.emu.bot_messages(c.rita.user_id)[-1]
    assert "Check before posting" in (review.text or "")
    assert "Photo: yes" in (review.text or "")
    done = await world.answer(c.rita, "[Post the update]")
    assert f"posted to {p.code} and is going to 3 people" in (done.text or ""), done.text

    # The coordinator, the task holder (Pat) and Nina, whose own area covers North Bay.
    # Not Ned (near, but his area does not cover the place), not the poster, nobody far
    # away, suspended or unknown, not the residence staff.
    receivers = {c.cora.user_id, c.pat.user_id, p.nina.user_id}
    photos = [x for x in ok_calls(world, "sendPhoto") if "UPDATE #" in str(x.params["caption"])]
    venues = [x for x in ok_calls(world, "sendVenue") if "Update #" in x.params["title"]]
    assert chats(photos) == receivers
    assert chats(venues) == receivers
    assert len(photos) == len(venues) == 3
    for call in (*photos, *venues):
        assert call.params.get("protect_content") is True
    [update] = await updates_of(world, p.code)
    assert venues[0].params["title"] == f"Update #{update.id} on {p.code}"
    assert venues[0].params["address"] == NORTH_BAY_LABEL
    for person in (c.rita, p.ned, c.fay, c.sid, c.stranger, c.sam, c.admin):
        assert with_text(world, person, "UPDATE #") == [], person.name

    # The text names the poster, their role, the code and the time; typed HTML is escaped;
    # the map follows the update in each chat; only the coordinator's copy can confirm.
    for person in (c.cora, c.pat, p.nina):
        messages = world.emu.bot_messages(person.user_id)
        index = next(i for i, m in enumerate(messages) if "UPDATE #" in (m.caption or ""))
        card, pin = messages[index], messages[index + 1]
        assert "Rita Responder (responder)" in (card.caption or "")
        assert "Saw <b>her</b> at the bus station" in (card.caption or "")
        assert "&lt;b&gt;her&lt;/b&gt;" in (card.raw_caption or "")
        assert "Fri 06 Mar" in (card.caption or "")
        assert card.protect_content
        assert pin.protect_content
        assert pin.venue is not None
        assert pin.location == NORTH_BAY
        labels = [
            b["text"] for row in (card.reply_markup or {}).get("inline_keyboard", []) for b in row
        ]
        assert labels == (["Confirm sighting"] if person is c.cora else []), person.name

    # Stored as posted, recorded with who it reached (and no content in the timeline).
    assert (update.text or "").startswith("Saw <b>her</b>")
    assert (update.latitude, update.longitude) == NORTH_BAY
    assert update.location_label == NORTH_BAY_LABEL
    assert update.photo_file_id is not None
    assert update.member_id == await member_id(world, c.rita)
    async with world.hw.ctx.uow() as uow:
        events = await uow.timeline.list_for_subject("incident_update", str(update.id))
    [posted] = [e.event for e in events]
    assert posted.action == "update.posted"
    assert sorted(posted.details["recipients"]) == sorted(
        [await member_id(world, x) for x in (c.cora, c.pat, p.nina)]
    )
    assert "bus station" not in str(posted.details)


async def test_replies_post_to_the_alert_they_answer_and_everything_else_is_refused(
    world: World,
) -> None:
    p = await placed_alert(world, task_for_pat=False)
    c = p.s.c
    card = alert_card(world, c.rita)

    # A shared location in reply to the alert: an update with a map (a plain location,
    # as it has no name) for the coordinator and the people whose area covers it.
    [done] = await reply_to(world, c.rita, card, location=NORTH_BAY)
    assert f"posted to {p.code}" in (done.text or "")
    pins = ok_calls(world, "sendLocation")
    assert chats(pins) == {c.cora.user_id, p.nina.user_id}
    assert all(x.params.get("protect_content") is True for x in pins)
    # A text reply: no place, so only the coordinator (no task holders yet).
    [done] = await reply_to(world, c.rita, card, text="She just left on foot, heading north")
    assert "going to 1 person" in (done.text or "")
    assert len(with_text(world, c.cora, "heading north")) == 1
    assert with_text(world, p.nina, "heading north") == []
    stored = await updates_of(world, p.code)
    assert len(stored) == 2

    # A reply that names another incident than the one it answers: refused, nothing kept.
    [wrong] = await reply_to(world, c.rita, card, text="/update HW-ZZZZZ seen her")
    assert f"This is about {p.code}, but your update names HW-ZZZZZ" in (wrong.text or "")
    assert "Nothing was posted" in (wrong.text or "")
    [wrong] = await reply_to(world, c.rita, card, text="Same kid as in HW-QQQQQ, at the mall")
    assert "names HW-QQQQQ" in (wrong.text or "")
    # /update with this alert's own code in a reply is fine.
    [fine] = await reply_to(world, c.rita, card, text=f"/update {p.code} at the mall now")
    assert f"posted to {p.code}" in (fine.text or "")
    assert len(await updates_of(world, p.code)) == 3

    # A member not taking part (Fay is in Toronto) is told clearly, in the same words as
    # for a code that does not exist; a stranger learns nothing; nothing is left behind.
    [refused] = await world.say(c.fay, f"/update {p.code} I saw her")
    assert f"no active alert {p.code} that you are taking part in" in (refused.text or "")
    [ghost] = await world.say(c.fay, "/update HW-ZZZZZ I saw her")
    assert (ghost.text or "").replace("HW-ZZZZZ", p.code) == refused.text
    [generic] = await world.say(c.stranger, f"/update {p.code} I saw her")
    assert generic.text == texts.GENERIC
    [unknown] = await world.say(c.rita, "/update HW-ZZZZZ seen")
    assert "no active alert HW-ZZZZZ" in (unknown.text or "")
    assert len(await updates_of(world, p.code)) == 3
    inc = await incident(world, p.code)
    async with world.hw.ctx.uow() as uow:
        refusals = [
            e.event async for e in uow.timeline.iterate() if e.event.action == "update.refused"
        ]
    assert sorted(e.details["reason"] for e in refusals) == [
        "not_taking_part",
        "wrong_incident",
        "wrong_incident",
    ]
    assert all(e.incident_id == inc.id for e in refusals)
    assert "I saw her" not in str([e.details for e in refusals])
    assert "mall" not in str([e.details for e in refusals])

    # A reply to a bot message that is not about an incident is an ordinary message.
    [help_text] = await world.say(c.rita, "/help")
    [plain] = await reply_to(world, c.rita, help_text, text="thanks")
    assert plain.text == texts.UNKNOWN_COMMAND

    # /update CODE and a few words: the form starts with them and asks for the place.
    [where] = await world.say(c.rita, f"/update {p.code} Seen at the arena")
    assert "Where was it" in (where.text or "")
    await world.say(c.rita, "/cancel")

    # With a form in progress, a reply answers the form first.
    await world.say(c.rita, "/update")
    [next_question] = await reply_to(world, c.rita, card, text="Seen near the library")
    assert "Where was it" in (next_question.text or "")
    assert len(await updates_of(world, p.code)) == 3
    await world.say(c.rita, "/cancel")

    # Sam (residence staff) takes part in two alerts: /update asks which one. A pending
    # alert takes no updates yet.
    sam_id = await member_id(world, c.sam)
    async with world.hw.ctx.uow() as uow:
        second = await uow.incidents.add(
            fields={
                **{k: getattr(inc, k) for k in ("residence_org_id", "youth_id", "content_hash")},
                "code": "HW-SECND",
                "status": IncidentStatus.ACTIVE,
                "raised_by": sam_id,
                "created_at": world.clock.now(),
                "version": 1,
                "approved_version": 1,
                "approved_hash": inc.content_hash,
            }
        )
        await uow.incidents.add(
            fields={
                "residence_org_id": inc.residence_org_id,
                "code": "HW-PENDG",
                "status": IncidentStatus.PENDING,
                "raised_by": sam_id,
                "created_at": world.clock.now(),
                "version": 1,
                "content_hash": "x",
            }
        )
        await uow.commit()
    [which] = await world.say(c.sam, "/update")
    assert "Which alert" in (which.text or "")
    await world.press(c.sam, which, "HW-SECND")
    await world.answer(c.sam, "Her friend says she is at the arena", "[Skip]", "[Skip]")
    done = await world.answer(c.sam, "[Post the update]")
    assert "posted to HW-SECND" in (done.text or "")
    async with world.hw.ctx.uow() as uow:
        [on_second] = await uow.incident_updates.latest_for_incident(second.id)
    assert on_second.text == "Her friend says she is at the arena"
    [pending] = await world.say(c.sam, "/update HW-PENDG")
    assert "waiting for a coordinator's approval" in (pending.text or "")
    assert "update.posted" in await actions(world, inc)
