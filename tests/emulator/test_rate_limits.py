"""Flood limits: 30/s overall, ~1/s per private chat (burst 3), 20/min per group."""

from __future__ import annotations

import aiohttp
import pytest
from telegram import Bot
from telegram.error import RetryAfter

from bot.clock import FakeClock
from bot.emulator import Emulator

from .conftest import call


async def test_overall_30_per_second(
    emu: Emulator, http: aiohttp.ClientSession, limits_clock: FakeClock
) -> None:
    users = [emu.add_user(first_name=f"U{i}").id for i in range(11)]
    targets = [u for u in users for _ in range(3)][:31]  # 3 per chat: within per-chat burst
    statuses = []
    for chat_id in targets:
        status, body = await call(http, emu, "sendMessage", chat_id=chat_id, text="x")
        statuses.append(status)
    assert statuses == [200] * 30 + [429]
    assert body == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    limits_clock.advance(1 / 30)  # one token back in the overall bucket
    status, _ = await call(http, emu, "sendMessage", chat_id=users[10], text="x")
    assert status == 200


async def test_private_chat_about_one_per_second(
    bot: Bot, emu: Emulator, limits_clock: FakeClock
) -> None:
    ana = emu.add_user(first_name="Ana").id
    for _ in range(3):  # the tolerated burst
        await bot.send_message(ana, "x")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(ana, "x")
    assert caught.value.retry_after.total_seconds() == 1
    limits_clock.advance(1.0)
    await bot.send_message(ana, "x")
    with pytest.raises(RetryAfter):
        await bot.send_message(ana, "x")
    # an edit counts toward the same chat
    limits_clock.advance(1.0)
    sent = emu.bot_messages(ana)[0]
    await bot.edit_message_text("edited", ana, sent.message_id)
    with pytest.raises(RetryAfter):
        await bot.edit_message_text("again", ana, sent.message_id)
    assert len(emu.bot_messages(ana)) == 4


async def test_group_twenty_per_minute(
    emu: Emulator, http: aiohttp.ClientSession, limits_clock: FakeClock
) -> None:
    group = emu.add_group(title="Ops room").id
    for _ in range(20):
        status, _ = await call(http, emu, "sendMessage", chat_id=group, text="x")
        assert status == 200
    status, body = await call(http, emu, "sendMessage", chat_id=group, text="x")
    assert status == 429
    assert body["parameters"] == {"retry_after": 3}  # 60 s / 20 messages
    limits_clock.advance(2.0)
    status, body = await call(http, emu, "sendMessage", chat_id=group, text="x")
    assert body["parameters"] == {"retry_after": 1}
    limits_clock.advance(1.0)
    status, _ = await call(http, emu, "sendMessage", chat_id=group, text="x")
    assert status == 200


async def test_refused_and_invalid_requests_consume_nothing(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    ana = emu.add_user(first_name="Ana").id
    for _ in range(5):
        status, _ = await call(http, emu, "sendMessage", chat_id=ana, text="")
        assert status == 400
    for _ in range(3):
        status, _ = await call(http, emu, "sendMessage", chat_id=ana, text="x")
        assert status == 200


async def test_limits_can_be_disabled(http: aiohttp.ClientSession) -> None:
    async with Emulator(enforce_limits=False) as free:
        ana = free.add_user(first_name="Ana").id
        for _ in range(40):
            status, _ = await call(http, free, "sendMessage", chat_id=ana, text="x")
            assert status == 200
