"""The :class:`Emulator` facade: starts the server and exposes injection and observation."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Callable
from types import TracebackType
from typing import Self

from aiohttp import web

from bot.clock import Clock, SystemClock
from bot.emulator.api import BotApi
from bot.emulator.control import Control
from bot.emulator.inject import Injector
from bot.emulator.limits import LimitConfig, RateLimiter
from bot.emulator.models import JSON, Call, EmuChat, EmuMessage, EmuUser, Fault
from bot.emulator.personas import Personas
from bot.emulator.server import MAX_BODY, Server
from bot.emulator.state import State
from bot.emulator.webchat import WebChat, local_only
from bot.emulator.webhook import Delivery, WebhookPusher


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Emulator:
    """A loopback Telegram Bot API server for tests (see the package docstring).

    ``latency_seconds`` holds back every answer (not long polls) by that long, after the
    request took effect, like a network round trip. Each recorded :class:`Call` carries
    ``received``/``answered`` (``time.monotonic()``) for timing assertions.

    ``clock`` dates messages and drives the 48-hour delete rule and the 24-hour expiry
    of undelivered updates; ``limits_clock`` (its ``monotonic()``) paces flood limits.

    Injection methods (``send_text`` ... ``inject_raw``) store what the user did, build a
    real Update with the next ``update_id``, queue it for getUpdates or the webhook, and
    return it. In groups the bot is in privacy mode by default (``privacy_mode=True``,
    matching getMe's ``can_read_all_group_messages=False``): only commands and messages
    that mention ``@bot_username`` are delivered; other messages are stored in the chat
    and the returned payload has no ``update_id``. Groups start with the bot as a
    member; ``leaveChat`` removes it and ``add_bot_to_group`` brings it back.
    """

    def __init__(
        self,
        token: str = "123456789:AAE_test_token_for_emulator_only_xx",  # noqa: S107
        bot_username: str = "homeward_bot",
        clock: Clock | None = None,
        limits_clock: Clock | None = None,
        enforce_limits: bool = True,
        limit_config: LimitConfig | None = None,
        privacy_mode: bool = True,
        latency_seconds: float = 0.0,
    ) -> None:
        if ":" not in token or not token.split(":", 1)[0].isdigit():
            raise ValueError("token must look like '<bot id>:<secret>'")
        self.token = token
        self.clock: Clock = clock or SystemClock()
        self.limits_clock: Clock = limits_clock or SystemClock()
        self.state = State(token, bot_username, self.clock)
        self.state.privacy_mode = privacy_mode
        self.limiter = RateLimiter(self.limits_clock, limit_config)
        self.api = BotApi(self.state, self.limiter, enforce_limits)
        self.server = Server(self.state, self.api)
        self.server.latency_seconds = latency_seconds
        self.injector = Injector(self.state)
        self.pusher = WebhookPusher(self.state)
        self.personas = Personas()  # the sandbox's cast, for the web chat
        self._runner: web.AppRunner | None = None
        self._host = "127.0.0.1"
        self._port = 0

    # --- lifecycle ---------------------------------------------------------------
    @property
    def latency_seconds(self) -> float:
        return self.server.latency_seconds

    @latency_seconds.setter
    def latency_seconds(self, value: float) -> None:
        self.server.latency_seconds = max(0.0, value)

    @property
    def port(self) -> int:
        return self._port

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if not _is_loopback(host):
            raise ValueError(f"the emulator binds to loopback only, not {host!r}")
        if self._runner is not None:
            raise RuntimeError("emulator already started")
        app = web.Application(client_max_size=MAX_BODY, middlewares=[local_only])
        self.server.routes(app)
        Control(self).routes(app)
        WebChat(self).routes(app)
        runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=0.5, access_log=None
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        addresses = runner.addresses
        self._host = host
        self._port = int(addresses[0][1]) if addresses else port
        self._runner = runner
        self.state.stopping = False
        self.server.stopped.clear()
        self.pusher.start()

    async def stop(self) -> None:
        if self._runner is None:
            return
        self.state.stopping = True
        self.server.stopped.set()
        self.state.notify()
        await self.pusher.stop()
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._port}"

    @property
    def chat_url(self) -> str:
        """The web chat (see :mod:`bot.emulator.webchat`)."""
        return f"{self.url}/chat"

    @property
    def base_url(self) -> str:
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    @property
    def bot_id(self) -> int:
        return self.state.bot_id

    @property
    def bot_username(self) -> str:
        return self.state.bot_username

    # --- world -------------------------------------------------------------------
    def add_user(
        self,
        first_name: str = "Ana",
        last_name: str | None = None,
        username: str | None = None,
        user_id: int | None = None,
        language_code: str | None = "en",
    ) -> EmuUser:
        return self.state.add_user(first_name, last_name, username, user_id, language_code)

    def set_username(self, user_id: int, username: str | None) -> None:
        self.state.user(user_id).username = username
        self.state.notify()

    def add_group(
        self, title: str = "Ops room", chat_id: int | None = None, supergroup: bool = False
    ) -> EmuChat:
        return self.state.add_group(title, chat_id, supergroup)

    def get_user(self, user_id: int) -> EmuUser:
        return self.state.user(user_id)

    def get_chat(self, chat_id: int) -> EmuChat:
        return self.state.chat(chat_id)

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sends to their private chat get 403 until unblock()."""
        self.state.user(user_id).blocked_bot = True
        self.state.notify()

    def unblock(self, user_id: int) -> None:
        self.state.user(user_id).blocked_bot = False
        self.state.notify()

    def deactivate(self, user_id: int) -> None:
        """The account is deleted: sends get 403 "user is deactivated"."""
        self.state.user(user_id).deactivated = True
        self.state.notify()

    def upload_file(self, data: bytes, ext: str = "jpg") -> str:
        """Store a photo as if uploaded to Telegram earlier; returns its file_id (which
        sendPhoto and getFile accept). The sandbox seeds profile photos this way."""
        if not data:
            raise ValueError("a file needs some bytes")
        stored = self.state.store_file(data, ext=ext)
        self.state.notify()
        return stored.file_id

    # --- injection -----------------------------------------------------------------
    # ``reply_to``: the message id the user answers with Telegram's Reply.
    def send_text(
        self, user_id: int, text: str, chat_id: int | None = None, *, reply_to: int | None = None
    ) -> JSON:
        return self.injector.send_text(user_id, text, chat_id, reply_to=reply_to)

    def send_location(
        self,
        user_id: int,
        latitude: float,
        longitude: float,
        chat_id: int | None = None,
        *,
        reply_to: int | None = None,
    ) -> JSON:
        return self.injector.send_location(user_id, latitude, longitude, chat_id, reply_to=reply_to)

    def send_photo(
        self,
        user_id: int,
        data: bytes,
        caption: str | None = None,
        chat_id: int | None = None,
        *,
        reply_to: int | None = None,
    ) -> JSON:
        return self.injector.send_photo(user_id, data, caption, chat_id, reply_to=reply_to)

    def forward_text(
        self, user_id: int, text: str, from_user_id: int, chat_id: int | None = None
    ) -> JSON:
        return self.injector.forward_text(user_id, text, from_user_id, chat_id)

    def press_button(
        self, user_id: int, message_id: int, data: str, chat_id: int | None = None
    ) -> JSON:
        return self.injector.press_button(user_id, message_id, data, chat_id)

    def add_bot_to_group(self, by_user_id: int, chat_id: int) -> JSON:
        return self.injector.add_bot_to_group(by_user_id, chat_id)

    def inject_raw(self, update: JSON) -> JSON:
        return self.injector.inject_raw(update)

    # --- observation -----------------------------------------------------------------
    @property
    def calls(self) -> list[Call]:
        return self.state.calls

    def calls_to(self, method: str | None = None, chat_id: int | None = None) -> list[Call]:
        return [
            call
            for call in self.state.calls
            if (method is None or call.method.lower() == method.lower())
            and (chat_id is None or call.chat_id == chat_id)
        ]

    def messages(self, chat_id: int) -> list[EmuMessage]:
        return list(self.state.chat_messages.get(chat_id, []))

    def bot_messages(self, chat_id: int) -> list[EmuMessage]:
        return [m for m in self.messages(chat_id) if m.from_bot and not m.deleted]

    @property
    def left_chats(self) -> set[int]:
        return self.state.left_chats

    @property
    def webhook(self) -> JSON | None:
        return self.state.webhook

    @property
    def webhook_deliveries(self) -> list[Delivery]:
        return self.pusher.deliveries

    @property
    def callback_answers(self) -> dict[str, JSON]:
        """callback_query_id -> {"chat_id", "answered", "answer": {text, show_alert, url}}."""
        return self.state.callback_queries

    @property
    def polls_waiting(self) -> int:
        """How many getUpdates long polls are being held open right now."""
        return self.state.polls_waiting

    def pending_update_count(self) -> int:
        return len(self.state.pending)

    def commands_for(self, chat_id: int, language_code: str = "") -> list[JSON]:
        """Commands a client in ``chat_id`` sees: chat scope, then all_private_chats /
        all_group_chats, then default (each tried with ``language_code``, then without)."""
        chat = self.state.chat(chat_id)
        broad = "all_private_chats" if chat.type == "private" else "all_group_chats"
        keys: list[tuple[str, int | None]] = [("chat", chat_id), (broad, None), ("default", None)]
        for kind, target in keys:
            for language in dict.fromkeys([language_code, ""]):
                found = self.state.commands.get((kind, target, language))
                if found:
                    return list(found)
        return []

    async def wait_for(
        self,
        predicate: Callable[[], bool],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> None:
        """Return once ``predicate()`` is true; re-checked on every recorded request and
        state change (no polling). Raises TimeoutError describing the last calls."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if predicate():
                return
            remaining = deadline - loop.time()
            if remaining <= 0 or not await self.state.wait_change(remaining):
                if predicate():
                    return
                recent = (
                    ", ".join(f"{c.method}->{c.status}" for c in self.state.calls[-8:]) or "none"
                )
                raise TimeoutError(
                    f"emulator: condition {getattr(predicate, '__name__', predicate)!r} still "
                    f"false after {timeout}s; {len(self.state.calls)} calls recorded, "
                    f"last: {recent}; pending updates: {len(self.state.pending)}"
                )

    async def wait_for_message(
        self,
        chat_id: int,
        predicate: Callable[[EmuMessage], bool] = lambda m: True,
        timeout: float = 5.0,  # noqa: ASYNC109
        after_message_id: int = 0,
    ) -> EmuMessage:
        """The first (lowest id) not-deleted bot message in ``chat_id`` with id greater
        than ``after_message_id`` matching ``predicate`` — already there or arriving
        within ``timeout``. Calling it twice without ``after_message_id`` returns the same
        message; pass the previous ``message_id`` to wait for the next one."""
        found: list[EmuMessage] = []

        def matched() -> bool:
            for message in self.bot_messages(chat_id):
                if message.message_id > after_message_id and predicate(message):
                    found.append(message)
                    return True
            return False

        matched.__name__ = f"bot message in chat {chat_id}"
        await self.wait_for(matched, timeout)
        return found[-1]

    # --- faults ------------------------------------------------------------------------
    def inject_fault(self, fault: Fault) -> None:
        self.server.faults.append(fault)

    def clear_faults(self) -> None:
        self.server.faults.clear()

    @property
    def faults(self) -> list[Fault]:
        return self.server.faults

    def reset_limits(self) -> None:
        self.limiter.reset()
