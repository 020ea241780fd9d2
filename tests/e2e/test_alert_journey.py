"""The heart of Homeward, end to end: profile, /missing, vetting, scoped and redacted
delivery, edits that need a fresh approval, /found and pulling details back."""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot import texts
from bot.domain.membership import OrgKind, Role
from tests.e2e.conftest import Person, World, button_data
from tests.fakes.nominatim import FakeNominatim

CANARY_RISK = "CANARY_RISK_TRAFFICKING_91c2"
CANARY_ASSOCIATE = "CANARY_ASSOC_5e1d"
CANARY_MEDICAL = "CANARY_MED_33aa"
MAPLE_HOUSE = (46.4950, -80.9990)
SUDBURY = (46.49, -80.99)
TORONTO = (43.65, -79.38)


@dataclass
class Cast:
    admin: Person
    cora: Person  # coordinator in Sudbury
    sam: Person  # residence staff at Maple House
    pat: Person  # police officer in Sudbury
    rita: Person  # responder in Sudbury
    fay: Person  # responder in Toronto (out of area)
    sid: Person  # suspended responder in Sudbury
    stranger: Person


async def cast(world: World) -> Cast:
    maple = await world.org(OrgKind.RESIDENCE, "Maple House", MAPLE_HOUSE)
    team = await world.org(OrgKind.INTERVENTION_TEAM, "Sudbury Intervention Team")
    police = await world.org(OrgKind.POLICE_SERVICE, "Greater Sudbury Police")
    admin = await world.member("Alex Admin", Role.ADMIN, None, area=None)
    cora = await world.member("Cora Coordinator", Role.COORDINATOR, team, area=(*SUDBURY, 40))
    sam = await world.member("Sam Staff", Role.RESIDENCE_STAFF, maple, area=(*MAPLE_HOUSE, 5))
    pat = await world.member("Pat Police", Role.POLICE, police, area=(*SUDBURY, 20))
    rita = await world.member("Rita Responder", Role.RESPONDER, team, area=(*SUDBURY, 10))
    fay = await world.member("Fay Faraway", Role.RESPONDER, team, area=(*TORONTO, 25))
    sid = await world.member("Sid Suspended", Role.RESPONDER, team, area=(*SUDBURY, 10))
    async with world.hw.ctx.uow() as uow:
        member = await uow.members.get_by_telegram_id(sid.user_id)
        assert member is not None
        await uow.members.change_status(
            member.id,
            expected=[member.status],
            new=member.status.SUSPENDED,
            at=world.clock.now(),
            by_member_id=None,
        )
        await uow.commit()
    return Cast(admin, cora, sam, pat, rita, fay, sid, world.person("Some Stranger"))


async def add_profile(
    world: World, staff: Person, *, canaries: bool, photo: bytes | None = None
) -> None:
    await world.say(staff, "/addyouth")
    await world.answer(
        staff,
        "Jordan Alexander Smith",
        "Jay",
        "they/them",
        "2011-05-02",
        photo or "[Skip]",
        "5 ft 2, slim, short dyed-blue hair, nose ring",
        "English, Ojibwe",
        "[Skip]",
        CANARY_MEDICAL if canaries else "[Skip]",
        (46.4900, -80.9800),
        "Bus terminal",
        "[Skip]",
        f"{CANARY_ASSOCIATE}, Dee" if canaries else "[Skip]",
        CANARY_RISK if canaries else "Has run to the bus terminal before",
        "[Save profile]",
    )


async def raise_alert(world: World, staff: Person) -> str:
    reply = await world.say(staff, "/missing")
    assert "Who is missing" in (reply[-1].text or "")
    last = await world.answer(
        staff,
        "[Jay]",
        "[30 minutes ago]",
        "100 Elm Street, Sudbury",
    )
    assert "100 Elm Street, Sudbury, Ontario" in (last.text or "")
    last = await world.answer(
        staff,
        "[Yes]",
        "Black hoodie, grey joggers, red backpack",
        "Left after an argument at dinner; said she was going to see a friend downtown",
        "[Skip]",
        "[Yes]",
        "[No]",
        "[No]",
        "[Yes]",
        "[Yes]",
        "2026-123456",
    )
    assert "Check before sending" in (last.text or "")
    assert "HIGH" in (last.text or "")
    done = await world.answer(staff, "[Send to a coordinator]")
    assert "with a coordinator to vet" in (done.text or "")
    code = (done.text or "").split("Alert ")[1].split(" ")[0]
    return code


def requests_text(world: World) -> str:
    return json.dumps([c.params for c in world.emu.calls], default=str)


def alert_cards(world: World, person: Person) -> list[str]:
    return [
        m.text or m.caption or ""
        for m in world.emu.bot_messages(person.user_id)
        if "MISSING YOUTH" in (m.text or m.caption or "")
    ]


