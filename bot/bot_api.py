"""Outbox rows to typed python-telegram-bot calls: the only place that names Bot API methods."""

from __future__ import annotations

import struct
import zlib
from functools import cache
from pathlib import Path
from typing import Any

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    LinkPreviewOptions,
)

from storage.outbox_store import Claimed


def _photo(p: dict[str, Any]) -> Any:
    """A photo by file_id (``photo``), the neutral placeholder, or a local file."""
    if p.get("placeholder"):
        return placeholder_png()
    path = p.get("photo_path")
    if path:
        return Path(path).read_bytes()
    return p["photo"]


@cache
def placeholder_png(size: int = 96) -> bytes:
    """A plain grey square: what a withdrawn alert photo becomes (built once, on first use)."""
    row = b"\x00" + b"\xb0\xb0\xb0" * size
    raw = zlib.compress(row * size)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


async def call_bot(bot: Bot, row: Claimed) -> Any:
    """Translate an outbox row into the typed PTB call."""
    p = dict(row.params)
    markup = p.pop("reply_markup", None)
    reply_markup = InlineKeyboardMarkup.de_json(markup, bot) if markup else None
    preview = p.pop("link_preview_options", None)
    link_preview = LinkPreviewOptions(**preview) if preview else None
    chat_id = row.chat_id
    if row.method == "sendMessage":
        return await bot.send_message(
            chat_id=chat_id,
            text=p["text"],
            parse_mode=p.get("parse_mode"),
            reply_markup=reply_markup,
            protect_content=p.get("protect_content"),
            link_preview_options=link_preview,
        )
    if row.method == "sendPhoto":
        return await bot.send_photo(
            chat_id=chat_id,
            photo=_photo(p),
            caption=p.get("caption"),
            parse_mode=p.get("parse_mode"),
            reply_markup=reply_markup,
            protect_content=p.get("protect_content"),
        )
    if row.method == "editMessageText":
        return await bot.edit_message_text(
            chat_id=chat_id,
            message_id=p["message_id"],
            text=p["text"],
            parse_mode=p.get("parse_mode"),
            reply_markup=reply_markup,
            link_preview_options=link_preview,
        )
    if row.method == "editMessageCaption":
        return await bot.edit_message_caption(
            chat_id=chat_id,
            message_id=p["message_id"],
            caption=p.get("caption"),
            parse_mode=p.get("parse_mode"),
            reply_markup=reply_markup,
        )
    if row.method == "editMessageMedia":
        return await bot.edit_message_media(
            chat_id=chat_id,
            message_id=p["message_id"],
            media=InputMediaPhoto(
                media=_photo(p), caption=p.get("caption"), parse_mode=p.get("parse_mode")
            ),
            reply_markup=reply_markup,
        )
    if row.method == "editMessageReplyMarkup":
        return await bot.edit_message_reply_markup(
            chat_id=chat_id, message_id=p["message_id"], reply_markup=reply_markup
        )
    if row.method == "deleteMessage":
        return await bot.delete_message(chat_id=chat_id, message_id=p["message_id"])
    if row.method == "setMyCommands":
        return await bot.set_my_commands(
            [BotCommand(c["command"], c["description"]) for c in p["commands"]],
            scope=BotCommandScopeChat(chat_id),
        )
    if row.method == "deleteMyCommands":
        return await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id))
    if row.method == "leaveChat":
        return await bot.leave_chat(chat_id=chat_id)
    if row.method == "sendLocation":
        return await bot.send_location(
            chat_id=chat_id,
            latitude=p["latitude"],
            longitude=p["longitude"],
            reply_markup=reply_markup,
            protect_content=p.get("protect_content"),
        )
    if row.method == "sendVenue":
        return await bot.send_venue(
            chat_id=chat_id,
            latitude=p["latitude"],
            longitude=p["longitude"],
            title=p["title"],
            address=p["address"],
            reply_markup=reply_markup,
            protect_content=p.get("protect_content"),
        )
    raise ValueError(f"outbox method {row.method!r} is not supported")
