"""The local sandbox: the built-in Telegram emulator, the bot against it, a throwaway database.

``homeward run`` with no token (and ``homeward sandbox``) start this, so a newcomer
can try Homeward without a Telegram account or any real child's details.
"""

from __future__ import annotations

import secrets
import string
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from bot.app import Homeward, build_app
from bot.emulator import Emulator
from bot.services import members
from bot.settings import Settings
from storage.migrate import upgrade

SANDBOX_ADMIN_NAME = "Sandbox Admin"


@dataclass
class Sandbox:
    emulator: Emulator
    homeward: Homeward
    workdir: tempfile.TemporaryDirectory[str]
    admin_user_id: int

    async def stop(self) -> None:
        try:
            await self.homeward.stop()
        finally:
            await self.emulator.stop()
            self.workdir.cleanup()

    def banner(self) -> str:
        url = self.emulator.url
        return (
            "Homeward sandbox is running (no Telegram token configured, nothing leaves this "
            "machine).\n"
            f"  Web chat: {self.emulator.chat_url}  (open it in a browser to talk to the bot)\n"
            f"  Telegram emulator: {url}  (control API under {url}/_emulator/)\n"
            f"  Sandbox admin's Telegram id: {self.admin_user_id}\n"
            "  Stop with Ctrl-C. The sandbox database is deleted on exit."
        )


def _sandbox_token() -> str:
    alphabet = string.ascii_letters + string.digits
    return "100000001:" + "".join(secrets.choice(alphabet) for _ in range(35))


async def start_sandbox(settings: Settings) -> Sandbox:
    token = _sandbox_token()
    emulator = Emulator(token=token, bot_username="homeward_sandbox_bot")
    await emulator.start(host=settings.sandbox.host, port=settings.sandbox.port)
    workdir = tempfile.TemporaryDirectory(prefix="homeward-sandbox-")
    try:
        db_url = f"sqlite+aiosqlite:///{Path(workdir.name) / 'sandbox.db'}"
        await upgrade(db_url)
        sandbox_settings = settings.model_copy(
            update={
                "telegram": settings.telegram.model_copy(
                    update={
                        "token": SecretStr(token),
                        "base_url": emulator.base_url,
                        "base_file_url": emulator.base_file_url,
                        "mode": "polling",
                        "poll_timeout_seconds": 10,
                    }
                ),
                # Nothing leaves the machine in the sandbox: no address lookups.
                "geocoding": settings.geocoding.model_copy(update={"enabled": False}),
                "database": settings.database.model_copy(update={"url": SecretStr(db_url)}),
            }
        )
        homeward = build_app(sandbox_settings, instance="sandbox")
        admin = emulator.add_user(first_name="Sandbox", last_name="Admin", username="sandbox_admin")
        await members.add_admin(homeward.ctx, telegram_id=admin.id, name=SANDBOX_ADMIN_NAME)
        await homeward.start()
    except BaseException:
        await emulator.stop()
        workdir.cleanup()
        raise
    return Sandbox(emulator, homeward, workdir, admin.id)
