"""T36: every use of a youth's personal information leaves exactly one complete audit row.

1,000 random PI operations: profile views (``profiles.view``), sealed details views
(``fanout.sensitive_details``, batched per transaction) and per-recipient disclosures of
approved alerts (``alerts.approve``). Each must leave exactly one timeline event of the right
action (``youth.viewed``, ``youth.sensitive_viewed``, ``incident.disclosed``) carrying who
(actor member and Telegram id, or the recipient), their role, the incident where there is
one, which fields, the purpose, an aware UTC timestamp equal to the fake clock's time, and
the subject youth. The hash chain must then verify, and a row changed (or deleted) directly
in SQL must be flagged: exactly that row, every time.
Refused profile views are audited too (``youth.view_denied``): a separate, small test.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import DBAPIError

from bot.clock import FakeClock
from bot.domain.errors import NotAllowed
from bot.domain.membership import Member, OrgKind, Role
from bot.domain.timeline import ChainProblem
from bot.services import alerts, fanout, history, profiles
from bot.services.context import ServiceContext
from storage import audit_guard
from storage.models import TimelineRow
from tests.properties.conftest import add_member, add_org, add_youth

OPERATIONS = 1000
SEED = int(os.environ.get("T36_SEED", "36"))
PI_ACTIONS = ("youth.viewed", "youth.sensitive_viewed", "incident.disclosed")
PURPOSES = ("profile review", "missing-youth search", "placement planning", "safety check")
HOMES = {"Maple House": (43.6532, -79.3832), "Spruce House": (45.4215, -75.6972)}


@dataclass(frozen=True)
class Expected:
    action: str
    at: datetime
    subject_type: str
    subject_id: str
    actor: Member | None  # None for disclosures (the recipient is the subject)
    incident_id: int | None
    youth_id: int
    role: str
    purpose: str | None


@dataclass
class Cast:
    staff: dict[int, list[Member]]  # residence -> staff
    coordinator: Member
    admin: Member
    outsiders: list[Member]  # responders and police: may not open profiles
    youth: dict[int, int]  # youth -> residence


async def cast(ctx: ServiceContext) -> Cast:
    async with ctx.uow() as uow:
        team = await add_org(uow, ctx, OrgKind.INTERVENTION_TEAM, "Team")
        police = await add_org(uow, ctx, OrgKind.POLICE_SERVICE, "Police")
        staff: dict[int, list[Member]] = {}
        youth: dict[int, int] = {}
        outsiders: list[Member] = []
        for name, point in HOMES.items():
            home = await add_org(uow, ctx, OrgKind.RESIDENCE, name, point)
            staff[home.id] = [
                await add_member(uow, ctx, Role.RESIDENCE_STAFF, home.id, area=(*point, 5.0))
                for _ in range(3)
            ]
            outsiders.append(
                await add_member(uow, ctx, Role.RESPONDER, team.id, area=(*point, 25.0))
            )
            outsiders.append(
                await add_member(uow, ctx, Role.POLICE, police.id, area=(*point, 25.0))
            )
            for i in range(3):
                y = await add_youth(
                    uow,
                    ctx,
                    home.id,
                    f"{name[:5]}{i}",
                    risk_notes="CANARY_RISK",
                    medical_needs="asthma",
                    associates=["someone"],
                )
                youth[y.id] = home.id
        coordinator = await add_member(
            uow, ctx, Role.COORDINATOR, team.id, area=(*HOMES["Maple House"], 500.0)
        )
        admin = await add_member(uow, ctx, Role.ADMIN, None)
        await uow.commit()
    return Cast(staff, coordinator, admin, outsiders, youth)


def utc(at: datetime) -> datetime:
    assert at.tzinfo is not None, at
    assert at.utcoffset() == timedelta(0), at
    return at.astimezone(UTC)


async def test_every_pi_operation_is_audited_once_and_the_chain_detects_tampering(
    ctx: ServiceContext, clock: FakeClock
) -> None:
    rng = random.Random(SEED)
    c = await cast(ctx)
    expected: list[Expected] = []
    active: list[tuple[int, int]] = []  # (incident, youth)
    counts = {"view": 0, "sensitive": 0, "disclosed": 0}
    started = time.perf_counter()

    async def raise_and_approve() -> None:
        youth_id = rng.choice(list(c.youth))
        home = c.youth[youth_id]
        raiser = rng.choice(c.staff[home])
        lat, lon = list(HOMES.values())[list(c.staff).index(home)]
        clock.advance(60)
        async with ctx.uow() as uow:
            incident = await alerts.submit(
                uow,
                ctx,
                raiser=raiser,
                data={
                    "youth": str(youth_id),
                    "last_seen": clock.now().isoformat(),
                    "location": {
                        "latitude": lat,
                        "longitude": lon,
                        "label": "home",
                        "source": "residence",
                    },
                    "clothing": "blue jacket",
                    "circumstances": "left",
                    "police_told": True,
                },
            )
            recipients = await fanout.recipients(uow, ctx, incident)
            vetter = rng.choice([c.coordinator, c.admin])
            clock.advance(5)
            await alerts.approve(
                uow,
                ctx,
                actor=vetter,
                payload={"incident": incident.id, "version": incident.version},
            )
            await uow.commit()
        for m in recipients:
            expected.append(
                Expected(
                    "incident.disclosed",
                    clock.now(),
                    "member",
                    str(m.id),
                    None,
                    incident.id,
                    youth_id,
                    m.role.value,
                    fanout.PURPOSE,
                )
            )
        counts["disclosed"] += len(recipients)
        active.append((incident.id, youth_id))

    async def view() -> None:
        youth_id = rng.choice(list(c.youth))
        if rng.random() < 0.4:
            actor = rng.choice([c.coordinator, c.admin])
        else:
            actor = rng.choice(c.staff[c.youth[youth_id]])
        purpose = rng.choice(PURPOSES)
        clock.advance(rng.choice((1, 2, 30)))
        await profiles.view(ctx, telegram_id=actor.telegram_id, youth_id=youth_id, purpose=purpose)
        expected.append(
            Expected(
                "youth.viewed",
                clock.now(),
                "youth",
                str(youth_id),
                actor,
                None,
                youth_id,
                actor.role.value,
                purpose,
            )
        )
        counts["view"] += 1

    async def sensitive_batch(n: int) -> None:
        async with ctx.uow() as uow:
            for _ in range(n):
                incident_id, youth_id = rng.choice(active)
                actor = rng.choice([c.coordinator, c.admin, *c.staff[c.youth[youth_id]]])
                clock.advance(1)
                got = await fanout.sensitive_details(uow, ctx, actor=actor, incident_id=incident_id)
                assert got == youth_id
                expected.append(
                    Expected(
                        "youth.sensitive_viewed",
                        clock.now(),
                        "youth",
                        str(youth_id),
                        actor,
                        incident_id,
                        youth_id,
                        actor.role.value,
                        fanout.PURPOSE,
                    )
                )
            await uow.commit()
        counts["sensitive"] += n

    while len(expected) < OPERATIONS:
        left = OPERATIONS - len(expected)
        roll = rng.random()
        if (not active or roll < 0.12) and left >= 12:  # a disclosure reaches <= 12 people
            await raise_and_approve()
        elif roll < 0.45:
            await sensitive_batch(min(left, rng.randint(1, 8)))
        else:
            await view()
    assert len(expected) == OPERATIONS
    operated = time.perf_counter() - started

    async with ctx.uow() as uow:
        events = [e async for e in uow.timeline.iterate()]
    audited = [e for e in events if e.event.action in PI_ACTIONS]
    assert len(audited) == OPERATIONS, (len(audited), counts)
    for want, got in zip(expected, audited, strict=True):
        e = got.event
        where = f"event {got.id}: {want}"
        assert e.action == want.action, where
        assert utc(got.at) == want.at, where
        assert (e.subject_type, e.subject_id) == (want.subject_type, want.subject_id), where
        assert e.incident_id == want.incident_id, where
        if want.actor is not None:
            assert e.actor_member_id == want.actor.id, where
            assert e.actor_telegram_id == want.actor.telegram_id, where
        assert e.details["role"] == want.role, where
        assert e.details["fields"], where
        assert e.details["purpose"] == want.purpose, where
        if want.action == "incident.disclosed":
            assert e.details["youth_id"] == want.youth_id, where
            assert isinstance(e.details["version"], int), where
        else:
            assert e.subject_id == str(want.youth_id), where

    checked, problems = await history.verify(ctx)
    assert (checked, problems) == (len(events), [])

    # The database refuses to change history, even for the application's own connection.
    async with ctx.uow() as uow:
        with pytest.raises(DBAPIError, match="append-only"):
            await uow.outbox.s.execute(
                update(TimelineRow).where(TimelineRow.id == audited[0].id).values(action="x")
            )
    # Tampering by someone with DDL rights who drops the guard: the chain catches it.
    async with ctx.uow() as uow:
        await (await uow.outbox.s.connection()).run_sync(audit_guard.remove)
        await uow.commit()
    # Change one row at a time, directly in SQL. Exactly that row is flagged.
    ids = [e.id for e in audited]
    tampered = 0
    changes: list[tuple[str, Any]] = [
        ("details", {"role": "admin", "purpose": "curiosity", "fields": ["everything"]}),
        ("subject_id", "999999"),
        ("actor_member_id", 424242),
        ("action", "youth.created"),
        ("incident_id", 7),
        ("at", datetime(2020, 1, 1, tzinfo=UTC)),
    ]
    for column, value in changes * 2:
        row_id = rng.choice(ids[:-1])
        async with ctx.uow() as uow:
            s = uow.outbox.s
            original = (
                await s.execute(
                    select(getattr(TimelineRow, column)).where(TimelineRow.id == row_id)
                )
            ).scalar_one()
            await s.execute(
                update(TimelineRow).where(TimelineRow.id == row_id).values({column: value})
            )
            await uow.commit()
        checked, problems = await history.verify(ctx)
        assert [p.event_id for p in problems] == [row_id], (column, problems)
        assert "changed" in problems[0].reason
        async with ctx.uow() as uow:
            await uow.outbox.s.execute(
                update(TimelineRow).where(TimelineRow.id == row_id).values({column: original})
            )
            await uow.commit()
        assert (await history.verify(ctx))[1] == []
        tampered += 1

    # A deleted row: the next one no longer links to its predecessor.
    row_id = rng.choice(ids[:-1])
    async with ctx.uow() as uow:
        s = uow.outbox.s
        saved = dict(
            (await s.execute(select(TimelineRow.__table__).where(TimelineRow.id == row_id)))
            .mappings()
            .one()
        )
        await s.execute(delete(TimelineRow).where(TimelineRow.id == row_id))
        await uow.commit()
    _, problems = await history.verify(ctx)
    following = min(e.id for e in events if e.id > row_id)
    assert problems == [ChainProblem(following, "previous hash does not match (row missing?)")]
    async with ctx.uow() as uow:
        await uow.outbox.s.execute(insert(TimelineRow.__table__).values(**saved))
        await uow.commit()
    assert (await history.verify(ctx))[1] == []

    print(
        f"\nT36: {OPERATIONS} PI operations {counts} -> {len(audited)} audit rows "
        f"({len(events)} events in all) in {operated:.1f} s; chain verified; "
        f"{tampered} in-place changes and 1 deletion each flagged exactly"
    )


@pytest.mark.parametrize("role", [Role.RESPONDER, Role.POLICE])
async def test_refused_profile_views_are_audited_and_disclose_nothing(
    ctx: ServiceContext, clock: FakeClock, role: Role
) -> None:
    c = await cast(ctx)
    actor = next(m for m in c.outsiders if m.role is role)
    youth_id = next(iter(c.youth))
    with pytest.raises(NotAllowed):
        await profiles.view(ctx, telegram_id=actor.telegram_id, youth_id=youth_id)
    async with ctx.uow() as uow:
        events = [e async for e in uow.timeline.iterate()]
    assert [(e.event.action, e.event.actor_member_id, e.event.subject_id) for e in events] == [
        ("youth.view_denied", actor.id, str(youth_id))
    ]
