"""Bot API methods about the bot itself: updates, webhook, files, commands, chats."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Any

from bot.emulator.api import get_bool, get_int, get_str
from bot.emulator.models import JSON, ApiError, bad_request, forbidden
from bot.emulator.state import ts

if TYPE_CHECKING:
    from bot.emulator.api import BotApi, Handler

SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
SCOPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)


async def get_me(api: BotApi, params: JSON, files: dict[str, bytes]) -> Any:
    return {
        **api.state.bot_user(),
        "can_join_groups": True,
        "can_read_all_group_messages": not api.state.privacy_mode,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def _allowed(params: JSON) -> list[str] | None:
    value = params.get("allowed_updates")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request("can't parse allowed updates")
    return list(value)


async def get_updates(api: BotApi, params: JSON, files: dict[str, bytes]) -> Any:
    state = api.state
    if state.webhook is not None:
        raise ApiError(409, WEBHOOK_CONFLICT)
    offset = get_int(params, "offset", required=False)
    limit = get_int(params, "limit", required=False) or 100
    limit = min(max(limit, 1), 100)
    timeout = max(0, get_int(params, "timeout", required=False) or 0)
    allowed = _allowed(params)
    if allowed is not None:
        state.allowed_updates = allowed
    state.expire_pending()
    if offset is not None and offset < 0:
        state.pending = state.pending[offset:]
    elif offset is not None:
        state.confirm_below(offset)
    state.poll_generation += 1
    generation = state.poll_generation
    state.notify()  # ends an older long poll with 409, as Telegram does
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    if not state.pending and timeout > 0:
        state.polls_waiting += 1
        state.notify()
        try:
            while not state.pending and not state.stopping:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                await state.wait_change(remaining)
                if state.poll_generation != generation:
                    raise ApiError(409, POLL_CONFLICT)
                if state.webhook is not None:
                    raise ApiError(409, WEBHOOK_CONFLICT)
        finally:
            state.polls_waiting -= 1
            state.notify()
    return [p.update for p in state.pending[:limit]]


async def set_webhook(api: BotApi, params: JSON, files: dict[str, bytes]) -> Any:
    state = api.state
    url = get_str(params, "url") or ""
    if not url:
        return await delete_webhook(api, params, files)
    if not url.startswith(("http://", "https://")):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = get_str(params, "secret_token")
    if secret is not None and SECRET_RE.fullmatch(secret) is None:
        if len(secret) > 256:
            raise bad_request("secret token is too long")
        raise bad_request("secret token contains unallowed characters")
    allowed = _allowed(params)
    if get_bool(params, "drop_pending_updates"):
        state.drop_pending()
    if allowed is not None:
        state.allowed_updates = allowed
    state.webhook = {
        "url": url,
        "secret_token": secret,
        "allowed_updates": allowed,
        "max_connections": get_int(params, "max_connections", required=False) or 40,
        "ip_address": get_str(params, "ip_address"),
        "last_error_date": None,
        "last_error_message": None,
    }
    state.notify()
    return True


async def delete_webhook(api: BotApi, params: JSON, files: dict[str, bytes]) -> Any:
    state = api.state
    if get_bool(params, "drop_pending_updates"):
        state.drop_pending()
    if state.webhook is not None:
        state.webhook = None
        state.notify()
    return True


async def get_webhook_info(api: BotApi, params: JSON, files: dict[str, bytes]) -> Any:
    state = api.state
    info: JSON = {
        "url": "",
        "has_custom_certificate": False,
        "pending_update_count": len(state.pending),
    }
    hook = state.webhook
    if hook is not None:
        info["url"] = hook["url"]
        info["max_connections"] = hook["max_connections"]
        if hook["allowed_updates"] is not None:
            info["allowed_updates"] = hook["allowed_updates"]
        if hook["last_error_date"] is not None:
            info["last_error_date"] = hook["last_error_date"]
            info["last_error_message"] = hook["last_error_message"]
    return info


async def get_file(api: BotApi, params: JSON, files: dict[str, bytes]) -> Any:
    stored = api.state.files.get(get_str(params, "file_id") or "")
    if stored is None:
        raise bad_request("invalid file_id")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
        "file_path": stored.file_path,
    }


def _scope_key(api: BotApi, params: JSON) -> tuple[str, int | None, str]:
    scope = params.get("scope") or {"type": "default"}
    if not isinstance(scope, dict) or scope.get("type") not in SCOPES:
        raise bad_request("can't parse BotCommandScope JSON object")
    kind = str(scope["type"])
    chat_id: int | None = None
    if kind in {"chat", "chat_administrators", "chat_member"}:
        chat_id = get_int(scope, "chat_id")
        if chat_id not in api.state.chats:
            raise bad_request("chat not found")
        if kind == "chat_member":
            chat_id = chat_id * 10**16 + (get_int(scope, "user_id") or 0)  # distinct key
    language = get_str(params, "language_code") or ""
    if language and not re.fullmatch(r"[a-z]{2}", language):
        raise bad_request("invalid language code specified")
    return kind, chat_id, language


async def set_my_commands(api: BotApi, params: JSON, files: dict[str, bytes]) -> Any:
    commands = params.get("commands")
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > 100:
        raise bad_request("too many commands specified")
    clean: list[JSON] = []
    for item in commands:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand JSON object")
        command, description = item.get("command"), item.get("description")
        if not isinstance(command, str) or COMMAND_RE.fullmatch(command.lower()) is None:
            raise bad_request("BOT_COMMAND_INVALID")
        if not isinstance(description, str) or not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        clean.append({"command": command.lower(), "description": description})
    key = _scope_key(api, params)
    if clean:
        api.state.commands[key] = clean
    else:
        api.state.commands.pop(key, None)
    api.state.notify()
    return True


async def get_my_commands(api: BotApi, params: JSON, files: dict[str, bytes]) -> Any:
    return list(api.state.commands.get(_scope_key(api, params), []))


async def delete_my_commands(api: BotApi, params: JSON, files: dict[str, bytes]) -> Any:
    api.state.commands.pop(_scope_key(api, params), None)
    api.state.notify()
    return True


async def leave_chat(api: BotApi, params: JSON, files: dict[str, bytes]) -> Any:
    state = api.state
    chat = api.lookup_chat(params)
    if chat.type == "private":
        raise bad_request("chat member status can't be changed in private chats")
    if chat.id in state.left_chats:
        kind = "supergroup" if chat.type == "supergroup" else "group"
        raise forbidden(f"bot is not a member of the {kind} chat")
    state.left_chats.add(chat.id)
    bot = state.bot_user()
    state.enqueue(
        {
            "my_chat_member": {
                "chat": chat.to_api(),
                "from": bot,
                "date": ts(state.clock.now()),
                "old_chat_member": {"status": "member", "user": bot},
                "new_chat_member": {"status": "left", "user": bot},
            }
        }
    )
    return True


async def get_chat(api: BotApi, params: JSON, files: dict[str, bytes]) -> Any:
    chat = api.lookup_chat(params)
    if chat.id in api.state.left_chats:
        raise forbidden("bot is not a member of the group chat")
    return {
        **chat.to_api(),
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    }


HANDLERS: dict[str, Handler] = {
    "getme": get_me,
    "getupdates": get_updates,
    "setwebhook": set_webhook,
    "deletewebhook": delete_webhook,
    "getwebhookinfo": get_webhook_info,
    "getfile": get_file,
    "setmycommands": set_my_commands,
    "getmycommands": get_my_commands,
    "deletemycommands": delete_my_commands,
    "leavechat": leave_chat,
    "getchat": get_chat,
}
