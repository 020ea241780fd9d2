"""Raising, approving and ticking for the follow-up journeys, and proof that what a
timer sends went through the outbox."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from bot.domain.incidents import Incident
from bot.emulator import EmuMessage
from storage.models import OutboxRow
from tests.e2e.conftest import Person, World
from tests.e2e.test_alert_journey import Cast, cast

# Answers to the four risk questions (exploitation, danger, health, out of character).
RISK_ANSWERS = {
    "low": ("[No]", "[No]", "[No]", "[No]"),
    "medium": ("[No]", "[No]", "[Yes]", "[No]"),
    "high": ("[Yes]", "[No]", "[No]", "[Yes]"),
}


async def staffed(world: World) -> Cast:
    """The usual cast, and Jay's profile at Maple House (seeded directly: the /addyouth
    form is proven in tests/e2e; these journeys start at /missing)."""
    c = await cast(world)
    async with world.hw.ctx.uow() as uow:
        sam = await uow.members.get_by_telegram_id(c.sam.user_id)
        assert sam is not None
        assert sam.org_id is not None
        await uow.youth.add(
            residence_org_id=sam.org_id,
            created_by=sam.id,
            at=world.clock.now(),
            fields={
                "legal_name": "Jordan Alexander Smith",
                "preferred_name": "Jay",
                "pronouns": "they/them",
                "date_of_birth": date(2011, 5, 2),
                "description": "5 ft 2, slim, short dyed-blue hair",
            },
        )
        await uow.commit()
    return c


async def raise_alert(
    world: World, staff: Person, *, risk: str = "high", report: str | None = None
) -> str:
    """/missing for Jay; police told only if ``report`` is given."""
    await world.say(staff, "/missing")
    await world.answer(staff, "[Jay]", "[30 minutes ago]", "100 Elm Street, Sudbury")
    police = ("[Yes]", report) if report else ("[No]",)
    last = await world.answer(
        staff,
        "[Yes]",
        "Black hoodie, grey joggers, red backpack",
        "Left after an argument at dinner",
        "[Skip]",
        *RISK_ANSWERS[risk],
        *police,
    )
    assert "Check before sending" in (last.text or ""), last.text
    done = await world.answer(staff, "[Send to a coordinator]")
    assert "with a coordinator to vet" in (done.text or ""), done.text
    return (done.text or "").split("Alert ")[1].split(" ")[0]


def vet_card(world: World, vetter: Person, code: str) -> EmuMessage:
    return next(
        m
        for m in reversed(world.emu.bot_messages(vetter.user_id))
        if "VETTING NEEDED" in (m.text or "") and code in (m.text or "")
    )


async def approve(world: World, vetter: Person, code: str) -> None:
    _, answer = await world.press(vetter, vet_card(world, vetter, code), "Approve and send")
    assert "approved" in answer.get("text", ""), answer


async def found(world: World, staff: Person) -> None:
    await world.say(staff, "/found")
    await world.answer(staff, "[Returned to the residence]")
    await world.answer(staff, "[Yes, close it and pull details back]")


async def tick(world: World) -> int:
    fired = await world.hw.scheduler.tick()
    await world.settle()
    return fired


async def at(world: World, moment: datetime) -> None:
    world.clock.set(moment)
    await tick(world)


async def restart_at(world: World, moment: datetime) -> None:
    """The bot is stopped, the deadline passes while it is down, and it starts again."""
    await world.hw.stop()
    world.clock.set(moment)
    await world.restart()
    await tick(world)


def received(world: World, person: Person, fragment: str) -> list[EmuMessage]:
    return [m for m in world.emu.bot_messages(person.user_id) if fragment in (m.text or "")]


def count(world: World, person: Person, fragment: str) -> int:
    return len(received(world, person, fragment))


async def incident(world: World, code: str) -> Incident:
    async with world.hw.ctx.uow() as uow:
        found_ = await uow.incidents.get_by_code(code)
    assert found_ is not None
    return found_


async def events(world: World, code: str, prefix: str) -> list[tuple[str, dict[str, object]]]:
    inc = await incident(world, code)
    async with world.hw.ctx.uow() as uow:
        recorded = [e async for e in uow.timeline.iterate()]
    return [
        (e.event.action, dict(e.event.details))
        for e in recorded
        if e.event.incident_id == inc.id and e.event.action.startswith(prefix)
    ]


async def assert_via_outbox(world: World, people: list[Person], fragment: str) -> int:
    """Every message with ``fragment`` these people got was an outbox row, sent by the
    sender (same chat and message id): nothing a timer sends bypasses the outbox."""
    async with world.hw.db.sessions() as session:
        sent = {
            (r.chat_id, r.message_id)
            for r in (
                await session.execute(select(OutboxRow).where(OutboxRow.status == "sent"))
            ).scalars()
        }
    seen = 0
    for person in people:
        for message in received(world, person, fragment):
            assert (message.chat_id, message.message_id) in sent, (person.name, message.text)
            seen += 1
    assert seen, f"nobody got {fragment!r}"
    return seen
