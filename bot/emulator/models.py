"""Plain data kept by the emulator: users, chats, messages, recorded calls, faults."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

JSON = dict[str, Any]

FAULT_KINDS = frozenset(
    {
        "429",
        "500",
        "502",
        "503",
        "blocked",
        "deactivated",
        "cant_initiate",
        "chat_not_found",
        "migrated",
        "drop_after_store",
        "timeout",
        "refuse",
    }
)


class ApiError(Exception):
    """A Bot API error answer: ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def to_json(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(text: str) -> ApiError:
    return ApiError(400, f"Bad Request: {text}")


def forbidden(text: str) -> ApiError:
    return ApiError(403, f"Forbidden: {text}")


@dataclass
class EmuUser:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "en"
    blocked_bot: bool = False
    deactivated: bool = False

    def to_api(self) -> JSON:
        data: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data


@dataclass
class EmuChat:
    id: int
    type: str  # "private" | "group" | "supergroup"
    title: str | None = None
    user: EmuUser | None = None  # for private chats
    next_message_id: int = 1

    def to_api(self) -> JSON:
        if self.type == "private" and self.user is not None:
            data: JSON = {"id": self.id, "type": "private", "first_name": self.user.first_name}
            if self.user.last_name:
                data["last_name"] = self.user.last_name
            if self.user.username:
                data["username"] = self.user.username
            return data
        return {"id": self.id, "type": self.type, "title": self.title or ""}


@dataclass
class EmuMessage:
    """One message in a chat, in its current state.

    ``text``/``caption`` hold the visible text (after HTML parsing, as Telegram stores
    it); ``raw_text``/``raw_caption`` hold exactly what the bot sent.
    """

    message_id: int
    chat_id: int
    from_bot: bool
    from_user_id: int | None
    date: datetime
    text: str | None = None
    caption: str | None = None
    raw_text: str | None = None
    raw_caption: str | None = None
    entities: list[JSON] = field(default_factory=list)
    photo_file_id: str | None = None
    location: tuple[float, float] | None = None
    venue: JSON | None = None
    reply_markup: JSON | None = None
    protect_content: bool = False
    disable_notification: bool = False
    parse_mode: str | None = None
    reply_to_message_id: int | None = None
    forward_from_user_id: int | None = None
    edited: bool = False
    edit_date: datetime | None = None
    deleted: bool = False
    edit_history: list[JSON] = field(default_factory=list)


@dataclass
class Call:
    """One Bot API request as received and answered."""

    method: str
    params: JSON
    status: int
    response: JSON
    at: datetime
    chat_id: int | None = None
    received: float = 0.0  # time.monotonic() when the request arrived
    answered: float = 0.0  # time.monotonic() when the answer was sent (0: none was sent)

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))

    def to_json(self) -> JSON:
        return {
            "method": self.method,
            "params": {k: v for k, v in self.params.items() if not isinstance(v, bytes)},
            "status": self.status,
            "response": self.response,
            "at": self.at.isoformat(),
            "chat_id": self.chat_id,
        }


@dataclass
class Fault:
    """A failure to inject into matching requests.

    ``method`` (case-insensitive) and ``chat_id`` narrow which requests match (``None``
    matches any); ``times`` is how many matching requests are affected (``None``: until
    :meth:`Emulator.clear_faults`). ``probability`` < 1 makes each matching request
    affected only with that chance (drawn from ``seed``); with ``retry_after_max`` a 429
    picks its ``retry_after`` uniformly from ``retry_after``..``retry_after_max``.
    """

    kind: str
    method: str | None = None
    chat_id: int | None = None
    times: int | None = 1
    retry_after: int = 3
    description: str | None = None
    migrate_to_chat_id: int | None = None
    probability: float = 1.0
    retry_after_max: int | None = None
    seed: int | None = None
    rng: random.Random = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)  # noqa: S311 - test faults, not security
        if not 0.0 < self.probability <= 1.0:
            raise ValueError("probability must be in (0, 1]")
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; use one of {sorted(FAULT_KINDS)}")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be >= 1 or None")

    def matches(self, method: str, chat_id: int | None) -> bool:
        if self.method is not None and self.method.lower() != method.lower():
            return False
        return self.chat_id is None or self.chat_id == chat_id

    def fires(self) -> bool:
        """Whether a matching request is affected this time (see ``probability``)."""
        return self.probability >= 1.0 or self.rng.random() < self.probability

    def error(self, chat_id: int | None) -> ApiError | None:
        """The API error this fault answers with (None for connection-level faults)."""
        custom = self.description
        if self.kind == "429":
            seconds = self.retry_after
            if self.retry_after_max is not None and self.retry_after_max > seconds:
                seconds = self.rng.randint(seconds, self.retry_after_max)
            return ApiError(
                429,
                custom or f"Too Many Requests: retry after {seconds}",
                {"retry_after": seconds},
            )
        if self.kind in {"500", "502", "503"}:
            default = {
                "500": "Internal Server Error",
                "502": "Bad Gateway",
                "503": "Service Unavailable",
            }[self.kind]
            return ApiError(int(self.kind), custom or default)
        texts = {
            "blocked": (403, "Forbidden: bot was blocked by the user"),
            "deactivated": (403, "Forbidden: user is deactivated"),
            "cant_initiate": (403, "Forbidden: bot can't initiate conversation with a user"),
            "chat_not_found": (400, "Bad Request: chat not found"),
        }
        if self.kind in texts:
            code, text = texts[self.kind]
            return ApiError(code, custom or text)
        if self.kind == "migrated":
            target = self.migrate_to_chat_id
            if target is None:
                target = -(10**12 + abs(chat_id or 1))
            return ApiError(
                400,
                custom or "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": target},
            )
        return None