async def test_alert_reaches_the_right_people_with_only_their_fields(world: World) -> None:
    c = await cast(world)
    await add_profile(world, c.sam, canaries=True)
    code = await raise_alert(world, c.sam)

    # Vetting: the coordinator covering the point gets the card; nobody else gets anything.
    card = next(
        m for m in world.emu.bot_messages(c.cora.user_id) if "VETTING NEEDED" in (m.text or "")
    )
    assert code in (card.text or "")
    assert "HIGH" in (card.text or "")
    assert "1 police officer" in (card.text or "")
    for person in (c.pat, c.rita, c.fay):
        assert alert_cards(world, person) == []

    _, answer = await world.press(c.cora, card, "Approve and send")
    assert "approved" in answer.get("text", "")

    # Reach: in-area police, responder, residence staff and the coordinator; not Toronto,
    # not the suspended responder, not the stranger.
    for person in (c.pat, c.rita, c.sam, c.cora):
        assert len(alert_cards(world, person)) == 1, person.name
    for person in (c.fay, c.sid, c.stranger, c.admin):
        assert alert_cards(world, person) == [], person.name

    [police_card] = alert_cards(world, c.pat)
    [responder_card] = alert_cards(world, c.rita)
    assert "Jordan Alexander Smith" in police_card
    assert "Risk: HIGH" in police_card
    assert "argument at dinner" in police_card
    assert "Jay" in responder_card
    assert "Jordan" not in responder_card
    assert "Risk" not in responder_card
    assert "argument" not in responder_card
    assert "Black hoodie" in responder_card

    alert_calls = [
        c_
        for c_ in world.emu.calls
        if "MISSING YOUTH" in str(c_.params.get("text") or c_.params.get("caption"))
    ]
    assert alert_calls
    assert all(c_.params.get("protect_content") is True for c_ in alert_calls)
    recorded = requests_text(world)
    for canary in (CANARY_RISK, CANARY_ASSOCIATE, CANARY_MEDICAL):
        assert canary not in recorded

    # The staff member who raised it hears that it went out.
    assert any(
        "approved and is going to" in (m.text or "") for m in world.emu.bot_messages(c.sam.user_id)
    )


async def test_self_approval_is_refused_and_a_forged_press_changes_nothing(world: World) -> None:
    c = await cast(world)
    await add_profile(world, c.sam, canaries=False)
    # A coordinator raises an alert: the card goes to the other vetters, never to them.
    await world.say(c.cora, "/missing")
    reply = await world.answer(
        c.cora,
        "[Jay]",
        "[Just now]",
        "[I don't know where]",
        "blue coat",
        "walked out",
        "[Skip]",
        "[No]",
        "[No]",
        "[No]",
        "[No]",
        "[No]",
        "[Send to a coordinator]",
    )
    assert "with a coordinator to vet" in (reply.text or "")
    assert not any(
        "VETTING NEEDED" in (m.text or "") for m in world.emu.bot_messages(c.cora.user_id)
    )
    admin_card = next(
        m for m in world.emu.bot_messages(c.admin.user_id) if "VETTING NEEDED" in (m.text or "")
    )
    assert "No usable location" in (admin_card.text or "")
    approve = button_data(admin_card, "Approve and send")

    # The raiser replays the admin's button: refused, nothing sent.
    _, answer = await world.press_data(c.cora, admin_card, approve)
    assert answer.get("text") == texts.BUTTON_NOT_YOURS
    assert alert_cards(world, c.sam) == []

    # The admin approves: no location, so only the residence's staff are reached.
    _, answer = await world.press(c.admin, admin_card, "Approve and send")
    assert "approved" in answer.get("text", "")
    assert len(alert_cards(world, c.sam)) == 1
    for person in (c.pat, c.rita, c.cora, c.fay):
        assert alert_cards(world, person) == [], person.name


async def test_geocoder_down_or_silly_input_never_breaks_or_broadcasts(
    world: World, nominatim: FakeNominatim
) -> None:
    c = await cast(world)
    await add_profile(world, c.sam, canaries=False)
    await world.say(c.sam, "/missing")
    await world.answer(c.sam, "[Jay]", "[Just now]")
    nominatim.mode = "down"
    [down] = await world.say(c.sam, "100 Elm Street, Sudbury")
    assert "can't look addresses up right now" in (down.text or "")
    nominatim.mode = "ok"
    [unknown] = await world.say(c.sam, "Nowhere Lane 99, Atlantis")
    assert "couldn't find that address" in (unknown.text or "")
    # Only the typed address ever reached the geocoder: never names or descriptions.
    assert [r.params.get("q") for r in nominatim.requests] == [
        "100 Elm Street, Sudbury",
        "Nowhere Lane 99, Atlantis",
    ]
    # Nonsense at other steps gets the question again, kindly; nothing moves on.
    [shared] = await world.share_location(c.sam, 46.4917, -80.9930)
    assert "wearing" in (shared.text or "")
    [again] = await world.say(c.sam, "/whoami@nonsense")
    [photo_wrong] = await world.send_photo(c.sam, b"\x89PNG fake")
    assert "wasn't asking for a photo" in (photo_wrong.text or "")
    assert again.text == texts.UNKNOWN_COMMAND
    # The form survives a restart of the bot in the middle.
    await world.restart()
    last = await world.answer(
        c.sam, "grey hoodie", "left on foot", "[Skip]", "[No]", "[No]", "[No]", "[No]", "[No]"
    )
    assert "Check before sending" in (last.text or "")
    assert "Risk: Low" in (last.text or "")
    done = await world.answer(c.sam, "[Send to a coordinator]")
    assert "with a coordinator to vet" in (done.text or "")
    for person in (c.pat, c.rita, c.fay, c.stranger):
        assert alert_cards(world, person) == []


