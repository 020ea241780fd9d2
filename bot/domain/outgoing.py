"""What the domain asks to be sent. Framework-free; the delivery layer speaks Bot API.

Every outgoing call (messages, edits, deletions, command menus, leaving a chat)
is written to the outbox as one of these, in the same transaction as the change
that caused it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any


class Priority(IntEnum):
    """Lower is sooner."""

    ALERT = 10
    REPLY = 20
    NOTICE = 30
    ROUTINE = 50


@dataclass(frozen=True, slots=True)
class Button:
    """An inline button. ``token`` is an opaque server-side action token; ``url`` a link."""

    text: str
    token: str | None = None
    url: str | None = None

    def to_api(self) -> dict[str, str]:
        if self.url is not None:
            return {"text": self.text, "url": self.url}
        if self.token is None:
            raise ValueError("a button needs a token or a url")
        return {"text": self.text, "callback_data": f"t:{self.token}"}


Keyboard = tuple[tuple[Button, ...], ...]


def keyboard_to_api(keyboard: Keyboard) -> dict[str, Any]:
    return {"inline_keyboard": [[b.to_api() for b in row] for row in keyboard]}


@dataclass(frozen=True, slots=True)
class Outgoing:
    method: str
    chat_id: int
    params: dict[str, Any] = field(default_factory=dict)
    priority: Priority = Priority.NOTICE
    recipient_member_id: int | None = None
    kind: str = "notice"
    ref: str | None = None  # lets later changes find this message (edit, retract)
    incident_id: int | None = None

    @classmethod
    def text(
        cls,
        chat_id: int,
        text: str,
        *,
        keyboard: Keyboard = (),
        protect_content: bool = False,
        priority: Priority = Priority.NOTICE,
        recipient_member_id: int | None = None,
        kind: str = "notice",
        ref: str | None = None,
        incident_id: int | None = None,
    ) -> Outgoing:
        params: dict[str, Any] = {
            "text": text,
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": True},
        }
        if keyboard:
            params["reply_markup"] = keyboard_to_api(keyboard)
        if protect_content:
            params["protect_content"] = True
        return cls(
            "sendMessage",
            chat_id,
            params,
            priority=priority,
            recipient_member_id=recipient_member_id,
            kind=kind,
            ref=ref,
            incident_id=incident_id,
        )

    @classmethod
    def photo(
        cls,
        chat_id: int,
        file_id: str,
        *,
        caption: str,
        keyboard: Keyboard = (),
        protect_content: bool = False,
        priority: Priority = Priority.NOTICE,
        recipient_member_id: int | None = None,
        kind: str = "notice",
        ref: str | None = None,
        incident_id: int | None = None,
    ) -> Outgoing:
        params: dict[str, Any] = {"photo": file_id, "caption": caption, "parse_mode": "HTML"}
        if keyboard:
            params["reply_markup"] = keyboard_to_api(keyboard)
        if protect_content:
            params["protect_content"] = True
        return cls(
            "sendPhoto",
            chat_id,
            params,
            priority=priority,
            recipient_member_id=recipient_member_id,
            kind=kind,
            ref=ref,
            incident_id=incident_id,
        )

    @classmethod
    def location(
        cls,
        chat_id: int,
        latitude: float,
        longitude: float,
        *,
        protect_content: bool = False,
        priority: Priority = Priority.NOTICE,
        recipient_member_id: int | None = None,
        kind: str = "notice",
        ref: str | None = None,
        incident_id: int | None = None,
    ) -> Outgoing:
        """A map pin: the client draws the map."""
        return cls._map_pin(
            "sendLocation",
            chat_id,
            {"latitude": latitude, "longitude": longitude},
            protect_content=protect_content,
            priority=priority,
            recipient_member_id=recipient_member_id,
            kind=kind,
            ref=ref,
            incident_id=incident_id,
        )

    @classmethod
    def venue(
        cls,
        chat_id: int,
        latitude: float,
        longitude: float,
        *,
        title: str,
        address: str,
        protect_content: bool = False,
        priority: Priority = Priority.NOTICE,
        recipient_member_id: int | None = None,
        kind: str = "notice",
        ref: str | None = None,
        incident_id: int | None = None,
    ) -> Outgoing:
        """A named place on a map (plain-text title and address, no HTML)."""
        if not title.strip() or not address.strip():
            raise ValueError("a venue needs a title and an address")
        return cls._map_pin(
            "sendVenue",
            chat_id,
            {"latitude": latitude, "longitude": longitude, "title": title, "address": address},
            protect_content=protect_content,
            priority=priority,
            recipient_member_id=recipient_member_id,
            kind=kind,
            ref=ref,
            incident_id=incident_id,
        )

    @classmethod
    def pin(
        cls,
        chat_id: int,
        latitude: float,
        longitude: float,
        *,
        title: str,
        label: str | None,
        protect_content: bool = False,
        priority: Priority = Priority.NOTICE,
        recipient_member_id: int | None = None,
        kind: str = "notice",
        ref: str | None = None,
        incident_id: int | None = None,
    ) -> Outgoing:
        """A venue when the place has a name (``label``), otherwise a plain location."""
        common: dict[str, Any] = {
            "protect_content": protect_content,
            "priority": priority,
            "recipient_member_id": recipient_member_id,
            "kind": kind,
            "ref": ref,
            "incident_id": incident_id,
        }
        if label and label.strip():
            return cls.venue(
                chat_id, latitude, longitude, title=title, address=label[:200], **common
            )
        return cls.location(chat_id, latitude, longitude, **common)

    @classmethod
    def _map_pin(
        cls,
        method: str,
        chat_id: int,
        params: dict[str, Any],
        *,
        protect_content: bool,
        priority: Priority,
        recipient_member_id: int | None,
        kind: str,
        ref: str | None,
        incident_id: int | None,
    ) -> Outgoing:
        if protect_content:
            params["protect_content"] = True
        return cls(
            method,
            chat_id,
            params,
            priority=priority,
            recipient_member_id=recipient_member_id,
            kind=kind,
            ref=ref,
            incident_id=incident_id,
        )

    @classmethod
    def delete(cls, chat_id: int, message_id: int, *, incident_id: int | None = None) -> Outgoing:
        return cls(
            "deleteMessage",
            chat_id,
            {"message_id": message_id},
            priority=Priority.ALERT,
            kind="retract",
            incident_id=incident_id,
        )

    @classmethod
    def replace_photo(
        cls, chat_id: int, message_id: int, *, caption: str, incident_id: int | None = None
    ) -> Outgoing:
        """Swap a photo older than Telegram's delete window for the neutral placeholder."""
        return cls(
            "editMessageMedia",
            chat_id,
            {
                "message_id": message_id,
                "placeholder": True,
                "caption": caption,
                "parse_mode": "HTML",
            },
            priority=Priority.ALERT,
            kind="retract",
            incident_id=incident_id,
        )

    @classmethod
    def edit_text(
        cls,
        chat_id: int,
        message_id: int,
        text: str,
        *,
        keyboard: Keyboard = (),
        incident_id: int | None = None,
        priority: Priority = Priority.REPLY,
    ) -> Outgoing:
        params: dict[str, Any] = {
            "message_id": message_id,
            "text": text,
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": True},
        }
        if keyboard:
            params["reply_markup"] = keyboard_to_api(keyboard)
        return cls(
            "editMessageText",
            chat_id,
            params,
            priority=priority,
            kind="edit",
            incident_id=incident_id,
        )

    @classmethod
    def set_commands(
        cls,
        chat_id: int,
        commands: list[tuple[str, str]],
        *,
        priority: Priority = Priority.REPLY,
    ) -> Outgoing:
        return cls(
            "setMyCommands",
            chat_id,
            {
                "commands": [{"command": c, "description": d} for c, d in commands],
                "scope": {"type": "chat", "chat_id": chat_id},
            },
            priority=priority,
            kind="commands",
        )

    @classmethod
    def clear_commands(cls, chat_id: int) -> Outgoing:
        return cls(
            "deleteMyCommands",
            chat_id,
            {"scope": {"type": "chat", "chat_id": chat_id}},
            priority=Priority.REPLY,
            kind="commands",
        )

    @classmethod
    def leave_chat(cls, chat_id: int) -> Outgoing:
        return cls("leaveChat", chat_id, {}, priority=Priority.REPLY, kind="leave")
