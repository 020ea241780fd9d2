"""The delivery side of the outbox: claim due rows under a lease, record the outcome.

Row states: ``pending`` → ``sending`` (claimed, leased) → ``sent`` | ``failed``
(unreachable, e.g. 403) | ``dead`` (a 400 that retrying cannot fix), or back to
``pending`` with a later ``not_before``. ``cancelled`` rows are never sent.
A lease that expires (the sender died) puts the row back to ``pending`` flagged
``delivery_uncertain``: Telegram may have delivered it, so a resend may duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, func, or_, select, update

from storage.db import Database
from storage.models import OutboxRow


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    chat_id: int
    method: str
    params: dict[str, Any]
    attempts: int
    delivery_uncertain: bool
    recipient_member_id: int | None
    kind: str


def _count(result: Any) -> int:
    if not isinstance(result, CursorResult):
        raise TypeError("expected a cursor result from a DML statement")
    return int(result.rowcount)


class OutboxStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def claim(
        self, *, owner: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[Claimed]:
        async with self.db.sessions() as s, s.begin():
            query = (
                select(OutboxRow)
                .where(
                    OutboxRow.status == "pending",
                    or_(OutboxRow.not_before.is_(None), OutboxRow.not_before <= now),
                )
                .order_by(OutboxRow.priority, OutboxRow.id)
                .limit(limit)
            )
            if self.db.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = list((await s.execute(query)).scalars())
            if not rows:
                return []
            await s.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_([r.id for r in rows]))
                .values(
                    status="sending",
                    lease_owner=owner,
                    lease_until=lease_until,
                    attempts=OutboxRow.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            )
            return [
                Claimed(
                    id=r.id,
                    chat_id=r.chat_id,
                    method=r.method,
                    params=dict(r.params),
                    attempts=r.attempts + 1,
                    delivery_uncertain=r.delivery_uncertain,
                    recipient_member_id=r.recipient_member_id,
                    kind=r.kind,
                )
                for r in rows
            ]

    async def _finish(self, row_id: int, owner: str, **values: Any) -> bool:
        async with self.db.sessions() as s, s.begin():
            result = await s.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.id == row_id,
                    OutboxRow.status == "sending",
                    OutboxRow.lease_owner == owner,
                )
                .values(lease_owner=None, lease_until=None, **values)
                .execution_options(synchronize_session=False)
            )
            return _count(result) == 1

    async def mark_sent(
        self, row_id: int, *, owner: str, message_id: int | None, at: datetime
    ) -> bool:
        return await self._finish(
            row_id, owner, status="sent", message_id=message_id, sent_at=at, last_error=None
        )

    async def retry_later(
        self,
        row_id: int,
        *,
        owner: str,
        not_before: datetime,
        error: str,
        uncertain: bool = False,
        chat_id: int | None = None,
    ) -> bool:
        values: dict[str, Any] = {
            "status": "pending",
            "not_before": not_before,
            "last_error": error[:500],
        }
        if uncertain:
            values["delivery_uncertain"] = True
        if chat_id is not None:
            values["chat_id"] = chat_id
        return await self._finish(row_id, owner, **values)

    async def give_up(self, row_id: int, *, owner: str, status: str, error: str) -> bool:
        if status not in ("failed", "dead"):
            raise ValueError(status)
        return await self._finish(row_id, owner, status=status, last_error=error[:500])

    async def release(self, *, owner: str) -> int:
        """Graceful shutdown: rows claimed but not yet attempted go back to pending."""
        async with self.db.sessions() as s, s.begin():
            result = await s.execute(
                update(OutboxRow)
                .where(OutboxRow.status == "sending", OutboxRow.lease_owner == owner)
                .values(
                    status="pending",
                    lease_owner=None,
                    lease_until=None,
                    attempts=OutboxRow.attempts - 1,
                )
                .execution_options(synchronize_session=False)
            )
            return _count(result)

    async def recover_expired(self, *, now: datetime) -> int:
        """Rows whose sender died mid-send: resend, flagged as possibly duplicated."""
        async with self.db.sessions() as s, s.begin():
            result = await s.execute(
                update(OutboxRow)
                .where(OutboxRow.status == "sending", OutboxRow.lease_until < now)
                .values(
                    status="pending",
                    lease_owner=None,
                    lease_until=None,
                    delivery_uncertain=True,
                )
                .execution_options(synchronize_session=False)
            )
            return _count(result)

    async def recover_owner(self, *, owner_prefix: str) -> int:
        """On start: rows a previous run of this same instance left in flight."""
        async with self.db.sessions() as s, s.begin():
            result = await s.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.status == "sending",
                    OutboxRow.lease_owner.like(f"{owner_prefix}%"),
                )
                .values(
                    status="pending", lease_owner=None, lease_until=None, delivery_uncertain=True
                )
                .execution_options(synchronize_session=False)
            )
            return _count(result)

    async def next_due(self) -> datetime | None:
        """The earliest ``not_before`` among pending rows (None: nothing scheduled)."""
        async with self.db.sessions() as s:
            return (
                await s.execute(
                    select(func.min(OutboxRow.not_before)).where(OutboxRow.status == "pending")
                )
            ).scalar_one_or_none()

    async def counts(self) -> dict[str, int]:
        async with self.db.sessions() as s:
            rows = (
                await s.execute(select(OutboxRow.status, func.count()).group_by(OutboxRow.status))
            ).all()
        return {status: int(n) for status, n in rows}
