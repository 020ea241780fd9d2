"""Membership end to end: invites, registration, vetting, role menus, access control."""

from __future__ import annotations

from bot import texts
from bot.domain.membership import ROLE_COMMANDS, OrgKind, Role
from bot.services import members
from tests.e2e.conftest import World, button_data


async def _orgs(world: World) -> None:
    for kind, name in (
        (OrgKind.INTERVENTION_TEAM, "Sudbury Intervention Team"),
        (OrgKind.RESIDENCE, "Maple House"),
    ):
        await members.create_org(world.hw.ctx, actor_telegram_id=None, kind=kind, name=name)


def _menu(world: World, user_id: int) -> list[str]:
    return [c["command"] for c in world.emu.commands_for(user_id)]


async def test_admin_invites_coordinator_who_invites_and_approves_a_responder(world: World) -> None:
    await _orgs(world)
    admin = await world.admin()
    assert _menu(world, admin.user_id) == list(ROLE_COMMANDS[Role.ADMIN])

    cora = world.person("Cora Coordinator")
    code = await world.invite(admin, "Coordinator", "Sudbury Intervention Team")
    done = await world.register(cora, code)
    assert any("with a coordinator now" in (m.text or "") for m in done)
    # Pending: nothing but the generic answer, and no commands yet.
    assert [m.text for m in await world.say(cora, "/help")] == [texts.GENERIC]
    assert _menu(world, cora.user_id) == []

    card = world.vet_card_for(admin, "Cora Coordinator")
    assert "Sudbury Intervention Team" in (card.text or "")
    _, answer = await world.press(admin, card, "Approve")
    assert answer.get("text") == "Registration approved"
    assert any("You're in" in (m.text or "") for m in world.emu.bot_messages(cora.user_id))
    assert _menu(world, cora.user_id) == list(ROLE_COMMANDS[Role.COORDINATOR])
    edited = next(
        m for m in world.emu.bot_messages(admin.user_id) if m.message_id == card.message_id
    )
    assert "approved by Alex Admin" in (edited.text or "")
    assert not (edited.reply_markup or {}).get("inline_keyboard")

    rita = world.person("Rita Responder")
    code = await world.invite(cora, "Responder", "Sudbury Intervention Team")
    await world.register(rita, code)
    # Both vetters got a card; the coordinator acts first, the admin's card updates.
    admin_card = world.vet_card_for(admin, "Rita Responder")
    stale_reject = button_data(admin_card, "Reject")
    await world.press(cora, world.vet_card_for(cora, "Rita Responder"), "Approve")
    assert _menu(world, rita.user_id) == list(ROLE_COMMANDS[Role.RESPONDER])
    admin_view = next(
        m for m in world.emu.bot_messages(admin.user_id) if m.message_id == admin_card.message_id
    )
    assert "approved by Cora Coordinator" in (admin_view.text or "")
    # A late press on the stale card changes nothing and is answered politely.
    _, answer = await world.press_data(admin, admin_view, stale_reject)
    assert answer.get("text") == texts.BUTTON_GONE

    [who] = await world.say(rita, "/whoami")
    assert "responder" in (who.text or "")
    assert "Sudbury Intervention Team" in (who.text or "")
    [help_reply] = await world.say(rita, "/help")
    assert "/invite" not in (help_reply.text or "")
    assert "/whoami" in (help_reply.text or "")
    [refused] = await world.say(rita, "/invite")
    assert refused.text == texts.ERRORS["not_allowed"]


async def test_reused_expired_and_guessed_codes_are_refused(world: World) -> None:
    await _orgs(world)
    admin = await world.admin()
    code = await world.invite(admin, "Responder", "Sudbury Intervention Team")
    first = world.person("First Person")
    await world.register(first, code)

    second = world.person("Second Person")
    assert [m.text for m in await world.say(second, f"/start {code}")] == [texts.GENERIC]

    expired = await world.invite(admin, "Responder", "Sudbury Intervention Team")
    world.clock.advance(24 * 3600 + 1)
    third = world.person("Third Person")
    assert [m.text for m in await world.say(third, f"/start {expired}")] == [texts.GENERIC]

    guesser = world.person("Guess Er")
    world.clock.advance(61)
    replies = await world.say(guesser, "/start " + "A" * 32)
    assert [m.text for m in replies] == [texts.GENERIC]
    # The generic answer goes out at most once a minute, whatever they send.
    assert await world.say(guesser, "/start " + "B" * 32) == []
    assert await world.say(guesser, "/help") == []


