"""A loopback Telegram Bot API emulator for tests and local development.

It speaks the Bot API over HTTP as python-telegram-bot calls it, so a real PTB
``Application`` runs against it via ``ApplicationBuilder().base_url(emu.base_url)
.base_file_url(emu.base_file_url)``. It enforces Telegram's limits (text and caption
lengths, HTML parse mode, callback_data size, flood limits, the 48-hour delete rule),
injects faults, and records every request for assertions.

Modules: ``emulator`` (facade), ``server`` (HTTP, faults, recording), ``api`` /
``messaging`` / ``service`` (Bot API methods), ``state`` (the world), ``inject``
(updates), ``html`` (parse mode), ``limits`` (flood control), ``webhook`` (push),
``control`` (``/_emulator/`` JSON API), ``webchat`` (the browser chat under ``/chat``,
with ``personas`` naming the sandbox's cast).
"""

from bot.emulator.emulator import Emulator
from bot.emulator.limits import LimitConfig
from bot.emulator.models import ApiError, Call, EmuChat, EmuMessage, EmuUser, Fault

__all__ = [
    "ApiError",
    "Call",
    "EmuChat",
    "EmuMessage",
    "EmuUser",
    "Emulator",
    "Fault",
    "LimitConfig",
]
