"""/incidents and /incident end to end: who sees which incident and which fields, what is
recorded, the same answer for unknown and foreign codes, the list's buttons, and what
happens when the youth is found."""

from __future__ import annotations

from bot import texts, texts_incidents
from bot.domain.membership import OrgKind, Role, ServiceArea
from bot.emulator import EmuMessage
from bot.services import incident_views
from tests.e2e.conftest import Person, World, button_data
from tests.e2e.test_alert_journey import (
    CANARY_ASSOCIATE,
    CANARY_MEDICAL,
    CANARY_RISK,
    SUDBURY,
    TORONTO,
    Cast,
    add_profile,
    cast,
    raise_alert,
    requests_text,
)
from tests.tasks.helpers import add_templates, announcement, incident, member_id

BUS = "Check Bus terminal"


def alert_card(world: World, person: Person) -> EmuMessage:
    return next(
        m
        for m in world.emu.bot_messages(person.user_id)
        if "MISSING YOUTH" in (m.text or m.caption or "")
    )


async def approve(world: World, c: Cast) -> None:
    card = next(
        m for m in world.emu.bot_messages(c.cora.user_id) if "VETTING NEEDED" in (m.text or "")
    )
    _, answer = await world.press(c.cora, card, "Approve and send")
    assert "approved" in answer.get("text", "")


async def one(world: World, person: Person, command: str) -> EmuMessage:
    replies = await world.say(person, command)
    assert len(replies) == 1, (person.name, [m.text for m in replies])
    return replies[0]


async def viewed(world: World, code: str) -> list[tuple[int | None, str, list[str], str]]:
    """Each recorded view of the incident's youth: (actor, action, fields, purpose)."""
    inc = await incident(world, code)
    assert inc.youth_id is not None
    async with world.hw.ctx.uow() as uow:
        events = await uow.timeline.list_for_subject("youth", str(inc.youth_id))
    return [
        (
            e.event.actor_member_id,
            e.event.action,
            e.event.details["fields"],
            e.event.details["purpose"],
        )
        for e in events
        if e.event.action == "youth.viewed" and e.event.incident_id == inc.id
    ]


async def test_each_role_sees_its_incidents_and_fields_and_every_view_is_recorded(
    world: World,
) -> None:
    c = await cast(world)
    pine = await world.org(OrgKind.RESIDENCE, "Pine House", TORONTO)
    birch = await world.org(OrgKind.RESIDENCE, "Birch House", SUDBURY)
    olive = await world.member("Olive Other", Role.RESIDENCE_STAFF, pine, area=(*TORONTO, 5))
    nora = await world.member("Nora Nearby", Role.RESIDENCE_STAFF, birch, area=(*SUDBURY, 5))
    await add_profile(world, c.sam, canaries=True)
    code = await raise_alert(world, c.sam)
    unknown = texts_incidents.not_visible("HW-ZZZZZ")

    # Pending: coordinators, administrators and the raising residence only.
    for person in (c.cora, c.admin, c.sam):
        listed = await one(world, person, "/incidents")
        assert code in (listed.text or ""), person.name
        assert "waiting for a coordinator" in (listed.text or "")
        assert listed.protect_content
    for person in (c.pat, c.rita, c.fay, olive, nora):
        assert (await one(world, person, "/incidents")).text == texts_incidents.NO_INCIDENTS
        assert (await one(world, person, f"/incident {code}")).text == (
            texts_incidents.not_visible(code)
        ), person.name
        assert (await one(world, person, "/incident HW-ZZZZZ")).text == unknown

    await approve(world, c)
    world.clock.advance(2 * 3600)

    # Active: those it reaches (police, responder and nearby staff in the area), still the
    # residence and coordinators; never the out-of-area responder or the far residence.
    for person in (c.cora, c.sam, c.pat, c.rita, nora):
        text = (await one(world, person, "/incidents")).text or ""
        assert code in text, person.name
        assert "Raised 2 h ago · tasks: 0 open, 0 taken, 0 done" in text
        # An index only: /found cannot withdraw one incident from a list, so it names
        # neither the youth nor a place (the page does, and the page is withdrawn).
        assert "Jay" not in text
        assert "Elm Street" not in text
    rita_list = await one(world, c.rita, "/incidents")
    assert "risk" not in (rita_list.text or "")  # responders are not given the risk level
    assert "risk HIGH" in ((await one(world, c.pat, "/incidents")).text or "")
    for person in (c.fay, olive):
        assert (await one(world, person, "/incidents")).text == texts_incidents.NO_INCIDENTS
        assert (await one(world, person, f"/incident {code}")).text == (
            texts_incidents.not_visible(code)
        )
    for person in (c.sid, c.stranger):  # the gate: one generic line, nothing about alerts
        replies = await world.say(person, f"/incident {code}")
        assert all(code not in (m.text or "") for m in replies)

    # The page, per role.
    cora_page = (await one(world, c.cora, f"/incident {code.lower()}")).text or ""
    assert f"Incident {code}" in cora_page
    assert "Status: active" in cora_page
    assert "Risk: HIGH" in cora_page
    assert "Youth: Jay (legal name Jordan Alexander Smith), 14" in cora_page
    assert "at 100 Elm Street, Sudbury, Ontario (46.49170, -80.99300)" in cora_page
    assert "Police: told, report 2026-123456" in cora_page
    assert "Not yet:" in cora_page
    assert "Latest updates\nNone yet." in cora_page
    pat_page = await one(world, c.pat, f"/incident {code}")
    assert "Jordan Alexander Smith" in (pat_page.text or "")
    assert "Police: told, report 2026-123456" in (pat_page.text or "")
    assert "Not yet" not in (pat_page.text or "")
    rita_page = (await one(world, c.rita, f"/incident {code}")).text or ""
    assert "Youth: Jay, 14\n" in rita_page
    assert "Last seen:" in rita_page
    for hidden in ("Jordan", "Risk", "Police", "2026-123456", "Not yet"):
        assert hidden not in rita_page, hidden
    assert "Police" in ((await one(world, c.sam, f"/incident {code}")).text or "")

    # Everything with the youth's details went protected; no sealed detail ever went out.
    views = [
        call
        for call in world.emu.calls
        if "Incident HW-" in str(call.params.get("text")) or "Open incidents" in str(call.params)
    ]
    assert views
    assert all(call.params.get("protect_content") is True for call in views)
    recorded = requests_text(world)
    for canary in (CANARY_RISK, CANARY_ASSOCIATE, CANARY_MEDICAL):
        assert canary not in recorded

    # Every page and every list naming the youth is on the timeline; refusals too.
    cora, rita, fay = [await member_id(world, p) for p in (c.cora, c.rita, c.fay)]
    events = await viewed(world, code)
    pages = [e for e in events if e[3] == incident_views.PURPOSE_PAGE]
    lists = [e for e in events if "list" in str(e[3])]
    assert [e[0] for e in pages].count(cora) == 1
    assert len(pages) == 4  # Cora, Pat, Rita, Sam
    assert lists == []  # the list names no youth, so it is not an access to their details
    [rita_view] = [e for e in pages if e[0] == rita]
    assert rita_view[2] == ["age", "code", "last_seen", "preferred_name"]
    inc = await incident(world, code)
    async with world.hw.ctx.uow() as uow:
        denied = await uow.timeline.list_for_subject("incident", str(inc.id))
    refused = [e.event for e in denied if e.event.action == "incident.view_denied"]
    assert fay in [e.actor_member_id for e in refused]


