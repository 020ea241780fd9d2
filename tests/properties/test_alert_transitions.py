"""T10: 1,000 alerts driven through random vetting transitions; nothing unapproved goes out.

A random walk (seeded by Hypothesis: one ``random.Random(seed)`` per example; 50 examples x 20
alerts, all in one database) raises alerts and presses every vetting and handling button:
approve (by a local vetter, another vetter, the raiser, a non-vetter), reject, change reach,
change risk, add an organisation, edit (clothing, circumstances, place) by staff or others,
resolve, and stale presses carrying an old or future version. Each step runs in its own
unit of work and is committed only if it succeeded.

After every step:

1. alert rows (outbox ``kind="alert"``) appear only in the step that approved that incident,
   while it is ACTIVE with a current approval; they go to exactly the computed recipients,
   one ``incident.disclosed`` event each, whose ``version`` is the approved version, and each
   card carries the approved version's clothing (a unique marker per version) and no other;
2. the raiser can never approve (``NotAllowed``; the two-person rule);
3. an edit of an ACTIVE alert leaves it PENDING with ``approval_current`` False and queues
   no alert rows (the edited version is not sent until someone approves it again);
4. a stale press (old or future version) raises ``StaleAction`` and changes nothing;
5. only coordinators and administrators approve; anyone else gets ``NotAllowed``.

Every refused step must also leave the incident, the outbox and the timeline untouched.
Vetting cards (the only other place alert content goes before approval) reach vetters only,
never the raiser. At the end, the whole database is checked again in one pass.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.domain.errors import DomainError, InvalidInput, NotAllowed, NotFound, StaleAction
from bot.domain.geo import Point
from bot.domain.incidents import Incident, IncidentStatus, Outcome
from bot.domain.membership import VETTING_ROLES, Member, OrgKind, Role
from bot.domain.reach import covers
from bot.services import alerts, fanout, resolution
from bot.services.context import ServiceContext
from storage.models import OutboxRow, TimelineRow
from tests.properties.conftest import add_member, add_org, add_youth, service_context

ALERTS_PER_EXAMPLE = 20
EXAMPLES = int(os.environ.get("T10_EXAMPLES", "50"))
TARGET_ALERTS = ALERTS_PER_EXAMPLE * EXAMPLES

TORONTO = (43.6532, -79.3832)
OTTAWA = (45.4215, -75.6972)
NOWHERE = (49.0, -87.0)  # a point no one's area covers


@dataclass
class World:
    ctx: ServiceContext
    clock: FakeClock
    members: list[Member]
    orgs: list[int]
    youth_by_residence: dict[int, list[int]]
    residences: dict[int, tuple[float, float]]

    def by_role(self, *roles: Role) -> list[Member]:
        return [m for m in self.members if m.role in roles]


@dataclass
class Run:
    world: World
    outbox_seen: int = 0
    events_seen: int = 0
    alerts_created: int = 0
    steps: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    approved_versions: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    clothing_of: dict[tuple[int, int], str] = field(default_factory=dict)
    alert_rows: int = 0
    edited_after_approval: int = 0
    log: list[str] = field(default_factory=list)
    busy: float = 0.0
    state: dict[int, Incident] = field(default_factory=dict)  # as last read after a step


async def build_world(ctx: ServiceContext, clock: FakeClock) -> World:
    async with ctx.uow() as uow:
        r1 = await add_org(uow, ctx, OrgKind.RESIDENCE, "Maple House", TORONTO)
        r2 = await add_org(uow, ctx, OrgKind.RESIDENCE, "Spruce House", OTTAWA)
        team = await add_org(uow, ctx, OrgKind.INTERVENTION_TEAM, "Team")
        police = await add_org(uow, ctx, OrgKind.POLICE_SERVICE, "Police")
        cpa = await add_org(uow, ctx, OrgKind.CHILD_PROTECTION_AGENCY, "CAS")
        m: list[Member] = []
        for org, where in ((r1, TORONTO), (r2, OTTAWA)):
            m += [
                await add_member(uow, ctx, Role.RESIDENCE_STAFF, org.id, area=(*where, 5.0))
                for _ in range(2)
            ]
        m.append(await add_member(uow, ctx, Role.COORDINATOR, team.id, area=(*TORONTO, 60.0)))
        m.append(await add_member(uow, ctx, Role.COORDINATOR, team.id, area=(*OTTAWA, 60.0)))
        m.append(await add_member(uow, ctx, Role.ADMIN, None))
        m.append(await add_member(uow, ctx, Role.RESPONDER, team.id, area=(*TORONTO, 10.0)))
        m.append(await add_member(uow, ctx, Role.RESPONDER, team.id, area=(*OTTAWA, 25.0)))
        m.append(await add_member(uow, ctx, Role.POLICE, police.id, area=(*TORONTO, 20.0)))
        m.append(await add_member(uow, ctx, Role.CHILD_PROTECTION, cpa.id, area=(*OTTAWA, 20.0)))
        youth = {
            r1.id: [(await add_youth(uow, ctx, r1.id, f"Youth{i}")).id for i in range(2)],
            r2.id: [(await add_youth(uow, ctx, r2.id, f"Youth{i}")).id for i in range(2, 4)],
        }
        await uow.commit()
    return World(
        ctx,
        clock,
        m,
        [r1.id, r2.id, team.id, police.id, cpa.id],
        youth,
        {r1.id: TORONTO, r2.id: OTTAWA},
    )


# Snapshots -----------------------------------------------------------------------------


async def totals(ctx: ServiceContext) -> tuple[int, int]:
    async with ctx.uow() as uow:
        s = uow.outbox.s
        outbox = (await s.execute(select(func.coalesce(func.max(OutboxRow.id), 0)))).scalar_one()
        events = (await s.execute(select(func.coalesce(func.max(TimelineRow.id), 0)))).scalar_one()
    return int(outbox), int(events)


@dataclass(frozen=True)
class Out:
    id: int
    kind: str
    recipient_member_id: int | None
    incident_id: int | None
    params: dict[str, Any]


@dataclass(frozen=True)
class Ev:
    id: int
    action: str
    subject_id: str
    incident_id: int | None
    details: dict[str, Any]


OUT_COLUMNS = (
    OutboxRow.id,
    OutboxRow.kind,
    OutboxRow.recipient_member_id,
    OutboxRow.incident_id,
    OutboxRow.params,
)
EV_COLUMNS = (
    TimelineRow.id,
    TimelineRow.action,
    TimelineRow.subject_id,
    TimelineRow.incident_id,
    TimelineRow.details,
)


async def outbox_rows(ctx: ServiceContext, *where: Any) -> list[Out]:
    async with ctx.uow() as uow:
        result = await uow.outbox.s.execute(
            select(*OUT_COLUMNS).where(*where).order_by(OutboxRow.id)
        )
        return [Out(*r) for r in result.all()]


async def timeline_rows(ctx: ServiceContext, *where: Any) -> list[Ev]:
    async with ctx.uow() as uow:
        result = await uow.outbox.s.execute(
            select(*EV_COLUMNS).where(*where).order_by(TimelineRow.id)
        )
        return [Ev(*r) for r in result.all()]


async def after_step(run: Run, incident_id: int) -> tuple[Incident, list[Out], list[Ev]]:
    """The incident and every outbox row and timeline event the step added (one read)."""
    async with run.world.ctx.uow() as uow:
        s = uow.outbox.s
        found = await uow.incidents.get(incident_id)
        rows = (
            await s.execute(
                select(*OUT_COLUMNS).where(OutboxRow.id > run.outbox_seen).order_by(OutboxRow.id)
            )
        ).all()
        events = (
            await s.execute(
                select(*EV_COLUMNS).where(TimelineRow.id > run.events_seen).order_by(TimelineRow.id)
            )
        ).all()
    assert found is not None
    return found, [Out(*r) for r in rows], [Ev(*e) for e in events]


def card_text(row: Out) -> str:
    return str(row.params.get("text") or row.params.get("caption") or "")


# The random walk -------------------------------------------------------------------------


@dataclass
class Step:
    op: str
    actor: Member
    incident_id: int | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    expect: type[DomainError] | None = None  # None: must succeed
    recipients: set[int] = field(default_factory=set)
    before: Incident | None = None


def pick_location(rng: random.Random, world: World, residence: int | None) -> dict[str, Any]:
    roll = rng.random()
    if roll < 0.15:
        return {"latitude": None, "longitude": None, "label": None, "source": "none"}
    if roll < 0.25:
        lat, lon = NOWHERE
    elif residence in world.residences and roll < 0.7:
        lat, lon = world.residences[residence]  # type: ignore[index]
    else:
        lat, lon = rng.choice((TORONTO, OTTAWA))
    return {
        "latitude": lat + rng.uniform(-0.05, 0.05),
        "longitude": lon + rng.uniform(-0.05, 0.05),
        "label": "somewhere",
        "source": "shared",
    }


def marker(rng: random.Random) -> str:
    return f"coat{rng.getrandbits(40):010x}"


def submit_step(rng: random.Random, world: World) -> Step:
    raiser = rng.choice(world.by_role(*alerts.RAISERS))
    if raiser.role is Role.RESIDENCE_STAFF:
        assert raiser.org_id is not None
        roster = world.youth_by_residence[raiser.org_id]
    else:
        roster = [y for ys in world.youth_by_residence.values() for y in ys]
    off_roster = rng.random() < 0.1
    youth_id = None if off_roster else rng.choice(roster)
    residence = next(
        (r for r, ys in world.youth_by_residence.items() if youth_id in ys), raiser.org_id
    )
    data = {
        "youth": "other" if off_roster else str(youth_id),
        "subject_name": "Someone" if off_roster else None,
        "subject_age": 14 if off_roster else None,
        "last_seen": world.clock.now().isoformat(),
        "location": pick_location(rng, world, residence),
        "clothing": marker(rng),
        "circumstances": "left after dinner",
        "risk_exploitation": rng.random() < 0.2,
        "risk_danger": rng.random() < 0.2,
        "police_told": rng.random() < 0.5,
    }
    return Step("submit", raiser, data=data)


async def vetting_step(rng: random.Random, run: Run, op: str, current: Incident) -> Step:
    world = run.world
    roll = rng.random()
    vetters = world.by_role(*VETTING_ROLES)
    if roll < 0.15:
        actor = rng.choice(
            world.by_role(Role.RESIDENCE_STAFF, Role.RESPONDER, Role.POLICE, Role.CHILD_PROTECTION)
        )
    elif roll < 0.3 and op == "approve":
        actor = next(m for m in world.members if m.id == current.raised_by)
    else:
        actor = rng.choice(vetters)
    version = current.version
    stale = rng.random() < 0.15
    if stale:
        version = rng.choice(list(range(1, current.version)) or [current.version + 1])
        if rng.random() < 0.2:
            version = current.version + rng.randint(1, 3)
    payload: dict[str, Any] = {"incident": current.id, "version": version}
    if op == "add_org":
        payload["org"] = rng.choice(world.orgs)
    if op == "reject":
        payload["reason"] = rng.choice(("duplicate", "detail", "returned", "other", "bogus"))

    # The specification, independently of how the services order their checks.
    expect: type[DomainError] | None = None
    recipients: set[int] = set()
    if actor.role not in VETTING_ROLES:
        expect = NotAllowed
    elif current.status is not IncidentStatus.PENDING or version != current.version:
        expect = StaleAction
    elif op == "approve":
        async with world.ctx.uow() as uow:
            recipients = {m.id for m in await fanout.recipients(uow, world.ctx, current)}
        if actor.id == current.raised_by:
            expect = NotAllowed
        elif not recipients:
            expect = InvalidInput
    return Step(
        op, actor, current.id, payload=payload, expect=expect, recipients=recipients, before=current
    )


def handling_step(rng: random.Random, run: Run, op: str, current: Incident) -> Step:
    world = run.world
    if rng.random() < 0.75:
        handlers = [m for m in world.members if resolution.may_handle(m, current)]
        actor = rng.choice(handlers)
    else:
        actor = rng.choice(world.members)
    data: dict[str, Any] = {}
    expect: type[DomainError] | None = None
    if op == "edit":
        what = rng.choice(("clothing", "clothing", "circumstances", "location"))
        data = {"field": what}
        if what == "clothing":
            data["clothing"] = marker(rng)
        elif what == "circumstances":
            data["circumstances"] = f"seen near the station {rng.randint(1, 99)}"
        else:
            data["location"] = pick_location(rng, world, current.residence_org_id)
        if current.status not in (IncidentStatus.PENDING, IncidentStatus.ACTIVE):
            expect = NotFound
        elif not resolution.may_handle(actor, current):
            expect = NotAllowed
    else:  # resolve
        if not resolution.may_handle(actor, current):
            expect = NotAllowed
        elif current.status not in (IncidentStatus.PENDING, IncidentStatus.ACTIVE):
            expect = StaleAction
    return Step(op, actor, current.id, data=data, expect=expect, before=current)


OPS = {"approve": 30, "reject": 4, "reach": 6, "risk": 5, "add_org": 4, "edit": 14, "resolve": 5}


async def run_step(run: Run, step: Step) -> Incident | None:
    """Execute one step; commit only on success. Returns the incident it touched."""
    ctx = run.world.ctx
    actor, payload = step.actor, step.payload
    async with ctx.uow() as uow:
        if step.op == "submit":
            result = await alerts.submit(uow, ctx, raiser=actor, data=step.data)
            await uow.commit()
            return result
        assert step.incident_id is not None
        if step.op == "approve":
            await alerts.approve(uow, ctx, actor=actor, payload=payload)
        elif step.op == "reject":
            await alerts.reject(uow, ctx, actor=actor, payload=payload)
        elif step.op == "reach":
            await alerts.change_reach(uow, ctx, actor=actor, payload=payload)
        elif step.op == "risk":
            await alerts.change_risk(uow, ctx, actor=actor, payload=payload)
        elif step.op == "add_org":
            await alerts.add_org(uow, ctx, actor=actor, payload=payload)
        elif step.op == "edit":
            await resolution.edit(
                uow, ctx, actor=actor, incident_id=step.incident_id, data=step.data
            )
        elif step.op == "resolve":
            await resolution.resolve(
                uow, ctx, actor=actor, incident_id=step.incident_id, outcome=Outcome.RETURNED
            )
        else:
            raise AssertionError(step.op)
        await uow.commit()
    return None


async def one_step(run: Run, step: Step) -> Incident | None:
    world = run.world
    run.steps += 1
    where = (
        f"step {run.steps}: {step.op} by {step.actor.role.value} #{step.actor.id} "
        f"on {step.incident_id} payload={step.payload} expect={step.expect}"
    )
    run.log.append(where)
    try:
        touched = await run_step(run, step)
    except DomainError as error:
        run.outcomes[f"{step.op}:{type(error).__name__}"] += 1
        touched = None
        refused_as_specified = step.expect is not None and isinstance(error, step.expect)
        assert refused_as_specified, (where, repr(error))  # noqa: PT017
        # Refused: nothing changed anywhere.
        if step.incident_id is not None:
            unchanged, rows, events = await after_step(run, step.incident_id)
            assert unchanged == step.before, where
            assert rows == [], where
            assert events == [], where
        else:
            assert await totals(world.ctx) == (run.outbox_seen, run.events_seen), where
        return None
    assert step.expect is None, f"{where}: succeeded"
    run.outcomes[f"{step.op}:ok"] += 1
    incident_id = touched.id if touched is not None else step.incident_id
    assert incident_id is not None
    after, rows, events = await after_step(run, incident_id)
    run.state[after.id] = after
    await check_step(run, step, after, rows, events, where)
    run.outbox_seen = max([run.outbox_seen, *(r.id for r in rows)])
    run.events_seen = max([run.events_seen, *(e.id for e in events)])
    return after


async def check_step(
    run: Run, step: Step, after: Incident, rows: list[Out], events: list[Ev], where: str
) -> None:
    members = {m.id: m for m in run.world.members}
    alert_rows = [r for r in rows if r.kind == "alert"]
    disclosed = [e for e in events if e.action == "incident.disclosed"]
    if step.op == "submit":
        run.clothing_of[(after.id, after.version)] = str(step.data["clothing"])
        assert after.status is IncidentStatus.PENDING, where
        assert after.version == 1, where
    elif step.op == "edit":
        before = step.before
        assert before is not None
        clothing = after.clothing or ""
        run.clothing_of[(after.id, after.version)] = clothing
        # (3) An edit is a new version that needs a new approval.
        assert after.version == before.version + 1, where
        assert after.status is IncidentStatus.PENDING, where
        assert not after.approval_current, where
        if before.status is IncidentStatus.ACTIVE:
            run.edited_after_approval += 1
            assert after.approved_version == before.approved_version, where
    elif step.op in ("reach", "risk", "add_org"):
        assert after.status is IncidentStatus.PENDING, where
        assert not after.approval_current, where
        run.clothing_of[(after.id, after.version)] = after.clothing or ""

    # (1) Alert content goes out only from an approval, of exactly the approved version.
    if step.op != "approve":
        assert alert_rows == [], f"{where}: {len(alert_rows)} alert rows without approval"
        assert disclosed == [], where
    else:
        assert after.status is IncidentStatus.ACTIVE, where
        assert after.approval_current, where
        assert after.approved_version == after.version == step.payload["version"], where
        assert after.approved_by == step.actor.id != after.raised_by, where
        assert step.actor.role in VETTING_ROLES, where  # (5)
        run.approved_versions[after.id].add(after.version)
        assert {r.incident_id for r in alert_rows} <= {after.id}, where
        assert sorted(r.recipient_member_id for r in alert_rows) == sorted(step.recipients), where
        assert sorted(int(e.subject_id) for e in disclosed) == sorted(step.recipients), where
        assert all(
            e.incident_id == after.id and e.details["version"] == after.version for e in disclosed
        ), where
        approved = run.clothing_of[(after.id, after.version)]
        others = {c for (i, v), c in run.clothing_of.items() if i == after.id and c != approved}
        for row in alert_rows:
            text = card_text(row)
            assert approved in text, f"{where}: card lacks the approved clothing"
            assert not any(c and c in text for c in others), f"{where}: old content in card"
        run.alert_rows += len(alert_rows)

    # Before approval, content goes to vetters only, never to the raiser.
    for row in rows:
        if row.kind in ("vet_card", "vet_photo"):
            vetter = members[row.recipient_member_id]
            assert vetter.role in VETTING_ROLES, where
            assert vetter.id != after.raised_by, where
            assert row.incident_id == after.id, where


async def example(run: Run, rng: random.Random) -> None:
    started = time.perf_counter()
    world = run.world
    pool: list[int] = []
    created = 0
    ops, weights = list(OPS), list(OPS.values())
    quota = min(ALERTS_PER_EXAMPLE, TARGET_ALERTS - run.alerts_created)
    while created < quota or rng.random() < 0.9:
        world.clock.advance(rng.choice((1, 5, 30, 120)))
        if created < quota and (not pool or rng.random() < 0.28):
            latest = await one_step(run, submit_step(rng, world))
            assert latest is not None
            created += 1
            run.alerts_created += 1
            pool.append(latest.id)
            continue
        if not pool:
            break
        op = rng.choices(ops, weights)[0]
        current = run.state[rng.choice(pool)]  # equal to the database: see one_step
        if op in ("edit", "resolve"):
            step = handling_step(rng, run, op, current)
        else:
            step = await vetting_step(rng, run, op, current)
        await one_step(run, step)
        if len(pool) > 6 and rng.random() < 0.3:
            pool.pop(0)  # older alerts drift out of attention
    run.busy += time.perf_counter() - started


async def final_checks(run: Run) -> dict[str, int]:
    ctx = run.world.ctx
    rows = await outbox_rows(ctx, OutboxRow.kind == "alert")
    events = await timeline_rows(
        ctx, TimelineRow.action.in_(("incident.disclosed", "incident.approved"))
    )
    async with ctx.uow() as uow:
        incidents = await uow.incidents.list()
    approved: dict[int, set[int]] = defaultdict(set)
    for e in events:
        if e.action == "incident.approved":
            approved[int(e.incident_id or 0)].add(int(e.details["version"]))
    disclosed: Counter[int | None] = Counter()
    for e in events:
        if e.action == "incident.disclosed":
            assert e.details["version"] in approved[int(e.incident_id or 0)], e.details
            disclosed[e.incident_id] += 1
    per_incident = Counter(r.incident_id for r in rows)
    assert per_incident == disclosed
    assert approved == run.approved_versions
    statuses = Counter(i.status.value for i in incidents)
    return {"incidents": len(incidents), "alert_rows": len(rows), **statuses}


def test_random_transitions_never_send_unapproved_content(
    database_url: str, clock: FakeClock
) -> None:
    started = time.perf_counter()
    with asyncio.Runner() as runner:
        context = service_context(database_url, clock)
        ctx = runner.run(context.__aenter__())
        try:
            world = runner.run(build_world(ctx, clock))
            run = Run(world)
            run.outbox_seen, run.events_seen = runner.run(totals(ctx))

            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(seed=st.integers(0, 2**64 - 1))
            def walk(seed: int) -> None:
                # The walk reads the database, so Hypothesis only picks the seed.
                runner.run(example(run, random.Random(seed)))

            try:
                walk()
            except BaseException:
                print("\nlast steps:\n" + "\n".join(run.log[-15:]))
                raise
            summary = runner.run(final_checks(run))
        finally:
            runner.run(context.__aexit__(None, None, None))
    elapsed = time.perf_counter() - started
    print(
        f"\nT10: {run.alerts_created} alerts, {run.steps} steps, {run.alert_rows} alert rows, "
        f"{run.edited_after_approval} edits after approval, {elapsed:.1f} s "
        f"({run.busy:.1f} s walking); {summary}; outcomes {dict(sorted(run.outcomes.items()))}"
    )
    assert run.alerts_created == TARGET_ALERTS
    assert summary["incidents"] == TARGET_ALERTS
    # The walk exercised what T10 is about.
    for key in (
        "approve:ok",
        "approve:NotAllowed",
        "approve:StaleAction",
        "edit:ok",
        "reject:ok",
        "resolve:ok",
        "reach:ok",
        "risk:ok",
        "add_org:ok",
    ):
        assert run.outcomes[key] > 0, key
    assert run.edited_after_approval > 0


def test_raiser_never_approves_even_as_a_vetter(database_url: str, clock: FakeClock) -> None:
    """Two-person rule for every raiser role, with every version they could press."""

    async def go() -> None:
        async with service_context(database_url, clock) as ctx:
            world = await build_world(ctx, clock)
            for raiser in world.by_role(*alerts.RAISERS):
                rng = random.Random(raiser.id)
                step = submit_step(rng, world)
                step.actor = raiser
                home = raiser.org_id if raiser.role is Role.RESIDENCE_STAFF else world.orgs[0]
                assert home is not None
                step.data["youth"] = str(world.youth_by_residence[home][0])
                step.data["location"] = {
                    "latitude": TORONTO[0],
                    "longitude": TORONTO[1],
                    "label": "x",
                    "source": "shared",
                }
                async with ctx.uow() as uow:
                    created = await alerts.submit(uow, ctx, raiser=raiser, data=step.data)
                    await uow.commit()
                for version in (created.version, created.version + 1, 0):
                    async with ctx.uow() as uow:
                        try:
                            await alerts.approve(
                                uow,
                                ctx,
                                actor=raiser,
                                payload={"incident": created.id, "version": version},
                            )
                        except (NotAllowed, StaleAction) as error:
                            expected = (
                                NotAllowed
                                if raiser.role not in VETTING_ROLES or version == created.version
                                else StaleAction
                            )
                            assert isinstance(error, expected)  # noqa: PT017
                        else:
                            raise AssertionError(f"{raiser.role} approved their own alert")
                async with ctx.uow() as uow:
                    after = await uow.incidents.get(created.id)
                    assert after is not None
                    assert after.status is IncidentStatus.PENDING
                    assert after.approved_by is None
                # The storage layer refuses it too (defence in depth).
                async with ctx.uow() as uow:
                    assert not await uow.incidents.approve(
                        created.id,
                        version=created.version,
                        content_hash=created.content_hash,
                        by_member_id=raiser.id,
                        at=clock.now(),
                    )
                if created.has_point:
                    point = Point(created.latitude or 0.0, created.longitude or 0.0)
                    async with ctx.uow() as uow:
                        vetters = await alerts.vetters_for(uow, created)
                    assert raiser.id not in {v.id for v in vetters}
                    assert all(v.role in VETTING_ROLES for v in vetters)
                    local = [
                        v for v in vetters if v.role is Role.COORDINATOR and covers(v.area, point)
                    ]
                    assert local == vetters or not local

    asyncio.run(go())
