"""Every injected fault kind, answered as Telegram (or a broken network) would."""

from __future__ import annotations

import aiohttp
import pytest
from telegram import Bot
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.emulator import Emulator, Fault

from .conftest import call


@pytest.fixture
def ana_id(emu: Emulator) -> int:
    return emu.add_user(first_name="Ana").id


@pytest.mark.parametrize(
    ("kind", "status", "description"),
    [
        ("429", 429, "Too Many Requests: retry after 7"),
        ("500", 500, "Internal Server Error"),
        ("502", 502, "Bad Gateway"),
        ("503", 503, "Service Unavailable"),
        ("blocked", 403, "Forbidden: bot was blocked by the user"),
        ("deactivated", 403, "Forbidden: user is deactivated"),
        ("cant_initiate", 403, "Forbidden: bot can't initiate conversation with a user"),
        ("chat_not_found", 400, "Bad Request: chat not found"),
        ("migrated", 400, "Bad Request: group chat was upgraded to a supergroup chat"),
    ],
)
async def test_error_faults(
    emu: Emulator,
    http: aiohttp.ClientSession,
    ana_id: int,
    kind: str,
    status: int,
    description: str,
) -> None:
    emu.inject_fault(
        Fault(
            kind, method="sendMessage", chat_id=ana_id, retry_after=7, migrate_to_chat_id=-1001234
        )
    )
    got_status, body = await call(http, emu, "sendMessage", chat_id=ana_id, text="x")
    assert (got_status, body["error_code"], body["description"]) == (status, status, description)
    if kind == "429":
        assert body["parameters"] == {"retry_after": 7}
    if kind == "migrated":
        assert body["parameters"] == {"migrate_to_chat_id": -1001234}
    assert emu.bot_messages(ana_id) == []
    got_status, _ = await call(http, emu, "sendMessage", chat_id=ana_id, text="x")  # times=1
    assert got_status == 200


async def test_fault_matching(bot: Bot, emu: Emulator, ana_id: int) -> None:
    bob = emu.add_user(first_name="Bob").id
    emu.inject_fault(Fault("blocked", method="SENDMESSAGE", chat_id=ana_id, times=None))
    await bot.send_message(bob, "other chats are fine")
    await bot.get_me()
    for _ in range(3):
        with pytest.raises(Forbidden):
            await bot.send_message(ana_id, "x")
    emu.clear_faults()
    await bot.send_message(ana_id, "x")


async def test_ptb_exceptions(bot: Bot, emu: Emulator, ana_id: int) -> None:
    emu.inject_fault(Fault("429", retry_after=2))
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(ana_id, "x")
    assert caught.value.retry_after.total_seconds() == 2
    emu.inject_fault(Fault("migrated", migrate_to_chat_id=-100777))
    with pytest.raises(ChatMigrated) as migrated:
        await bot.send_message(ana_id, "x")
    assert migrated.value.new_chat_id == -100777
    emu.inject_fault(Fault("chat_not_found"))
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(ana_id, "x")
    emu.inject_fault(Fault("502"))
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(ana_id, "x")


async def test_drop_after_store(bot: Bot, emu: Emulator, ana_id: int) -> None:
    emu.inject_fault(Fault("drop_after_store", method="sendMessage"))
    with pytest.raises(NetworkError):
        await bot.send_message(ana_id, "delivered but unanswered")
    assert [m.text for m in emu.bot_messages(ana_id)] == ["delivered but unanswered"]
    recorded = emu.calls_to("sendMessage")[-1]
    assert recorded.status == 0
    assert recorded.response["ok"] is True  # the answer that was withheld


async def test_refuse(bot: Bot, emu: Emulator, ana_id: int) -> None:
    emu.inject_fault(Fault("refuse", method="sendMessage"))
    with pytest.raises(NetworkError):
        await bot.send_message(ana_id, "never stored")
    assert emu.bot_messages(ana_id) == []
    assert emu.calls_to("sendMessage")[-1].status == 0


async def test_timeout(bot: Bot, emu: Emulator, ana_id: int) -> None:
    emu.inject_fault(Fault("timeout", method="sendMessage"))
    with pytest.raises(TimedOut):
        await bot.send_message(ana_id, "held", read_timeout=0.3)
    assert emu.bot_messages(ana_id) == []
    await bot.send_message(ana_id, "next one works")


async def test_unknown_fault_kind() -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        Fault("418")


async def test_wrong_token_and_unknown_method(emu: Emulator, http: aiohttp.ClientSession) -> None:
    async with http.post(f"{emu.base_url}123:wrong/getMe") as response:
        assert response.status == 401
        assert await response.json() == {
            "ok": False,
            "error_code": 401,
            "description": "Unauthorized",
        }
    status, body = await call(http, emu, "sendTelepathy")
    assert (status, body["description"]) == (404, "Not Found")
    status, body = await call(http, emu, "GETME")  # method names are case-insensitive
    assert status == 200
    assert body["result"]["username"] == "homeward_bot"
    assert emu.token not in repr(emu.calls)
