"""T07: callback tampering by a valid member without the vetter role.

A responder replays every real token the bot ever gave the admin (approve and reject on a
pending registration, invite role and organisation choices), replays her own stale
registration tokens, and sends edited data: near-miss tokens, random ``t:`` tokens, random
strings, exactly 64-byte data, and 65-byte to 4 KiB data (injected raw: a real client cannot
build them, a forged one can). Every press is denied by the server, nothing changes (the
registrant stays pending, no invite is created, nothing is sent), and every replay of a real
token is audited as ``action.denied`` with the presser's id.

Every ``callback_data`` the bot sent in the whole journey is <= 64 bytes, opaque
(``t:`` + 22 URL-safe characters, i.e. 128 random bits) and never reused.
"""

from __future__ import annotations

import base64
import random
import string

from sqlalchemy import func, select

from bot import texts
from storage.models import InviteRow
from tests.e2e.conftest import Person, World
from tests.security.conftest import (
    CALLBACK_RE,
    CANARY_ORG,
    member_status,
    seed_canaries,
    sent_callback_data,
    timeline_actions,
)

DENIED = {
    texts.BUTTON_GONE,
    texts.BUTTON_NOT_YOURS,
    texts.ERRORS["not_allowed"],
    texts.ERRORS["stale"],
}


def _tokens_sent_to(world: World, chat_id: int) -> list[str]:
    return sorted(set(sent_callback_data(world.emu.calls_to(chat_id=chat_id))))


async def _press(world: World, who: Person, data: str) -> str | None:
    """Press a (forged) button under the presser's last message; the toast shown."""
    last = max((m.message_id for m in world.emu.bot_messages(who.user_id)), default=1)
    update = world.emu.press_button(who.user_id, last, data)
    await world.settle()
    answer = world.emu.callback_answers[update["callback_query"]["id"]].get("answer") or {}
    return answer.get("text")


async def _press_raw(world: World, who: Person, data: str) -> str | None:
    """A callback query a real client could not build (data > 64 bytes)."""
    query_id = f"forged{len(world.emu.calls)}"
    world.emu.inject_raw(
        {
            "callback_query": {
                "id": query_id,
                "from": world.emu.get_user(who.user_id).to_api(),
                "message": {
                    "message_id": 1,
                    "date": 0,
                    "chat": world.emu.get_chat(who.user_id).to_api(),
                },
                "chat_instance": "1",
                "data": data,
            }
        }
    )
    await world.settle()
    answers = [
        c
        for c in world.emu.calls_to("answerCallbackQuery")
        if c.params.get("callback_query_id") == query_id
    ]
    assert len(answers) == 1, answers
    return answers[0].params.get("text")


async def _invite_count(world: World) -> int:
    async with world.hw.db.sessions() as session:
        return (await session.execute(select(func.count()).select_from(InviteRow))).scalar_one()


async def test_a_non_vetter_cannot_replay_or_forge_callbacks(world: World) -> None:
    seed = await seed_canaries(world)
    admin, rita = seed.admin, seed.responder
    # The admin's open pick-role keyboard, then a pick-org keyboard too.
    [pick_role] = [
        m for m in world.emu.bot_messages(admin.user_id) if texts.INVITE_PICK_ROLE in (m.text or "")
    ][-1:]
    await world.press(admin, pick_role, "Responder")
    admin_tokens = _tokens_sent_to(world, admin.user_id)
    rita_tokens = _tokens_sent_to(world, rita.user_id)  # her registration buttons, now stale
    assert len(admin_tokens) >= 10, admin_tokens
    assert rita_tokens

    rng = random.Random(7)
    urlsafe = string.ascii_letters + string.digits + "-_"
    forged: list[str] = []
    for token in admin_tokens[:5]:
        forged += [
            token[:-1] + ("a" if token[-1] != "a" else "b"),
            token.upper(),
            token[2:],
            "t:" + token[2:][::-1],
            token + "x",
        ]
    forged += ["t:" + "".join(rng.choice(urlsafe) for _ in range(22)) for _ in range(20)]
    forged += ["t:" + "".join(rng.choice(urlsafe) for _ in range(62))]  # exactly 64 bytes
    forged += ["".join(chr(rng.randrange(0x20, 0x2FF)) for _ in range(20)) for _ in range(10)]
    forged += [
        "approve:member:3",
        "member.approve",
        "t:",
        "t:../../",
        "é" * 32,
        '{"a":"member.approve","id":3}',
        "t:" + "A" * 21 + "=",
        " t:" + "A" * 22,
    ]
    assert all(len(d.encode()) <= 64 for d in forged)
    oversize = ["t:" + "A" * 63, admin_tokens[0] + "A" * 43, "x" * 65, "é" * 33, "t:" + "B" * 4094]
    assert all(len(d.encode()) > 64 for d in oversize)

    invites_before = await _invite_count(world)
    events_before = await timeline_actions(world)
    calls_before = len(world.emu.calls)

    toasts: list[str | None] = []
    for data in admin_tokens:  # replays of the vetter's real tokens
        toasts.append(await _press(world, rita, data))
    assert set(toasts) == {texts.BUTTON_NOT_YOURS}, toasts
    for data in rita_tokens:  # her own, from a registration that is over
        toasts.append(await _press(world, rita, data))
    for data in forged:
        toasts.append(await _press(world, rita, data))
    for data in oversize:
        toasts.append(await _press_raw(world, rita, data))
    assert len(toasts) == len(admin_tokens) + len(rita_tokens) + len(forged) + len(oversize)
    assert set(toasts) <= DENIED, set(toasts) - DENIED

    # Nothing changed and nothing was sent but the toasts.
    assert await member_status(world, seed.pending.user_id) == "pending"
    assert await _invite_count(world) == invites_before
    sent = [c.method for c in world.emu.calls[calls_before:] if c.method != "getUpdates"]
    assert set(sent) == {"answerCallbackQuery"}, set(sent)
    new_events = (await timeline_actions(world))[len(events_before) :]
    # Every replay of a real token is audited; forged data never reaches a record.
    assert new_events == ["action.denied"] * (len(admin_tokens) + len(rita_tokens)), new_events
    async with world.hw.ctx.uow() as uow:
        denied = [
            e.event async for e in uow.timeline.iterate() if e.event.action == "action.denied"
        ]
    assert {e.actor_telegram_id for e in denied} == {rita.user_id}

    # The vetter's own press still works afterwards.
    _, answer = await world.press(admin, world.vet_card_for(admin, seed.pending.name), "Approve")
    assert answer.get("text") == "Registration approved"
    assert await member_status(world, seed.pending.user_id) == "active"


async def test_every_callback_data_sent_is_opaque_and_at_most_64_bytes(world: World) -> None:
    seed = await seed_canaries(world)
    # More keyboards: a second invite through both steps, a registration, an approval.
    newcomer = world.person("Nora Newcomer")
    await world.join(seed.admin, newcomer, "Responder", CANARY_ORG)
    data = sent_callback_data(world.emu.calls)
    assert len(data) >= 20, data
    for value in data:
        assert len(value.encode()) <= 64, value
        assert CALLBACK_RE.match(value), value
    assert len(set(data)) == len(data), "a token was issued twice"
    # Opaque: 22 URL-safe characters are 16 random bytes; nothing else fits in the format.
    for value in data:
        raw = base64.urlsafe_b64decode(value[2:] + "==")
        assert len(raw) == 16, value
