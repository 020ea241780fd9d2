"""Bot API dispatch and the validation helpers shared by the method modules."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.emulator.html import render, utf16_len
from bot.emulator.limits import EDIT_METHODS, SENDING_METHODS, RateLimiter
from bot.emulator.models import JSON, ApiError, EmuChat, bad_request, forbidden
from bot.emulator.state import State

Handler = Callable[["BotApi", JSON, dict[str, bytes]], Awaitable[Any]]

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64


def get_int(params: JSON, name: str, required: bool = True) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise bad_request(f"{name} is empty" if name != "chat_id" else "chat_id is empty")
        return None
    if isinstance(value, bool):
        raise bad_request(f"invalid {name} specified")
    if isinstance(value, int):
        return value
    try:
        return int(str(value))
    except ValueError:
        raise bad_request(f"invalid {name} specified") from None


def get_float(params: JSON, name: str) -> float:
    value = params.get(name)
    if value is None or value == "" or isinstance(value, bool):
        raise bad_request(f"{name} is empty" if value in (None, "") else f"wrong {name}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise bad_request(f"wrong {name}") from None


def get_bool(params: JSON, name: str) -> bool:
    value = params.get(name)
    if isinstance(value, str):
        return value.lower() in {"true", "1"}
    return bool(value)


def get_str(params: JSON, name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


class BotApi:
    def __init__(self, state: State, limiter: RateLimiter, enforce_limits: bool) -> None:
        self.state = state
        self.limiter = limiter
        self.enforce_limits = enforce_limits
        from bot.emulator.messaging import HANDLERS as MESSAGING
        from bot.emulator.service import HANDLERS as SERVICE

        self.handlers: dict[str, Handler] = {**MESSAGING, **SERVICE}

    def knows(self, method: str) -> bool:
        return method.lower() in self.handlers

    async def dispatch(self, method: str, params: JSON, files: dict[str, bytes]) -> Any:
        return await self.handlers[method.lower()](self, params, files)

    def call_chat_id(self, method: str, params: JSON) -> int | None:
        """Which chat a request concerns (for Call.chat_id and fault matching)."""
        value = params.get("chat_id")
        if value is None and method.lower() == "answercallbackquery":
            query = self.state.callback_queries.get(str(params.get("callback_query_id")))
            return int(query["chat_id"]) if query else None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                return None
        if value is None and method.lower() == "setmycommands":
            scope = params.get("scope")
            if isinstance(scope, dict) and isinstance(scope.get("chat_id"), int):
                return int(scope["chat_id"])
        return None

    # --- helpers used by the handlers --------------------------------------------
    def lookup_chat(self, params: JSON) -> EmuChat:
        chat_id = get_int(params, "chat_id")
        chat = self.state.chats.get(chat_id) if chat_id is not None else None
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def writable_chat(self, params: JSON) -> EmuChat:
        """The target chat of a send, or the 400/403 Telegram gives for it."""
        chat = self.lookup_chat(params)
        if chat.type == "private" and chat.user is not None:
            if chat.user.deactivated:
                raise forbidden("user is deactivated")
            if chat.user.blocked_bot:
                raise forbidden("bot was blocked by the user")
        elif chat.id in self.state.left_chats:
            kind = "supergroup" if chat.type == "supergroup" else "group"
            raise forbidden(f"bot is not a member of the {kind} chat")
        return chat

    def take_token(self, method: str, chat: EmuChat) -> None:
        name = method.lower()
        if self.enforce_limits and (name in SENDING_METHODS or name in EDIT_METHODS):
            self.limiter.acquire(chat.id, chat.type == "private")

    @staticmethod
    def render_text(
        text: str | None, parse_mode: str | None, caption: bool
    ) -> tuple[str | None, list[JSON]]:
        if caption:
            if text is None or text == "":
                return None, []
            visible, entities = render(text, parse_mode)
            if utf16_len(visible) > CAPTION_LIMIT:
                raise bad_request("message caption is too long")
            return visible, entities
        if text is None:
            raise bad_request("message text is empty")
        visible, entities = render(text, parse_mode)
        if not visible.strip():
            raise bad_request("message text is empty")
        if utf16_len(visible) > TEXT_LIMIT:
            raise bad_request("message is too long")
        return visible, entities

    @staticmethod
    def validate_markup(markup: Any) -> JSON | None:
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad_request(
                    'can\'t parse inline keyboard button: field "inline_keyboard" '
                    "must be an Array of Arrays"
                )
            for row in rows:
                for button in row:
                    BotApi._validate_button(button)
            return markup
        if any(key in markup for key in ("keyboard", "remove_keyboard", "force_reply")):
            return markup
        raise bad_request("can't parse reply keyboard markup JSON object")

    @staticmethod
    def _validate_button(button: Any) -> None:
        if not isinstance(button, dict) or not isinstance(button.get("text"), str):
            raise bad_request("can't parse inline keyboard button: Text must be a String")
        if "callback_data" in button:
            data = button["callback_data"]
            if (
                not isinstance(data, str)
                or not 1 <= len(data.encode("utf-8")) <= CALLBACK_DATA_LIMIT
            ):
                raise bad_request("BUTTON_DATA_INVALID")
        elif "url" in button:
            url = button["url"]
            if not isinstance(url, str) or not url:
                raise bad_request("BUTTON_URL_INVALID")
        elif not any(
            key in button
            for key in (
                "login_url",
                "switch_inline_query",
                "switch_inline_query_current_chat",
                "switch_inline_query_chosen_chat",
                "copy_text",
                "web_app",
                "callback_game",
                "pay",
            )
        ):
            raise bad_request(
                "can't parse inline keyboard button: InlineKeyboardButton must "
                "have exactly one optional field"
            )

    def reply_target(self, chat: EmuChat, params: JSON) -> int | None:
        reply = params.get("reply_parameters")
        message_id: int | None = None
        allow_missing = get_bool(params, "allow_sending_without_reply")
        if isinstance(reply, dict):
            message_id = get_int(reply, "message_id", required=False)
            allow_missing = allow_missing or bool(reply.get("allow_sending_without_reply"))
        elif params.get("reply_to_message_id") is not None:
            message_id = get_int(params, "reply_to_message_id")
        if message_id is None:
            return None
        found = self.state.find_message(chat.id, message_id)
        if found is None or found.deleted:
            if allow_missing:
                return None
            raise bad_request("message to be replied not found")
        return message_id


def not_found_error() -> ApiError:
    return ApiError(404, "Not Found")
