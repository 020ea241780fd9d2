"""Command menus stay current across releases: a member whose Telegram menu is not their
role's current one gets it re-sent once at start (e.g. after an upgrade added /update),
never twice, even with two instances starting together; suspended members get none."""

from __future__ import annotations

import asyncio

from bot.domain.membership import ROLE_COMMANDS, MemberStatus, OrgKind, Role
from bot.services import menus
from tests.e2e.conftest import World


def menu_calls(world: World, chat_id: int) -> int:
    return len([c for c in world.emu.calls_to("setMyCommands", chat_id=chat_id) if c.ok])


async def test_stale_menus_are_resent_once_at_start(world: World) -> None:
    team = await world.org(OrgKind.INTERVENTION_TEAM, "Team")
    # Seeded straight into the database, as members of an older release would be.
    rita = await world.member("Rita Responder", Role.RESPONDER, team)
    cora = await world.member("Cora Coordinator", Role.COORDINATOR, team)
    sid = await world.member("Sid Suspended", Role.RESPONDER, team)
    async with world.hw.ctx.uow() as uow:
        member = await uow.members.get_by_telegram_id(sid.user_id)
        assert member is not None
        assert await uow.members.change_status(
            member.id,
            expected=[MemberStatus.ACTIVE],
            new=MemberStatus.SUSPENDED,
            at=world.clock.now(),
            by_member_id=None,
        )
        await uow.commit()
    assert menu_calls(world, rita.user_id) == 0

    await world.restart()
    await world.settle()
    for person, role in ((rita, Role.RESPONDER), (cora, Role.COORDINATOR)):
        assert menu_calls(world, person.user_id) == 1, person.name
        shown = [c["command"] for c in world.emu.commands_for(person.user_id)]
        assert shown == list(ROLE_COMMANDS[role]), person.name
        assert "update" in shown
    assert menu_calls(world, sid.user_id) == 0
    async with world.hw.ctx.uow() as uow:
        refreshed = [
            e.event async for e in uow.timeline.iterate() if e.event.action == "menus.refreshed"
        ]
    assert [e.details for e in refreshed] == [{"members": 2}]

    await world.restart()  # current now: nothing more
    await world.settle()
    assert menu_calls(world, rita.user_id) == 1
    assert menu_calls(world, cora.user_id) == 1


async def test_two_instances_starting_together_send_each_menu_once(world: World) -> None:
    team = await world.org(OrgKind.INTERVENTION_TEAM, "Team")
    people = [await world.member(f"Helper {i}", Role.RESPONDER, team) for i in range(12)]
    ctx = world.hw.ctx
    counts = await asyncio.gather(menus.refresh_stale(ctx), menus.refresh_stale(ctx))
    assert sum(counts) == len(people)
    await world.settle()
    assert [menu_calls(world, p.user_id) for p in people] == [1] * len(people)
