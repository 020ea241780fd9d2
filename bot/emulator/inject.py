"""Builds the Update payloads a real Telegram client would cause."""

from __future__ import annotations

import hashlib
import re

from bot.emulator.models import JSON, EmuChat, EmuMessage
from bot.emulator.state import State, ts

_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")


class Injector:
    def __init__(self, state: State) -> None:
        self.state = state

    def _chat_for(self, user_id: int, chat_id: int | None) -> EmuChat:
        self.state.user(user_id)
        return self.state.chat(user_id if chat_id is None else chat_id)

    def _message_update(self, message: EmuMessage) -> JSON:
        payload: JSON = {"message": self.state.message_to_api(message)}
        if not self._bot_sees(message):
            return payload  # stored in the chat, but no update: privacy mode
        return self.state.enqueue(payload)

    def _bot_sees(self, message: EmuMessage) -> bool:
        """Privacy mode: in groups the bot only gets commands and @mentions of itself."""
        state = self.state
        chat = state.chats[message.chat_id]
        if chat.type == "private" or not state.privacy_mode:
            return True
        if message.chat_id in state.left_chats:
            return False
        text = message.text or message.caption or ""
        return text.startswith("/") or f"@{state.bot_username}".lower() in text.lower()

    def _reply_target(self, chat: EmuChat, reply_to: int | None) -> int | None:
        """A message the user answers with Telegram's Reply: it must exist in the chat."""
        if reply_to is None:
            return None
        found = self.state.find_message(chat.id, reply_to)
        if found is None or found.deleted:
            raise ValueError(f"no message {reply_to} to reply to in chat {chat.id}")
        return reply_to

    def send_text(
        self, user_id: int, text: str, chat_id: int | None = None, *, reply_to: int | None = None
    ) -> JSON:
        chat = self._chat_for(user_id, chat_id)
        replied = self._reply_target(chat, reply_to)
        entities: list[JSON] = []
        match = _COMMAND_RE.match(text)
        if match is not None:
            entities.append(
                {
                    "type": "bot_command",
                    "offset": 0,
                    "length": len(match.group(0).encode("utf-16-le")) // 2,
                }
            )
        message = self.state.new_message(
            chat,
            from_bot=False,
            from_user_id=user_id,
            text=text,
            raw_text=text,
            entities=entities,
            reply_to_message_id=replied,
        )
        return self._message_update(message)

    def send_location(
        self,
        user_id: int,
        latitude: float,
        longitude: float,
        chat_id: int | None = None,
        *,
        reply_to: int | None = None,
    ) -> JSON:
        chat = self._chat_for(user_id, chat_id)
        replied = self._reply_target(chat, reply_to)
        message = self.state.new_message(
            chat,
            from_bot=False,
            from_user_id=user_id,
            location=(latitude, longitude),
            reply_to_message_id=replied,
        )
        return self._message_update(message)

    def send_photo(
        self,
        user_id: int,
        data: bytes,
        caption: str | None = None,
        chat_id: int | None = None,
        *,
        reply_to: int | None = None,
    ) -> JSON:
        chat = self._chat_for(user_id, chat_id)
        replied = self._reply_target(chat, reply_to)
        stored = self.state.store_file(data)
        message = self.state.new_message(
            chat,
            from_bot=False,
            from_user_id=user_id,
            photo_file_id=stored.file_id,
            caption=caption,
            raw_caption=caption,
            reply_to_message_id=replied,
        )
        return self._message_update(message)

    def forward_text(
        self, user_id: int, text: str, from_user_id: int, chat_id: int | None = None
    ) -> JSON:
        chat = self._chat_for(user_id, chat_id)
        self.state.user(from_user_id)
        message = self.state.new_message(
            chat,
            from_bot=False,
            from_user_id=user_id,
            text=text,
            raw_text=text,
            forward_from_user_id=from_user_id,
        )
        return self._message_update(message)

    def press_button(
        self, user_id: int, message_id: int, data: str, chat_id: int | None = None
    ) -> JSON:
        chat = self._chat_for(user_id, chat_id)
        state = self.state
        query_id = f"{state.bot_id}{state.next_callback:012d}"
        state.next_callback += 1
        found = state.find_message(chat.id, message_id)
        message: JSON
        if found is not None and not found.deleted:
            message = state.message_to_api(found)
        else:  # InaccessibleMessage, as Telegram sends for deleted or old messages
            message = {"chat": chat.to_api(), "message_id": message_id, "date": 0}
        instance = hashlib.sha256(f"{state.bot_id}:{chat.id}".encode()).hexdigest()[:16]
        state.callback_queries[query_id] = {"chat_id": chat.id, "answered": False}
        return state.enqueue(
            {
                "callback_query": {
                    "id": query_id,
                    "from": state.user(user_id).to_api(),
                    "message": message,
                    "chat_instance": str(int(instance, 16)),
                    "data": data,
                }
            }
        )

    def add_bot_to_group(self, by_user_id: int, chat_id: int) -> JSON:
        state = self.state
        user = state.user(by_user_id)
        chat = state.chat(chat_id)
        if chat.type == "private":
            raise ValueError("add_bot_to_group needs a group chat")
        state.left_chats.discard(chat_id)
        bot = state.bot_user()
        return state.enqueue(
            {
                "my_chat_member": {
                    "chat": chat.to_api(),
                    "from": user.to_api(),
                    "date": ts(state.clock.now()),
                    "old_chat_member": {"status": "left", "user": bot},
                    "new_chat_member": {"status": "member", "user": bot},
                }
            }
        )

    def inject_raw(self, payload: JSON) -> JSON:
        body = {k: v for k, v in payload.items() if k != "update_id"}
        return self.state.enqueue(body)
