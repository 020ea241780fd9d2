"""The emulator's world: users, chats, messages, files, pending updates, and change events."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.clock import Clock
from bot.emulator.models import JSON, Call, EmuChat, EmuMessage, EmuUser

# Update types delivered when allowed_updates is unset or empty (as Telegram does).
DEFAULT_EXCLUDED = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes


@dataclass
class PendingUpdate:
    update: JSON
    created: datetime


def update_type(update: JSON) -> str | None:
    return next((key for key in update if key != "update_id"), None)


def ts(when: datetime) -> int:
    return int(when.timestamp())


class State:
    def __init__(self, token: str, bot_username: str, clock: Clock) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.clock = clock
        self.users: dict[int, EmuUser] = {}
        self.chats: dict[int, EmuChat] = {}
        self.chat_messages: dict[int, list[EmuMessage]] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.pending: list[PendingUpdate] = []
        self.calls: list[Call] = []
        self.left_chats: set[int] = set()
        self.commands: dict[tuple[str, int | None, str], list[JSON]] = {}
        self.webhook: JSON | None = None
        self.allowed_updates: list[str] | None = None
        self.callback_queries: dict[str, JSON] = {}
        self.next_update_id = 500_000_001
        self.next_user_id = 1_000_001
        self.next_group_id = 4_000_001
        self.next_file = 1
        self.next_callback = 1
        self.poll_generation = 0
        self.privacy_mode = True
        self.polls_waiting = 0  # getUpdates requests currently held open (long poll)
        self.stopping = False
        self._change = asyncio.Event()

    # --- change notification -------------------------------------------------
    def notify(self) -> None:
        """Wake everything waiting for a change (long polls, wait_for, the webhook pusher)."""
        event = self._change
        self._change = asyncio.Event()
        event.set()

    def change_event(self) -> asyncio.Event:
        return self._change

    async def wait_change(self, timeout: float) -> bool:  # noqa: ASYNC109
        """Wait until the next change or ``timeout`` seconds; True if something changed."""
        event = self._change
        if timeout <= 0:
            return False
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await event.wait()
            return True
        return False

    # --- identities ----------------------------------------------------------
    def bot_user(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Homeward",
            "username": self.bot_username,
        }

    def add_user(
        self,
        first_name: str,
        last_name: str | None,
        username: str | None,
        user_id: int | None,
        language_code: str | None,
    ) -> EmuUser:
        if user_id is None:
            while self.next_user_id in self.users:
                self.next_user_id += 1
            user_id = self.next_user_id
            self.next_user_id += 1
        if user_id <= 0:
            raise ValueError("user ids are positive")
        if user_id in self.users:
            raise ValueError(f"user {user_id} already exists")
        user = EmuUser(user_id, first_name, last_name, username, language_code)
        self.users[user_id] = user
        self.chats[user_id] = EmuChat(user_id, "private", user=user)
        self.chat_messages[user_id] = []
        self.notify()
        return user

    def add_group(self, title: str, chat_id: int | None, supergroup: bool) -> EmuChat:
        if chat_id is None:
            base = self.next_group_id
            self.next_group_id += 1
            chat_id = -(1_000_000_000_000 + base) if supergroup else -base
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        if chat_id in self.chats:
            raise ValueError(f"chat {chat_id} already exists")
        chat = EmuChat(chat_id, "supergroup" if supergroup else "group", title=title)
        self.chats[chat_id] = chat
        self.chat_messages[chat_id] = []
        self.notify()
        return chat

    def user(self, user_id: int) -> EmuUser:
        try:
            return self.users[user_id]
        except KeyError:
            raise KeyError(f"no user {user_id} in the emulator; add_user() first") from None

    def chat(self, chat_id: int) -> EmuChat:
        try:
            return self.chats[chat_id]
        except KeyError:
            raise KeyError(f"no chat {chat_id} in the emulator") from None

    # --- messages --------------------------------------------------------------
    def new_message(self, chat: EmuChat, **fields: Any) -> EmuMessage:
        message = EmuMessage(
            message_id=chat.next_message_id, chat_id=chat.id, date=self.clock.now(), **fields
        )
        chat.next_message_id += 1
        self.chat_messages[chat.id].append(message)
        self.notify()
        return message

    def find_message(self, chat_id: int, message_id: int) -> EmuMessage | None:
        for message in self.chat_messages.get(chat_id, []):
            if message.message_id == message_id:
                return message
        return None

    def message_to_api(self, message: EmuMessage, with_reply: bool = True) -> JSON:
        chat = self.chats[message.chat_id]
        data: JSON = {
            "message_id": message.message_id,
            "date": ts(message.date),
            "chat": chat.to_api(),
        }
        if message.from_bot:
            data["from"] = self.bot_user()
        elif message.from_user_id is not None and message.from_user_id in self.users:
            data["from"] = self.users[message.from_user_id].to_api()
        if message.forward_from_user_id is not None:
            origin = self.users.get(message.forward_from_user_id)
            data["forward_origin"] = {
                "type": "user",
                "date": ts(message.date),
                "sender_user": origin.to_api()
                if origin
                else {"id": 0, "is_bot": False, "first_name": "?"},
            }
        if message.edit_date is not None:
            data["edit_date"] = ts(message.edit_date)
        if message.text is not None:
            data["text"] = message.text
            if message.entities:
                data["entities"] = message.entities
        if message.photo_file_id is not None:
            stored = self.files[message.photo_file_id]
            data["photo"] = [
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "width": 320,
                    "height": 320,
                    "file_size": len(stored.data),
                }
            ]
        if message.caption is not None:
            data["caption"] = message.caption
            if message.entities:
                data["caption_entities"] = message.entities
        if message.location is not None:
            data["location"] = {"latitude": message.location[0], "longitude": message.location[1]}
        if message.venue is not None:
            data["venue"] = message.venue
        if message.reply_markup is not None and "inline_keyboard" in message.reply_markup:
            data["reply_markup"] = message.reply_markup
        if message.protect_content:
            data["has_protected_content"] = True
        if with_reply and message.reply_to_message_id is not None:
            replied = self.find_message(message.chat_id, message.reply_to_message_id)
            if replied is not None:
                data["reply_to_message"] = self.message_to_api(replied, with_reply=False)
        return data

    # --- files -----------------------------------------------------------------
    def store_file(self, data: bytes, kind: str = "photos", ext: str = "jpg") -> StoredFile:
        number = self.next_file
        self.next_file += 1
        stored = StoredFile(
            file_id=f"EmuFile{kind.capitalize()}{number:08d}",
            file_unique_id=f"EmuU{number:08d}",
            file_path=f"{kind}/file_{number}.{ext}",
            data=data,
        )
        self.files[stored.file_id] = stored
        self.files_by_path[stored.file_path] = stored
        return stored

    # --- updates ---------------------------------------------------------------
    def allows(self, kind: str | None) -> bool:
        if not self.allowed_updates:
            return kind not in DEFAULT_EXCLUDED
        return kind in self.allowed_updates

    def enqueue(self, payload: JSON) -> JSON:
        """Give ``payload`` the next update_id and queue it (unless filtered out)."""
        update: JSON = {"update_id": self.next_update_id, **payload}
        self.next_update_id += 1
        if self.allows(update_type(update)):
            self.pending.append(PendingUpdate(update, self.clock.now()))
        self.notify()
        return update

    def expire_pending(self) -> None:
        """Telegram keeps undelivered updates for at most 24 hours."""
        now = self.clock.now()
        self.pending = [p for p in self.pending if (now - p.created).total_seconds() < 86_400]

    def confirm_below(self, offset: int) -> None:
        before = len(self.pending)
        self.pending = [p for p in self.pending if p.update["update_id"] >= offset]
        if len(self.pending) != before:
            self.notify()

    def drop_pending(self) -> None:
        if self.pending:
            self.pending.clear()
            self.notify()