async def test_forged_and_foreign_approval_presses_change_nothing(world: World) -> None:
    await _orgs(world)
    admin = await world.admin()
    cora = world.person("Cora Coordinator")
    await world.join(admin, cora, "Coordinator", "Sudbury Intervention Team")
    rita = world.person("Rita Responder")
    await world.join(cora, rita, "Responder", "Sudbury Intervention Team")

    newbie = world.person("Nina Newbie")
    code = await world.invite(cora, "Responder", "Sudbury Intervention Team")
    await world.register(newbie, code)
    card = world.vet_card_for(cora, "Nina Newbie")
    approve = button_data(card, "Approve")

    # A responder replays the coordinator's button, then sends forged data.
    _, answer = await world.press_data(rita, card, approve)
    assert answer.get("text") == texts.BUTTON_NOT_YOURS
    _, answer = await world.press_data(rita, card, "t:" + "x" * 22)
    assert answer.get("text") == texts.BUTTON_GONE
    _, answer = await world.press_data(rita, card, "approve:member:4")
    assert answer.get("text") == texts.BUTTON_GONE
    assert [m.text for m in await world.say(newbie, "/help")] == [texts.GENERIC]

    events = await members_events(world)
    assert events.count("action.denied") == 1  # the replayed real token is audited

    # The coordinator's own press still works afterwards.
    await world.press(cora, card, "Approve")
    [reply] = await world.say(newbie, "/whoami")
    assert "Nina Newbie" in (reply.text or "")


async def members_events(world: World) -> list[str]:
    async with world.hw.ctx.uow() as uow:
        return [e.event.action async for e in uow.timeline.iterate()]


async def test_username_change_keeps_access_and_impostor_gets_nothing(world: World) -> None:
    await _orgs(world)
    admin = await world.admin()
    rita = world.person("Rita Responder", username="rita_r")
    await world.join(admin, rita, "Responder", "Sudbury Intervention Team")

    world.emu.set_username(rita.user_id, "rita_new")
    impostor = world.person("Rita Fake", username="rita_r")
    [who] = await world.say(rita, "/whoami")
    assert "Rita Responder" in (who.text or "")
    replies = await world.say(impostor, "/whoami")
    assert [m.text for m in replies] == [texts.GENERIC]


async def test_suspended_member_is_cut_off_on_the_next_update(world: World) -> None:
    await _orgs(world)
    admin = await world.admin()
    rita = world.person("Rita Responder")
    await world.join(admin, rita, "Responder", "Sudbury Intervention Team")
    async with world.hw.ctx.uow() as uow:
        member = await uow.members.get_by_telegram_id(rita.user_id)
    assert member is not None

    [done] = await world.say(admin, f"/suspend {member.id}")
    assert "suspended" in (done.text or "")
    assert _menu(world, rita.user_id) == []
    assert [m.text for m in await world.say(rita, "/whoami")] == [texts.GENERIC]

    [back] = await world.say(admin, f"/reinstate {member.id}")
    assert "active again" in (back.text or "")
    [who] = await world.say(rita, "/whoami")
    assert "Rita Responder" in (who.text or "")
    # Bad input is answered kindly and changes nothing.
    [usage] = await world.say(admin, "/suspend rita")
    assert "member's number" in (usage.text or "")
    [self_] = await world.say(admin, "/suspend 1")
    assert self_.text == texts.ERRORS["not_allowed"]


async def test_bot_leaves_an_unregistered_group_and_stays_in_an_admins(world: World) -> None:
    admin = await world.admin()
    stranger = world.person("Some Stranger")
    group = world.emu.add_group(title="Random group")
    world.emu.add_bot_to_group(stranger.user_id, group.id)
    await world.settle()
    assert group.id in world.emu.left_chats

    ops = world.emu.add_group(title="Ops room")
    world.emu.add_bot_to_group(admin.user_id, ops.id)
    await world.settle()
    assert ops.id not in world.emu.left_chats
    replies = await world.say(admin, "/whoami", chat_id=ops.id)
    assert [m.text for m in replies] == [texts.PRIVATE_ONLY]
