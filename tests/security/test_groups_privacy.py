"""T08: groups. The bot leaves groups nobody registered, never posts personal details in a
group, and checks at startup that Telegram's privacy mode is on.

* Added by a stranger, or by a member who is not an admin, or found in a group nobody
  registered: ``leaveChat`` for that group within 10 s of wall time.
* In a group an admin registered, every command (``/whoami``, ``/members``, ``/start <valid
  code>``, ``/details 1`` ...) from admins, members and strangers is answered with
  ``texts.PRIVATE_ONLY`` only; no member's name, organisation or code ever reaches a group;
  nothing is sent to anyone's private chat because of it; a code pasted in a group is not
  consumed.
* ``getMe.can_read_all_group_messages`` is false against the default emulator (no warning);
  with the emulator's privacy mode off the app logs a warning naming @BotFather's /setprivacy.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from bot import texts
from bot.clock import FakeClock
from bot.domain.membership import OrgKind, Role
from bot.services import invites, members
from tests.e2e.conftest import Person, World
from tests.security.conftest import (
    CANARY,
    CANARY_ADMIN,
    CANARY_ORG,
    CANARY_RESPONDER,
    call_text,
    open_world,
    seed_canaries,
)

LEAVE_WITHIN_SECONDS = 10.0


async def _left_within(world: World, chat_id: int, started: float) -> float:
    await world.emu.wait_for(lambda: chat_id in world.emu.left_chats, LEAVE_WITHIN_SECONDS)
    elapsed = time.perf_counter() - started
    assert world.emu.calls_to("leaveChat", chat_id=chat_id)
    return elapsed


@pytest.mark.parametrize("adder", ["stranger", "member", "pending"])
async def test_the_bot_leaves_a_group_added_by_anyone_but_an_admin(
    world: World, adder: str
) -> None:
    seed = await seed_canaries(world)
    person = {
        "stranger": world.person("Sam Stranger"),
        "member": seed.responder,
        "pending": seed.pending,
    }[adder]
    group = world.emu.add_group("Somebody's group")
    started = time.perf_counter()
    world.emu.add_bot_to_group(person.user_id, group.id)
    elapsed = await _left_within(world, group.id, started)
    await world.settle()
    assert elapsed < LEAVE_WITHIN_SECONDS
    # Nothing but leaving was said there.
    assert {c.method for c in world.emu.calls_to(chat_id=group.id)} == {"leaveChat"}


async def test_the_bot_leaves_an_unregistered_group_it_finds_itself_in(world: World) -> None:
    stranger = world.person("Sam Stranger")
    group = world.emu.add_group("Old group")  # the bot is already a member here
    started = time.perf_counter()
    world.emu.send_text(stranger.user_id, "/members", chat_id=group.id)
    await _left_within(world, group.id, started)
    await world.settle()
    assert world.emu.bot_messages(group.id) == []


async def test_a_registered_group_never_sees_personal_details(world: World) -> None:
    seed = await seed_canaries(world)
    admin, rita = seed.admin, seed.responder
    group = world.emu.add_group("Sudbury ops room")
    world.emu.add_bot_to_group(admin.user_id, group.id)
    await world.settle()
    assert group.id not in world.emu.left_chats
    stranger = world.person("Sam Stranger")
    code = (
        await invites.create(
            world.hw.ctx, actor_telegram_id=None, role=Role.RESPONDER, org_id=seed.org_id
        )
    ).code
    commands = [
        "/whoami",
        "/members",
        "/help",
        "/invite",
        "/orgs",
        "/details 1",
        "/suspend 2",
        "/neworg residence Group House",
        f"/start {code}",
        f"/start@homeward_test_bot {code}",
        "/whoami@homeward_test_bot",
        "/members@homeward_test_bot",
        "@homeward_test_bot who is here?",
        "/cancel",
    ]
    people: list[Person] = [admin, rita, seed.pending, stranger]
    calls_before = len(world.emu.calls)
    for person in people:
        for command in commands:
            world.emu.send_text(person.user_id, command, chat_id=group.id)
        # A forged button press from inside the group, too.
        world.emu.press_button(person.user_id, 1, "t:" + "A" * 22, chat_id=group.id)
    await world.settle()

    in_group = world.emu.bot_messages(group.id)
    assert in_group, "the commands got no answer at all"
    assert {m.raw_text for m in in_group} == {texts.PRIVATE_ONLY}
    new_calls = world.emu.calls[calls_before:]
    for call in new_calls:
        assert CANARY not in call_text(call), (call.method, call.chat_id)
    # Nothing went to anyone's private chat because of what was said in the group.
    private = [
        c
        for c in new_calls
        if c.method == "sendMessage" and c.chat_id is not None and c.chat_id > 0
    ]
    assert private == [], [(c.chat_id, c.params.get("text")) for c in private]
    # The code pasted in the group was not consumed: it still works in private.
    newcomer = world.person("Nia Newcomer")
    replies = await world.say(newcomer, f"/start {code}")
    assert "What name" in (replies[0].text or "")

    # Across everything the bot ever sent to any group: no names, no organisation.
    for call in world.emu.calls:
        if call.chat_id is not None and call.chat_id < 0:
            blob = call_text(call)
            for secret in (
                CANARY_ADMIN,
                CANARY_RESPONDER,
                CANARY_ORG,
                seed.pending.name,
                "Sam Stranger",
                code,
            ):
                assert secret not in blob, (secret, call.method)


async def test_privacy_mode_is_on_and_checked_at_startup(world: World, caplog: Any) -> None:
    me = await world.hw.application.bot.get_me()
    assert me.can_read_all_group_messages is False
    assert world.hw.application.bot.bot.can_read_all_group_messages is False
    assert not [r for r in caplog.records if "privacy mode is OFF" in r.getMessage()]


async def test_the_app_warns_when_privacy_mode_is_off(
    database_url: str, clock: FakeClock, caplog: Any
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.app")
    async with open_world(database_url, clock, privacy_mode=False) as world:
        assert world.hw.application.bot.bot.can_read_all_group_messages is True
        warnings = [
            r
            for r in caplog.records
            if r.levelno == logging.WARNING and "privacy mode is OFF" in r.getMessage()
        ]
        assert len(warnings) == 1
        assert "/setprivacy" in warnings[0].getMessage()
        # Even reading everything, it says nothing in a registered group to plain chatter.
        await members.create_org(
            world.hw.ctx, actor_telegram_id=None, kind=OrgKind.INTERVENTION_TEAM, name=CANARY_ORG
        )
        admin = await world.admin(CANARY_ADMIN)
        group = world.emu.add_group("Ops")
        world.emu.add_bot_to_group(admin.user_id, group.id)
        world.emu.send_text(
            admin.user_id, "Has anyone seen the youth from Maple House?", chat_id=group.id
        )
        await world.settle()
        assert world.emu.bot_messages(group.id) == []
