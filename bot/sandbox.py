"""The local sandbox: the built-in Telegram emulator, the bot against it, a throwaway database.

``homeward run`` with no token (and ``homeward sandbox``) start this, so a newcomer
can try Homeward without a Telegram account or any real child's details. It starts
with a seeded, fictional world (:mod:`bot.sandbox_world`), or with only an
administrator when ``empty``.
"""

from __future__ import annotations

import secrets
import string
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from bot.app import Homeward, build_app
from bot.clock import Clock
from bot.emulator import Emulator, LimitConfig
from bot.sandbox_world import SANDBOX_ADMIN_NAME, SeededWorld, seed_admin, seed_world
from bot.settings import Settings
from storage.migrate import upgrade

__all__ = ["SANDBOX_ADMIN_NAME", "Sandbox", "start_sandbox"]

# Scripted runs need no real-time pacing (it is proven in the delivery tests).
UNPACED_LIMITS = LimitConfig(
    private_capacity=1000, private_rate=1000, group_capacity=1000, group_rate=1000
)


@dataclass
class Sandbox:
    emulator: Emulator
    homeward: Homeward
    workdir: tempfile.TemporaryDirectory[str]
    world: SeededWorld

    @property
    def admin_user_id(self) -> int:
        return self.world.person("admin").user_id

    async def stop(self) -> None:
        try:
            await self.homeward.stop()
        finally:
            await self.emulator.stop()
            self.workdir.cleanup()

    def banner(self) -> str:
        url = self.emulator.url
        lines = [
            "Homeward sandbox is running (no Telegram token configured, nothing leaves this "
            "machine).",
            f"  Web chat: {self.emulator.chat_url}  (open it in a browser to talk to the bot)",
            f"  Telegram emulator: {url}  (control API under {url}/_emulator/)",
        ]
        if len(self.world.people) > 1:
            lines.append("  A fictional world: Maple House and its team around Sudbury. People:")
            lines += [
                f"    {p.key:<18} {p.user_id:>9}  {p.label}" for p in self.world.people.values()
            ]
        else:
            lines.append(f"  Sandbox admin's Telegram id: {self.admin_user_id} (an empty world)")
        lines.append("  Stop with Ctrl-C. The sandbox database is deleted on exit.")
        return "\n".join(lines)


def _sandbox_token() -> str:
    alphabet = string.ascii_letters + string.digits
    return "100000001:" + "".join(secrets.choice(alphabet) for _ in range(35))


async def start_sandbox(
    settings: Settings,
    *,
    empty: bool = False,
    clock: Clock | None = None,
    port: int | None = None,
    unpaced: bool = False,
    database_url: str | None = None,
) -> Sandbox:
    """Start the emulator, a throwaway database, the seeded world and the bot.

    ``clock`` (a FakeClock for scripted runs) drives the bot and the emulator;
    ``port`` overrides ``sandbox.port`` (0: any free port); ``unpaced`` lifts
    Telegram's pacing for scripted runs; ``database_url`` names an existing, migrated,
    empty database to use instead of the throwaway SQLite file (tests).
    """
    token = _sandbox_token()
    emulator = Emulator(
        token=token,
        bot_username="homeward_sandbox_bot",
        clock=clock,
        limit_config=UNPACED_LIMITS if unpaced else None,
    )
    await emulator.start(
        host=settings.sandbox.host, port=settings.sandbox.port if port is None else port
    )
    workdir = tempfile.TemporaryDirectory(prefix="homeward-sandbox-")
    try:
        db_url = database_url or f"sqlite+aiosqlite:///{Path(workdir.name) / 'sandbox.db'}"
        if database_url is None:
            await upgrade(db_url)
        update: dict[str, object] = {
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
        if unpaced:
            update["delivery"] = settings.delivery.model_copy(
                update={"per_chat_per_second": 100, "per_chat_burst": 100, "group_per_minute": 1000}
            )
        homeward = build_app(settings.model_copy(update=update), clock=clock, instance="sandbox")
        try:
            if empty:
                world = await seed_admin(homeward, emulator)
            else:
                world = await seed_world(homeward, emulator)
            await homeward.start()
        except BaseException:
            await homeward.stop()
            raise
    except BaseException:
        await emulator.stop()
        workdir.cleanup()
        raise
    return Sandbox(emulator, homeward, workdir, world)
