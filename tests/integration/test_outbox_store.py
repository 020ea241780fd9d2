"""The delivery side of the outbox on the backend under test: claims, leases, recovery.

On PostgreSQL concurrent claimers exercise ``FOR UPDATE SKIP LOCKED``; on SQLite
``BEGIN IMMEDIATE`` serialises them. Either way no row may be claimed twice.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.clock import FakeClock
from bot.domain.outgoing import Outgoing, Priority
from bot.services.context import ServiceContext
from storage.db import Database
from storage.models import OutboxRow
from storage.outbox_store import OutboxStore

LEASE = timedelta(seconds=60)


async def _enqueue(
    ctx: ServiceContext,
    count: int,
    *,
    priority: Priority = Priority.NOTICE,
    ref: str | None = None,
    chat_base: int = 10_000,
) -> list[int]:
    async with ctx.uow() as uow:
        ids = [
            await uow.outbox.add(
                Outgoing.text(chat_base + i, f"message {i}", priority=priority, ref=ref),
                at=ctx.clock.now(),
            )
            for i in range(count)
        ]
        await uow.commit()
    return ids


async def _rows(db: Database) -> dict[int, OutboxRow]:
    async with db.sessions() as s:
        return {r.id: r for r in (await s.execute(select(OutboxRow))).scalars()}


async def _claim(store: OutboxStore, clock: FakeClock, owner: str, limit: int = 100) -> list[int]:
    now = clock.now()
    claimed = await store.claim(owner=owner, now=now, lease_until=now + LEASE, limit=limit)
    return [c.id for c in claimed]


async def test_claim_leases_rows_and_counts_attempts(
    ctx: ServiceContext, db: Database, clock: FakeClock
) -> None:
    store = OutboxStore(db)
    ids = await _enqueue(ctx, 5)
    now = clock.now()

    claimed = await store.claim(owner="a:1", now=now, lease_until=now + LEASE, limit=3)
    assert [c.id for c in claimed] == ids[:3]
    assert all(c.attempts == 1 for c in claimed)
    assert all(c.delivery_uncertain is False for c in claimed)
    assert claimed[0].method == "sendMessage"
    assert claimed[0].params["text"] == "message 0"

    rows = await _rows(db)
    for row_id in ids[:3]:
        row = rows[row_id]
        assert (row.status, row.lease_owner, row.attempts) == ("sending", "a:1", 1)
        assert row.lease_until == now + LEASE
    for row_id in ids[3:]:
        row = rows[row_id]
        assert (row.status, row.lease_owner, row.lease_until, row.attempts) == (
            "pending",
            None,
            None,
            0,
        )

    # Claimed rows are not handed out again while leased.
    assert await _claim(store, clock, "b:1") == ids[3:]
    assert await _claim(store, clock, "c:1") == []

    # A retried row comes back with its attempt count carried on.
    assert await store.retry_later(
        ids[0], owner="a:1", not_before=now + timedelta(seconds=30), error="429"
    )
    assert await _claim(store, clock, "c:1") == [], "not due yet"
    clock.advance(30)
    again = await store.claim(
        owner="c:1", now=clock.now(), lease_until=clock.now() + LEASE, limit=10
    )
    assert [(c.id, c.attempts) for c in again] == [(ids[0], 2)]


async def test_concurrent_claimers_never_share_a_row(
    ctx: ServiceContext, db: Database, clock: FakeClock
) -> None:
    ids = await _enqueue(ctx, 200)
    stores = [OutboxStore(db), OutboxStore(db)]
    got: dict[str, list[int]] = {"left": [], "right": []}

    first_done = {"left": asyncio.Event(), "right": asyncio.Event()}

    async def claimer(store: OutboxStore, owner: str, other: str) -> None:
        # Each takes one batch before either goes on (on a busy machine SQLite's lock can
        # otherwise favour one connection throughout); after that they race freely.
        got[owner].extend(await _claim(store, clock, owner, limit=7))
        first_done[owner].set()
        await first_done[other].wait()
        while batch := await _claim(store, clock, owner, limit=7):
            got[owner].extend(batch)

    await asyncio.gather(claimer(stores[0], "left", "right"), claimer(stores[1], "right", "left"))

    left, right = set(got["left"]), set(got["right"])
    assert left, "both claimers must have taken part"
    assert right, "both claimers must have taken part"
    assert len(left) == len(got["left"]), "a claimer got the same row twice"
    assert len(right) == len(got["right"]), "a claimer got the same row twice"
    assert not left & right, f"rows claimed by both: {sorted(left & right)}"
    assert left | right == set(ids)
    rows = await _rows(db)
    assert all(r.status == "sending" and r.attempts == 1 for r in rows.values())
    assert {r.id for r in rows.values() if r.lease_owner == "left"} == left
    assert {r.id for r in rows.values() if r.lease_owner == "right"} == right


async def test_recover_expired_resends_flagged_as_uncertain(
    ctx: ServiceContext, db: Database, clock: FakeClock
) -> None:
    store = OutboxStore(db)
    ids = await _enqueue(ctx, 4)
    now = clock.now()
    await store.claim(owner="dead", now=now, lease_until=now + timedelta(seconds=10), limit=2)
    await store.claim(owner="alive", now=now, lease_until=now + timedelta(seconds=120), limit=2)

    assert await store.recover_expired(now=now + timedelta(seconds=10)) == 0, "not expired yet"
    clock.advance(11)
    assert await store.recover_expired(now=clock.now()) == 2

    rows = await _rows(db)
    for row_id in ids[:2]:
        row = rows[row_id]
        assert (row.status, row.lease_owner, row.lease_until) == ("pending", None, None)
        assert row.delivery_uncertain is True
        assert row.attempts == 1  # the lost attempt still counts
    for row_id in ids[2:]:
        assert (rows[row_id].status, rows[row_id].lease_owner) == ("sending", "alive")
        assert rows[row_id].delivery_uncertain is False

    # The dead sender's lease is gone: it can no longer record an outcome.
    assert not await store.mark_sent(ids[0], owner="dead", message_id=1, at=clock.now())
    again = await store.claim(
        owner="new", now=clock.now(), lease_until=clock.now() + LEASE, limit=10
    )
    assert [(c.id, c.attempts, c.delivery_uncertain) for c in again] == [
        (ids[0], 2, True),
        (ids[1], 2, True),
    ]


async def test_release_returns_only_this_owners_rows_unflagged(
    ctx: ServiceContext, db: Database, clock: FakeClock
) -> None:
    store = OutboxStore(db)
    ids = await _enqueue(ctx, 6)
    mine = await _claim(store, clock, "me:1", limit=3)
    theirs = await _claim(store, clock, "them:1", limit=3)
    assert mine == ids[:3]
    assert theirs == ids[3:]

    assert await store.release(owner="me:1") == 3
    assert await store.release(owner="me:1") == 0

    rows = await _rows(db)
    for row_id in mine:
        row = rows[row_id]
        assert (row.status, row.lease_owner, row.lease_until) == ("pending", None, None)
        assert row.delivery_uncertain is False
        assert row.attempts == 0  # never attempted
    for row_id in theirs:
        assert (rows[row_id].status, rows[row_id].lease_owner) == ("sending", "them:1")
        assert rows[row_id].attempts == 1


async def test_cancelled_rows_are_never_claimed(
    ctx: ServiceContext, db: Database, clock: FakeClock
) -> None:
    store = OutboxStore(db)
    keep = await _enqueue(ctx, 3, ref="case:keep")
    drop = await _enqueue(ctx, 3, ref="case:drop", priority=Priority.ALERT)
    async with ctx.uow() as uow:
        assert await uow.outbox.cancel_pending(ref="case:drop") == 3
        await uow.commit()

    claimed = await _claim(store, clock, "w:1", limit=100)
    assert claimed == keep
    assert not set(claimed) & set(drop)
    rows = await _rows(db)
    assert all(rows[i].status == "cancelled" and rows[i].attempts == 0 for i in drop)
    assert await store.recover_expired(now=clock.now() + timedelta(days=1)) == 3
    assert await _claim(store, clock, "w:2", limit=100) == keep  # cancelled still excluded


async def test_claim_respects_priority_then_age(
    ctx: ServiceContext, db: Database, clock: FakeClock
) -> None:
    store = OutboxStore(db)
    routine = await _enqueue(ctx, 2, priority=Priority.ROUTINE)
    notice = await _enqueue(ctx, 2, priority=Priority.NOTICE)
    alert = await _enqueue(ctx, 2, priority=Priority.ALERT)
    reply = await _enqueue(ctx, 2, priority=Priority.REPLY)

    order = []
    while batch := await _claim(store, clock, "p:1", limit=3):
        order.extend(batch)
    assert order == alert + reply + notice + routine

    rows = await _rows(db)
    assert [rows[i].priority for i in order] == sorted(rows[i].priority for i in order)


async def test_only_the_lease_owner_finishes_a_row(
    ctx: ServiceContext, db: Database, clock: FakeClock
) -> None:
    store = OutboxStore(db)
    [row_id, other_id] = await _enqueue(ctx, 2)
    assert await _claim(store, clock, "owner", limit=2) == [row_id, other_id]
    at = clock.now()

    assert not await store.mark_sent(row_id, owner="intruder", message_id=77, at=at)
    assert not await store.give_up(row_id, owner="intruder", status="failed", error="403")
    assert not await store.retry_later(row_id, owner="intruder", not_before=at, error="x")
    row = (await _rows(db))[row_id]
    assert (row.status, row.lease_owner, row.message_id) == ("sending", "owner", None)

    assert await store.mark_sent(row_id, owner="owner", message_id=77, at=at)
    assert not await store.mark_sent(row_id, owner="owner", message_id=78, at=at), "twice"
    row = (await _rows(db))[row_id]
    assert (row.status, row.lease_owner, row.lease_until, row.message_id) == (
        "sent",
        None,
        None,
        77,
    )
    assert row.sent_at == at

    assert await store.give_up(other_id, owner="owner", status="dead", error="400 bad request")
    assert not await store.mark_sent(other_id, owner="owner", message_id=79, at=at)
    other = (await _rows(db))[other_id]
    assert (other.status, other.last_error, other.message_id) == ("dead", "400 bad request", None)
    assert await store.counts() == {"sent": 1, "dead": 1}


def _aware(value: datetime | None) -> bool:
    return value is not None and value.utcoffset() == timedelta(0)


async def test_outbox_times_are_aware_utc(
    ctx: ServiceContext, db: Database, clock: FakeClock
) -> None:
    store = OutboxStore(db)
    [row_id] = await _enqueue(ctx, 1)
    await _claim(store, clock, "t:1", limit=1)
    row = (await _rows(db))[row_id]
    assert _aware(row.created_at)
    assert _aware(row.lease_until)
    assert row.lease_until == clock.now() + LEASE
