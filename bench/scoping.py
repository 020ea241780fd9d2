"""Benchmark: the alert recipient query over 100,000 members (target: median <= 5 ms).

Runs the real ``SqlReach.members_near`` (bounding box on the composite (lat, lon)
index + exact distance) against a migrated SQLite database, for uniformly spread
members and for members clustered around Ontario towns.

    python -m bench.scoping [--members 100000] [--queries 200] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from bot.domain.membership import MemberStatus, Role
from storage.db import open_database
from storage.migrate import upgrade
from storage.models import MemberRow
from storage.uow import uow_factory

NOW = datetime(2026, 12, 1, tzinfo=UTC)
TOWNS = [
    (46.49, -80.99),
    (43.65, -79.38),
    (45.42, -75.70),
    (48.38, -89.25),
    (44.23, -76.48),
    (46.31, -79.46),
    (42.98, -81.25),
    (43.26, -79.87),
    (49.77, -94.49),
    (51.28, -80.64),
]


def _members(n: int, clustered: bool, rng: random.Random) -> list[dict[str, object]]:
    rows = []
    roles = [
        r.value
        for r in (
            Role.RESPONDER,
            Role.POLICE,
            Role.CHILD_PROTECTION,
            Role.RESIDENCE_STAFF,
            Role.COORDINATOR,
        )
    ]
    for i in range(n):
        if clustered:
            lat0, lon0 = rng.choice(TOWNS)
            lat, lon = lat0 + rng.gauss(0, 0.15), lon0 + rng.gauss(0, 0.2)
        else:
            lat, lon = rng.uniform(42.0, 56.0), rng.uniform(-95.0, -74.0)
        rows.append(
            {
                "telegram_id": 10_000_000 + i,
                "name": f"Member {i}",
                "role": rng.choice(roles),
                "org_id": None,
                "status": MemberStatus.ACTIVE.value,
                "area_lat": lat,
                "area_lon": lon,
                "area_radius_km": rng.choice([5.0, 10.0, 25.0]),
                "area_names": [],
                "created_at": NOW,
            }
        )
    return rows


async def run(members: int, queries: int, runs: int) -> dict[str, list[float]]:
    rng = random.Random(7)
    results: dict[str, list[float]] = {}
    for layout in ("uniform", "clustered"):
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            await upgrade(url)
            db = open_database(url)
            rows = _members(members, layout == "clustered", rng)
            async with db.engine.begin() as conn:
                for start in range(0, len(rows), 5000):
                    await conn.execute(insert(MemberRow), rows[start : start + 5000])
            uow = uow_factory(db.sessions)
            medians = []
            found = 0
            for _ in range(runs):
                timings = []
                for _ in range(queries):
                    lat0, lon0 = (
                        rng.choice(TOWNS)
                        if layout == "clustered"
                        else (rng.uniform(43, 50), rng.uniform(-90, -76))
                    )
                    async with uow() as u:
                        t0 = time.perf_counter()
                        people = await u.reach.members_near(
                            latitude=lat0, longitude=lon0, radius_km=25.0
                        )
                        timings.append((time.perf_counter() - t0) * 1000)
                    found += len(people)
                medians.append(statistics.median(timings))
            results[layout] = medians
            results[f"{layout}_mean_recipients"] = [found / (runs * queries)]
            await db.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    results = asyncio.run(run(args.members, args.queries, args.runs))
    print(
        f"machine: {platform.processor() or platform.machine()}, "
        f"python {platform.python_version()}, SQLite"
    )
    for layout in ("uniform", "clustered"):
        medians = results[layout]
        print(
            f"{layout:9s}: median of {args.runs} runs = {statistics.median(medians):.2f} ms "
            f"(run medians {', '.join(f'{m:.2f}' for m in medians)}); "
            f"mean recipients {results[layout + '_mean_recipients'][0]:.0f}"
        )


if __name__ == "__main__":
    main()
