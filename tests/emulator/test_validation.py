"""Content limits answered as Telegram answers them (PTB raises the same exceptions)."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden

from bot.clock import FakeClock
from bot.emulator import Emulator

from .conftest import call


@pytest.fixture
def ana_id(emu: Emulator) -> int:
    return emu.add_user(first_name="Ana", username="ana").id


def keyboard(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("go", callback_data=data)]])


async def test_text_length_4096_ok_4097_refused(bot: Bot, ana_id: int) -> None:
    await bot.send_message(ana_id, "a" * 4096)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(ana_id, "a" * 4097)


async def test_text_length_counts_visible_utf16(bot: Bot, ana_id: int) -> None:
    await bot.send_message(ana_id, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    await bot.send_message(ana_id, "😀" * 2048)  # 4096 UTF-16 units
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(ana_id, "😀" * 2048 + "a")


async def test_empty_text(emu: Emulator, http: aiohttp.ClientSession, ana_id: int) -> None:
    status, body = await call(http, emu, "sendMessage", chat_id=ana_id, text="  ")
    assert status == 400
    assert body == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: message text is empty",
    }
    status, body = await call(
        http, emu, "sendMessage", chat_id=ana_id, text="<b></b>", parse_mode="HTML"
    )
    assert body["description"] == "Bad Request: message text is empty"


async def test_caption_1024_ok_1025_refused(bot: Bot, ana_id: int) -> None:
    await bot.send_photo(ana_id, b"img", caption="c" * 1024)
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_photo(ana_id, b"img", caption="c" * 1025)


async def test_html_errors(bot: Bot, emu: Emulator, ana_id: int) -> None:
    for bad in ["1 < 2", "<p>x</p>", "<b>x", "<b><i>x</b></i>", "&nbsp;"]:
        with pytest.raises(BadRequest, match="Can't parse entities"):
            await bot.send_message(ana_id, bad, parse_mode="HTML")
    assert emu.bot_messages(ana_id) == []
    sent = await bot.send_message(ana_id, "1 &lt; 2 <i>ok</i>", parse_mode="HTML")
    assert sent.text == "1 < 2 ok"
    stored = emu.bot_messages(ana_id)[0]
    assert stored.raw_text == "1 &lt; 2 <i>ok</i>"
    assert stored.parse_mode == "HTML"


async def test_callback_data_64_ok_65_refused(bot: Bot, ana_id: int) -> None:
    await bot.send_message(ana_id, "x", reply_markup=keyboard("é" * 32))  # 64 bytes
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(ana_id, "x", reply_markup=keyboard("é" * 32 + "a"))


async def test_not_modified_and_unknown_ids(bot: Bot, ana_id: int) -> None:
    sent = await bot.send_message(ana_id, "x", reply_markup=keyboard("a"))
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("x", ana_id, sent.message_id, reply_markup=keyboard("a"))
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(ana_id, sent.message_id, reply_markup=keyboard("a"))
    edited = await bot.edit_message_text("x", ana_id, sent.message_id)  # drops the keyboard
    assert edited.reply_markup is None
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("y", ana_id, 999)
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(ana_id, 999)


async def test_edit_records_history(bot: Bot, emu: Emulator, ana_id: int) -> None:
    sent = await bot.send_message(ana_id, "first")
    await bot.edit_message_text("second", ana_id, sent.message_id)
    stored = emu.bot_messages(ana_id)[0]
    assert (stored.text, stored.edited) == ("second", True)
    assert [h["text"] for h in stored.edit_history] == ["first"]


async def test_delete_window_48h(
    bot: Bot, emu: Emulator, fake_clock: FakeClock, ana_id: int
) -> None:
    young = await bot.send_message(ana_id, "young")
    old = await bot.send_message(ana_id, "old")
    fake_clock.advance(timedelta(hours=47))
    assert await bot.delete_message(ana_id, young.message_id) is True
    fake_clock.advance(timedelta(hours=2))  # 49 h
    with pytest.raises(BadRequest, match="Message can't be deleted for everyone"):
        await bot.delete_message(ana_id, old.message_id)
    edited = await bot.edit_message_text("still editable", ana_id, old.message_id)
    assert edited.text == "still editable"
    assert [m.message_id for m in emu.bot_messages(ana_id)] == [old.message_id]
    assert emu.messages(ana_id)[0].deleted


async def test_blocked_deactivated_unknown_chat(bot: Bot, emu: Emulator, ana_id: int) -> None:
    emu.block(ana_id)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(ana_id, "x")
    emu.unblock(ana_id)
    await bot.send_message(ana_id, "x")
    emu.deactivate(ana_id)
    with pytest.raises(Forbidden, match="user is deactivated"):
        await bot.send_message(ana_id, "x")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(424242, "x")


async def test_leave_chat(bot: Bot, emu: Emulator, ana_id: int) -> None:
    group = emu.add_group(title="Ops room")
    await bot.send_message(group.id, "hello group")
    assert await bot.leave_chat(group.id) is True
    assert group.id in emu.left_chats
    with pytest.raises(Forbidden, match="bot is not a member of the group chat"):
        await bot.send_message(group.id, "x")
    emu.add_bot_to_group(ana_id, group.id)
    await bot.send_message(group.id, "back")


async def test_callback_answer(bot: Bot, emu: Emulator, ana_id: int) -> None:
    sent = await bot.send_message(ana_id, "x", reply_markup=keyboard("a"))
    update = emu.press_button(ana_id, sent.message_id, "forged\x00data")
    query_id = update["callback_query"]["id"]
    assert await bot.answer_callback_query(query_id, text="done") is True
    assert emu.callback_answers[query_id]["answer"]["text"] == "done"
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query_id)
    assert emu.calls_to("answerCallbackQuery")[0].chat_id == ana_id
