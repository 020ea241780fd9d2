"""A real python-telegram-bot Bot and Application against the emulator."""

from __future__ import annotations

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, RetryAfter
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from bot.clock import FakeClock
from bot.emulator import Emulator, Fault

from .conftest import TOKEN


async def test_bot_smoke(emu: Emulator, limits_clock: FakeClock) -> None:
    ana = emu.add_user(first_name="Ana", username="ana").id
    async with Bot(TOKEN, base_url=emu.base_url, base_file_url=emu.base_file_url) as bot:
        me = await bot.get_me()
        assert (me.id, me.username, me.is_bot) == (emu.bot_id, "homeward_bot", True)
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("Join", callback_data="join:1")]])
        sent = await bot.send_message(
            ana,
            "<b>Missing:</b> J.",
            parse_mode="HTML",
            reply_markup=markup,
            protect_content=True,
        )
        assert isinstance(sent, Message)
        assert sent.text == "Missing: J."
        assert sent.reply_markup == markup
        assert sent.from_user is not None
        assert sent.from_user.id == emu.bot_id
        stored = emu.bot_messages(ana)[0]
        assert stored.protect_content is True
        assert stored.reply_markup == markup.to_dict()
        edited = await bot.edit_message_text("Found", ana, sent.message_id)
        assert edited.text == "Found"
        assert edited.edit_date is not None
        assert await bot.delete_message(ana, sent.message_id) is True
        assert emu.bot_messages(ana) == []

        photo = await bot.send_photo(ana, b"\xff\xd8jpeg-bytes", caption="last seen")
        file = await bot.get_file(photo.photo[-1].file_id)
        assert bytes(await file.download_as_bytearray()) == b"\xff\xd8jpeg-bytes"
        limits_clock.advance(5)
        again = await bot.send_photo(ana, photo.photo[-1].file_id)  # file_id reuse
        assert again.photo[-1].file_id == photo.photo[-1].file_id
        with pytest.raises(BadRequest, match="Wrong file identifier"):
            await bot.send_photo(ana, "no-such-file-id")

        emu.send_photo(ana, b"user-photo")
        user_file_id = emu.messages(ana)[-1].photo_file_id
        assert user_file_id is not None
        user_file = await bot.get_file(user_file_id)
        assert bytes(await user_file.download_as_bytearray()) == b"user-photo"

        limits_clock.advance(5)  # stay inside the per-chat flood limit
        location = await bot.send_location(ana, 51.5, -0.12)
        assert location.location is not None
        venue = await bot.send_venue(ana, 51.5, -0.12, "Station", "High St")
        assert venue.venue is not None
        assert venue.venue.title == "Station"

        await bot.set_my_commands([BotCommand("start", "Start")])
        await bot.set_my_commands(
            [BotCommand("found", "Report found")], scope=BotCommandScopeChat(ana)
        )
        assert [c.command for c in await bot.get_my_commands()] == ["start"]
        scoped = await bot.get_my_commands(scope=BotCommandScopeChat(ana))
        assert [c.command for c in scoped] == ["found"]
        assert [c["command"] for c in emu.commands_for(ana)] == ["found"]
        other = emu.add_user(first_name="Bob").id
        assert [c["command"] for c in emu.commands_for(other)] == ["start"]
        with pytest.raises(BadRequest):
            await bot.set_my_commands([BotCommand("Bad Command!", "x")])

        chat = await bot.get_chat(ana)
        assert chat.id == ana

        emu.inject_fault(Fault("429", retry_after=4))
        with pytest.raises(RetryAfter):
            await bot.send_message(ana, "x")
        emu.block(ana)
        with pytest.raises(Forbidden):
            await bot.send_message(ana, "x")
        await bot.set_webhook("https://example.invalid/hook")
        with pytest.raises(Conflict):
            await bot.get_updates()
        assert (await bot.get_webhook_info()).url == "https://example.invalid/hook"
        await bot.delete_webhook()
        assert emu.webhook is None


async def test_application_polling_round_trip(emu: Emulator) -> None:
    ana = emu.add_user(first_name="Ana", username="ana").id

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("I can help", callback_data="h")]])
        await update.effective_message.reply_text(
            f"Welcome, args={context.args}", reply_markup=markup
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Thanks")
        await query.edit_message_text("You are helping")

    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(emu.base_url)
        .base_file_url(emu.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        emu.send_text(ana, "/start case42")
        reply = await emu.wait_for_message(ana, lambda m: m.text is not None)
        assert reply.text == "Welcome, args=['case42']"
        emu.press_button(ana, reply.message_id, "h")
        await emu.wait_for(lambda: reply.text == "You are helping")
        assert [a["answer"]["text"] for a in emu.callback_answers.values()] == ["Thanks"]
        await app.updater.stop()
        await app.stop()
    methods = [c.method for c in emu.calls]
    assert methods[:2] == ["getMe", "deleteWebhook"]
    assert emu.pending_update_count() == 0  # the final getUpdates confirmed everything