async def test_tasks_acks_buttons_task_holders_and_resolution(world: World) -> None:
    c = await cast(world)
    await add_profile(world, c.sam, canaries=False)
    code = await raise_alert(world, c.sam)
    await approve(world, c)
    await add_templates(world, c.cora)
    _, answer = await world.press(c.rita, announcement(world, c.rita, BUS), "I'll take it")
    assert answer["text"].startswith("It's yours")
    await world.press(c.pat, alert_card(world, c.pat), "Seen")
    await world.press(c.rita, alert_card(world, c.rita), "I can help")

    # The list's button opens the page for the one who asked, and only for them.
    listed = await one(world, c.rita, "/incidents")
    assert "tasks: 3 open, 1 taken, 0 done" in (listed.text or "")
    [page], answer = await world.press(c.rita, listed, code)
    assert answer["text"] == texts_incidents.OPENED
    assert page.protect_content
    text = page.text or ""
    assert f"#{(await _task_id(world, code, BUS))} {BUS}: taken by Rita Responder" in text
    assert "Call the youth's phone: open" in text
    assert "Seen: Pat Police\nCan help: Rita Responder" in text
    _, answer = await world.press_data(c.pat, listed, button_data(listed, code))
    assert answer["text"] == texts.BUTTON_NOT_YOURS

    cora_page = (await one(world, c.cora, f"/incident {code}")).text or ""
    assert "Not yet: Cora Coordinator, Sam Staff" in cora_page

    # Rita moves to Toronto: out of reach now, but she still holds a task there.
    async with world.hw.ctx.uow() as uow:
        await uow.members.update_registration(
            await member_id(world, c.rita),
            step=None,
            area=ServiceArea(latitude=TORONTO[0], longitude=TORONTO[1], radius_km=10),
        )
        await uow.commit()
    assert code in ((await one(world, c.rita, "/incidents")).text or "")
    # Pat moves too, and holds nothing: the alert drops off his list.
    async with world.hw.ctx.uow() as uow:
        await uow.members.update_registration(
            await member_id(world, c.pat),
            step=None,
            area=ServiceArea(latitude=TORONTO[0], longitude=TORONTO[1], radius_km=10),
        )
        await uow.commit()
    assert (await one(world, c.pat, "/incidents")).text == texts_incidents.NO_INCIDENTS

    # Found: it drops off every list, the pages are withdrawn, old buttons are stale.
    coordinators_list = await one(world, c.cora, "/incidents")
    await world.say(c.sam, "/found")
    await world.answer(c.sam, "[Returned to the residence]")
    await world.answer(c.sam, "[Yes, close it and pull details back]")
    for person in (c.cora, c.sam, c.rita):
        assert (await one(world, person, "/incidents")).text == texts_incidents.NO_INCIDENTS
    closed = (await one(world, c.cora, f"/incident {code}")).text or ""
    assert closed.startswith(f"{code} is closed: resolved ")
    assert closed.endswith("outcome: Returned to the residence.")
    assert (await one(world, c.rita, f"/incident {code}")).text == texts_incidents.not_visible(code)
    _, answer = await world.press(c.cora, coordinators_list, code)
    assert answer["text"] == texts.BUTTON_GONE
    pages = [m for m in world.emu.messages(c.rita.user_id) if f"Incident {code}" in (m.text or "")]
    assert pages
    assert all(m.deleted for m in pages)


async def _task_id(world: World, code: str, title: str) -> int:
    inc = await incident(world, code)
    async with world.hw.ctx.uow() as uow:
        [task] = [t for t in await uow.tasks.list_for_incident(inc.id) if t.title == title]
    return task.id
