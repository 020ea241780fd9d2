"""Benchmark: one approved alert fanned out to 1,000 recipients through the emulator.

Targets (issue 3): all delivered within 35 s against an emulator enforcing Telegram's
30 messages/s, zero 429s, first recipient within 1 s of approval. Uses the real app
(python-telegram-bot over HTTP, the outbox and its sender) and the real approval path.

    python -m bench.fanout [--recipients 1000] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

from bot.app import build_app
from bot.clock import FakeClock
from bot.domain.membership import MemberStatus, OrgKind, Role, ServiceArea
from bot.emulator import Emulator
from bot.services import alerts, members
from bot.settings import load_settings
from storage.migrate import upgrade

TOKEN = "123456789:AAE_benchmark_token_for_the_emulator"
POINT = (46.49, -80.99)


async def one_run(recipients: int) -> dict[str, float]:
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    clock = FakeClock()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await upgrade(url)
        async with Emulator(token=TOKEN, clock=clock) as emu:
            settings = load_settings(
                None,
                telegram={
                    "token": SecretStr(TOKEN),
                    "base_url": emu.base_url,
                    "base_file_url": emu.base_file_url,
                    "poll_timeout_seconds": 5,
                },
                database={"url": SecretStr(url)},
                geocoding={"enabled": False},
            )
            hw = build_app(settings, clock=clock)
            await hw.start()
            try:
                ctx = hw.ctx
                residence = await members.create_org(
                    ctx,
                    actor_telegram_id=None,
                    kind=OrgKind.RESIDENCE,
                    name="Maple House",
                    latitude=POINT[0],
                    longitude=POINT[1],
                )
                async with ctx.uow() as uow:
                    staff = await uow.members.add(
                        telegram_id=900_000_001,
                        name="Sam Staff",
                        role=Role.RESIDENCE_STAFF,
                        org_id=residence.id,
                        status=MemberStatus.ACTIVE,
                        registration_step=None,
                        created_at=clock.now(),
                    )
                    coordinator = await uow.members.add(
                        telegram_id=900_000_002,
                        name="Cora Coordinator",
                        role=Role.COORDINATOR,
                        org_id=None,
                        status=MemberStatus.ACTIVE,
                        registration_step=None,
                        created_at=clock.now(),
                    )
                    for i in range(recipients - 1):
                        user = emu.add_user(first_name=f"Responder{i}")
                        m = await uow.members.add(
                            telegram_id=user.id,
                            name=f"Responder {i}",
                            role=Role.RESPONDER,
                            org_id=None,
                            status=MemberStatus.ACTIVE,
                            registration_step=None,
                            created_at=clock.now(),
                        )
                        await uow.members.update_registration(
                            m.id,
                            step=None,
                            area=ServiceArea(latitude=POINT[0], longitude=POINT[1], radius_km=10),
                        )
                    incident = await alerts.submit(
                        uow,
                        ctx,
                        raiser=staff,
                        data={
                            "youth": "other",
                            "subject_name": "Test Youth",
                            "subject_age": 15,
                            "subject_description": "fictional",
                            "last_seen": clock.now().isoformat(),
                            "location": {
                                "latitude": POINT[0],
                                "longitude": POINT[1],
                                "label": "Maple House",
                                "source": "residence",
                            },
                            "clothing": "blue coat",
                            "circumstances": "benchmark",
                            "police_told": False,
                        },
                    )
                    await uow.commit()
                hw.sender.wake()
                await asyncio.wait_for(hw.sender.wait_idle(), 60)
                before = len(emu.calls_to("sendMessage"))
                loop = asyncio.get_running_loop()
                async with ctx.uow() as uow:
                    outcome = await alerts.approve(
                        uow,
                        ctx,
                        actor=coordinator,
                        payload={"incident": incident.id, "version": incident.version},
                    )
                    await uow.commit()
                approved_at = loop.time()
                sent_target = before + outcome.recipients

                def alerts_sent() -> bool:
                    return len(emu.calls_to("sendMessage")) >= sent_target

                def first() -> bool:
                    return len(emu.calls_to("sendMessage")) > before

                await emu.wait_for(first, timeout=30)
                first_at = loop.time()
                await emu.wait_for(alerts_sent, timeout=120)
                last_at = loop.time()
                rejected = sum(1 for c in emu.calls if c.status == 429)
                return {
                    "recipients": outcome.recipients,
                    "first_s": first_at - approved_at,
                    "all_s": last_at - approved_at,
                    "429s": rejected,
                }
            finally:
                await hw.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = [asyncio.run(one_run(args.recipients)) for _ in range(args.runs)]
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, python "
        f"{platform.python_version()}, SQLite, emulator enforcing 30 msg/s"
    )
    for key in ("first_s", "all_s", "429s"):
        values = [r[key] for r in runs]
        print(
            f"{key:8s}: median {statistics.median(values):.2f} "
            f"(runs: {', '.join(f'{v:.2f}' for v in values)})"
        )
    print(f"recipients per run: {runs[0]['recipients']}")


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"wall: {time.perf_counter() - start:.1f} s")
