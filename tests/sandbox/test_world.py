"""The seeded sandbox world is exactly the one described, fictional, local and complete:
counts per role, areas in two towns, youth with photos the bot can fetch, a stranger
who is not a member, the persona registry for the web chat; ``--empty`` is only the admin."""

from __future__ import annotations

from collections import Counter
from datetime import date

from bot.clock import FakeClock
from bot.domain.geo import haversine_coords
from bot.domain.incidents import age_on
from bot.domain.membership import MemberStatus, OrgKind, Role
from bot.sandbox import Sandbox
from bot.sandbox_avatar import avatar_png, encode_png
from bot.sandbox_world import PERSONA_KEYS, PLACES, birthday
from bot.services import history


async def test_the_seeded_world_is_the_described_one(sandbox: Sandbox, clock: FakeClock) -> None:
    ctx = sandbox.homeward.ctx
    async with ctx.uow() as uow:
        members = await uow.members.list()
        orgs = {o.id: o for o in await uow.organisations.list()}
        youth = await uow.youth.list_all()
        stranger = await uow.members.get_by_telegram_id(sandbox.world.person("stranger").user_id)
        events = [e.event.action async for e in uow.timeline.iterate()]

    assert Counter(o.kind for o in orgs.values()) == Counter(OrgKind)  # one of each kind
    assert Counter(m.role for m in members) == {
        Role.RESIDENCE_STAFF: 2,
        Role.COORDINATOR: 1,
        Role.POLICE: 1,
        Role.CHILD_PROTECTION: 1,
        Role.RESPONDER: 2,
        Role.ADMIN: 1,
    }
    assert all(m.status is MemberStatus.ACTIVE for m in members)
    assert stranger is None
    assert sandbox.emulator.get_user(sandbox.world.person("stranger").user_id)

    by_key = {
        key: next(m for m in members if m.telegram_id == person.user_id)
        for key, person in sandbox.world.people.items()
        if key != "stranger"
    }
    for key in ("police", "cpw", "coordinator"):
        assert orgs[by_key[key].org_id].kind is OrgKind.INTERVENTION_TEAM, key
    residence = next(o for o in orgs.values() if o.kind is OrgKind.RESIDENCE)
    assert residence.latitude is not None
    assert residence.address
    assert by_key["staff1"].org_id == by_key["staff2"].org_id == residence.id
    for key, member in by_key.items():
        if key == "admin":
            assert member.area.is_empty
        else:
            assert member.area.has_point, key
    sudbury, espanola = by_key["outreach_sudbury"].area, by_key["outreach_espanola"].area
    apart = haversine_coords(
        sudbury.latitude,
        sudbury.longitude,
        espanola.latitude,
        espanola.longitude,
    )
    assert 30 <= apart <= 80
    # Their areas do not meet: an alert in one town is not the other town's business.
    assert apart > sudbury.radius_km + espanola.radius_km

    assert len(youth) == 2
    today = clock.now().date()
    for y in youth:
        assert y.residence_org_id == residence.id
        assert 14 <= (age_on(y.date_of_birth, today) or 0) <= 16
        assert y.preferred_name
        assert y.pronouns
        assert y.description
        assert y.languages
        assert len(y.places) >= 3
        assert all(p.name in PLACES for p in y.places)
        assert "FICTIONAL" in (y.risk_notes or "")
        assert y.associates
        assert all("FICTIONAL" in a for a in y.associates)
        # The photo is a real file on the (emulated) Telegram servers: the bot fetches it.
        assert y.photo_file_id is not None
        file = await sandbox.homeward.application.bot.get_file(y.photo_file_id)
        data = bytes(await file.download_as_bytearray())
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        assert data == sandbox.world.youth[y.preferred_name].photo
    assert len({y.photo_file_id for y in youth}) == 2

    # Every seeded thing is on the timeline, and the chain holds.
    counted = Counter(events)
    assert counted["org.created"] == 5
    assert counted["member.seeded"] == 7
    assert counted["member.admin_added"] == 1
    assert counted["youth.created"] == 2
    checked, problems = await history.verify(ctx)
    assert checked == len(events)
    assert problems == []

    # Nothing leaves the machine.
    settings = sandbox.homeward.settings
    assert settings.geocoding.enabled is False
    assert settings.telegram.base_url.startswith("http://127.0.0.1:")


async def test_the_persona_registry_describes_the_cast_and_places(sandbox: Sandbox) -> None:
    registry = sandbox.emulator.personas
    ordered = registry.ordered()
    assert [p.user_id for p in ordered] == [
        sandbox.world.person(key).user_id for key in PERSONA_KEYS
    ]
    roles = [p.role for p in ordered]
    assert roles == [
        "residence_staff",
        "residence_staff",
        "coordinator",
        "police",
        "child_protection",
        "responder",
        "responder",
        "stranger",
        "admin",
    ]
    espanola = registry.people[sandbox.world.person("outreach_espanola").user_id]
    assert "Espanola" in espanola.label
    assert "Aiyana" in espanola.label
    assert espanola.area is not None
    assert espanola.area.radius_km > 0
    assert registry.people[sandbox.world.person("stranger").user_id].area is None
    names = [p.name for p in registry.places]
    assert "Maple House" in names
    assert "Bus terminal (downtown Sudbury)" in names
    assert len(names) == len(set(names)) == len(PLACES)

    banner = sandbox.banner()
    assert banner.splitlines()[1].split()[2] == sandbox.emulator.chat_url  # the web chat first
    for key, person in sandbox.world.people.items():
        assert key in banner
        assert str(person.user_id) in banner


async def test_an_empty_sandbox_has_only_the_admin(empty_sandbox: Sandbox) -> None:
    async with empty_sandbox.homeward.ctx.uow() as uow:
        members = await uow.members.list()
        assert await uow.organisations.list() == []
        assert await uow.youth.list_all() == []
    assert [(m.role, m.telegram_id) for m in members] == [(Role.ADMIN, empty_sandbox.admin_user_id)]
    assert list(empty_sandbox.world.people) == ["admin"]
    assert [p.role for p in empty_sandbox.emulator.personas.ordered()] == ["admin"]
    assert str(empty_sandbox.admin_user_id) in empty_sandbox.banner()


def test_avatars_are_valid_distinct_pngs_and_birthdays_give_the_age() -> None:
    first, second = avatar_png(0), avatar_png(1)
    assert first != second
    assert first == avatar_png(0)
    assert first[12:16] == b"IHDR"
    assert int.from_bytes(first[16:20], "big") == 160
    assert encode_png(1, 1, [b"\x01\x02\x03"]).endswith(b"IEND\xaeB`\x82")
    for today in (date(2026, 3, 6), date(2028, 2, 29), date(2026, 1, 1)):
        for age in (14, 15, 16):
            for days_ago in (0, 120, 250):
                born = birthday(today, age=age, days_ago=days_ago)
                assert age_on(born, today) == age, (today, age, days_ago)