async def test_cancel_at_any_step_leaves_nothing_behind(world: World) -> None:
    c = await cast(world)
    await add_profile(world, c.sam, canaries=False)
    await world.say(c.sam, "/missing")
    await world.answer(c.sam, "[Jay]", "[Just now]")
    [cancelled] = await world.say(c.sam, "/cancel")
    assert "Cancelled" in (cancelled.text or "")
    [nothing] = await world.say(c.sam, "/cancel")
    assert "nothing to cancel" in (nothing.text or "")
    async with world.hw.ctx.uow() as uow:
        assert await uow.incidents.list() == []
    assert not any("VETTING" in (m.text or "") for m in world.emu.bot_messages(c.cora.user_id))


PHOTO = b"\x89PNG\r\n\x1a\n" + b"fictional youth photo for tests" * 10


async def test_edit_needs_new_approval_and_found_pulls_everything_back(world: World) -> None:
    c = await cast(world)
    await add_profile(world, c.sam, canaries=False, photo=PHOTO)
    code = await raise_alert(world, c.sam)
    card = next(
        m for m in world.emu.bot_messages(c.cora.user_id) if "VETTING NEEDED" in (m.text or "")
    )
    await world.press(c.cora, card, "Approve and send")
    [first] = [
        m for m in world.emu.bot_messages(c.pat.user_id) if "MISSING YOUTH" in (m.caption or "")
    ]
    assert first.photo_file_id
    assert first.protect_content
    original_photo = first.photo_file_id

    # 40 hours later the clothing changes: version 2 waits for a coordinator.
    world.clock.advance(40 * 3600)
    await world.say(c.sam, "/edit")
    done = await world.answer(c.sam, "[Clothing]", "Green rain jacket, black jeans")
    assert "version 2" in (done.text or "")
    assert "must approve" in (done.text or "")
    assert len(alert_cards(world, c.pat)) == 1  # nothing new went out
    new_card = next(
        m
        for m in reversed(world.emu.bot_messages(c.cora.user_id))
        if "VETTING NEEDED" in (m.text or "")
    )
    assert "version 2" in (new_card.text or "")
    await world.press(c.cora, new_card, "Approve and send")
    cards = alert_cards(world, c.pat)
    assert len(cards) == 2
    assert "UPDATED" in cards[1]
    assert "Green rain jacket" in cards[1]

    # Ten hours on, the youth is found: the 50-hour-old photo is neutralised (too old to
    # delete), the 10-hour-old update is deleted, and everyone is told once.
    world.clock.advance(10 * 3600)
    await world.say(c.sam, "/found")
    await world.answer(c.sam, "[Returned to the residence]")
    await world.answer(c.sam, "[Yes, close it and pull details back]")
    # (The return interview it starts is offered to Sam too: look for the reply, not last.)
    assert any(f"{code} is closed" in (m.text or "") for m in world.emu.bot_messages(c.sam.user_id))

    for person in (c.pat, c.rita, c.sam, c.cora):
        messages = world.emu.messages(person.user_id)
        alerts_left = [
            m for m in messages if not m.deleted and "MISSING YOUTH" in (m.text or m.caption or "")
        ]
        assert alerts_left == [], person.name
        notices = [m for m in messages if "Resolved:" in (m.text or "")]
        assert len(notices) == 1, person.name
    old = next(m for m in world.emu.messages(c.pat.user_id) if m.message_id == first.message_id)
    assert not old.deleted
    assert old.photo_file_id != original_photo
    assert "Details removed" in (old.caption or "")
    update = [
        m
        for m in world.emu.messages(c.pat.user_id)
        if m.from_bot and m.message_id > first.message_id and m.deleted
    ]
    assert update, "the recent update should have been deleted"
    counts = await world.hw.store.counts()
    assert counts.get("pending", 0) == 0
    async with world.hw.ctx.uow() as uow:
        actions = [e.event.action async for e in uow.timeline.iterate()]
    for step in (
        "incident.raised",
        "incident.approved",
        "incident.edited",
        "incident.resolved",
        "incident.retracted",
    ):
        assert step in actions
