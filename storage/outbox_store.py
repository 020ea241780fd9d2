"""The delivery side of the outbox: claim due rows under a lease, record the outcome.

Row states: ``pending`` → ``sending`` (claimed, leased) → ``sent`` | ``failed``
(unreachable, e.g. 403) | ``dead`` (a 400 that retrying cannot fix), or back to
``pending`` with a later ``not_before``. ``cancelled`` rows are never sent.
A lease that expires (the sender died) puts the row back to ``pending`` flagged
``delivery_uncertain``: Telegram may have delivered it, so a resend may duplicate.

Rows addressed to a member (``recipient_member_id``) are only claimed while that member
is ``active``; rows of members who are no longer active are cancelled
(:meth:`OutboxStore.cancel_revoked`), and the sender re-checks right before each send
(:meth:`OutboxStore.recipient_active`).

``not_before`` and ``lease_until`` are compared with the ``now`` the caller passes; the
sender always passes wall-clock time for them (``sent_at`` is the domain clock's).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, exists, func, or_, select, update

from bot.domain.membership import MemberStatus
from storage.db import Database
from storage.models import GroupRow, MemberRow, OutboxRow

ACTIVE = MemberStatus.ACTIVE.value


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
    incident_id: int | None = None
    priority: int = 30


def _count(result: Any) -> int:
    if not isinstance(result, CursorResult):
        raise TypeError("expected a cursor result from a DML statement")
    return int(result.rowcount)


def _recipient_ok() -> Any:
    """SQL: the row has no recipient, or its recipient is an active member."""
    return or_(
        OutboxRow.recipient_member_id.is_(None),
        exists().where(MemberRow.id == OutboxRow.recipient_member_id, MemberRow.status == ACTIVE),
    )


class OutboxStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def claim(
        self, *, owner: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[Claimed]:
        if limit <= 0:
            return []
        async with self.db.sessions() as s, s.begin():
            query = (
                select(OutboxRow)
                .where(
                    OutboxRow.status == "pending",
                    or_(OutboxRow.not_before.is_(None), OutboxRow.not_before <= now),
                    _recipient_ok(),
                )
                .order_by(OutboxRow.priority, OutboxRow.id)
                .limit(limit)
            )
            if self.db.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True, of=OutboxRow)
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
                    incident_id=r.incident_id,
                    priority=r.priority,
                )
                for r in rows
            ]

    async def recipient_active(self, member_id: int) -> bool:
        """The cheap check right before a send: is the recipient still an active member?"""
        async with self.db.sessions() as s:
            status = (
                await s.execute(select(MemberRow.status).where(MemberRow.id == member_id))
            ).scalar_one_or_none()
        return status == ACTIVE

    async def cancel_revoked(self) -> int:
        """Cancel pending rows addressed to members who are no longer active."""
        inactive = select(MemberRow.id).where(MemberRow.status != ACTIVE)
        async with self.db.sessions() as s, s.begin():
            result = await s.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.status == "pending",
                    OutboxRow.recipient_member_id.in_(inactive.scalar_subquery()),
                )
                .values(status="cancelled", last_error="recipient is no longer active")
                .execution_options(synchronize_session=False)
            )
            return _count(result)

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
        self,
        row_id: int,
        *,
        owner: str,
        message_id: int | None,
        at: datetime,
        recipient_member_id: int | None = None,
    ) -> bool:
        """Record a delivery; with ``recipient_member_id`` that member is reachable again."""
        async with self.db.sessions() as s, s.begin():
            result = await s.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.id == row_id,
                    OutboxRow.status == "sending",
                    OutboxRow.lease_owner == owner,
                )
                .values(
                    status="sent",
                    lease_owner=None,
                    lease_until=None,
                    message_id=message_id,
                    sent_at=at,
                    last_error=None,
                )
                .execution_options(synchronize_session=False)
            )
            if recipient_member_id is not None:
                await s.execute(
                    update(MemberRow)
                    .where(
                        MemberRow.id == recipient_member_id, MemberRow.unreachable_at.is_not(None)
                    )
                    .values(unreachable_at=None)
                    .execution_options(synchronize_session=False)
                )
            return _count(result) == 1

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

    async def give_up(
        self, row_id: int, *, owner: str, status: str, error: str, uncertain: bool = False
    ) -> bool:
        if status not in ("failed", "dead", "cancelled"):
            raise ValueError(status)
        values: dict[str, Any] = {"status": status, "last_error": error[:500]}
        if uncertain:
            values["delivery_uncertain"] = True
        return await self._finish(row_id, owner, **values)

    async def fail_pending_for_chat(self, chat_id: int, *, error: str) -> int:
        """After a 403: the chat is unreachable, so its queued rows fail without an attempt."""
        async with self.db.sessions() as s, s.begin():
            result = await s.execute(
                update(OutboxRow)
                .where(OutboxRow.status == "pending", OutboxRow.chat_id == chat_id)
                .values(status="failed", last_error=error[:500])
                .execution_options(synchronize_session=False)
            )
            return _count(result)

    async def migrate_chat(
        self, row_id: int, *, owner: str, old_chat_id: int, new_chat_id: int, not_before: datetime
    ) -> bool:
        """A group became a supergroup: this row, the chat's other queued rows and the
        registered group (if any) move to the new chat id, in one transaction."""
        async with self.db.sessions() as s, s.begin():
            result = await s.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.id == row_id,
                    OutboxRow.status == "sending",
                    OutboxRow.lease_owner == owner,
                )
                .values(
                    status="pending",
                    lease_owner=None,
                    lease_until=None,
                    chat_id=new_chat_id,
                    not_before=not_before,
                    last_error="group chat was upgraded to a supergroup chat",
                )
                .execution_options(synchronize_session=False)
            )
            await s.execute(
                update(OutboxRow)
                .where(OutboxRow.status == "pending", OutboxRow.chat_id == old_chat_id)
                .values(chat_id=new_chat_id)
                .execution_options(synchronize_session=False)
            )
            taken = (
                await s.execute(select(GroupRow.chat_id).where(GroupRow.chat_id == new_chat_id))
            ).scalar_one_or_none()
            if taken is None:
                await s.execute(
                    update(GroupRow)
                    .where(GroupRow.chat_id == old_chat_id)
                    .values(chat_id=new_chat_id)
                    .execution_options(synchronize_session=False)
                )
            else:
                await s.execute(
                    update(GroupRow)
                    .where(GroupRow.chat_id == old_chat_id)
                    .values(active=False)
                    .execution_options(synchronize_session=False)
                )
            return _count(result) == 1

    async def release(self, *, owner: str, uncertain_ids: Collection[int] = ()) -> int:
        """Graceful shutdown: rows claimed but not yet attempted go back to pending.

        ``uncertain_ids`` are rows whose request was started but never answered (the
        grace period ran out): they go back flagged ``delivery_uncertain`` and keep the
        attempt.
        """
        released = 0
        async with self.db.sessions() as s, s.begin():
            if uncertain_ids:
                result = await s.execute(
                    update(OutboxRow)
                    .where(
                        OutboxRow.status == "sending",
                        OutboxRow.lease_owner == owner,
                        OutboxRow.id.in_(list(uncertain_ids)),
                    )
                    .values(
                        status="pending",
                        lease_owner=None,
                        lease_until=None,
                        delivery_uncertain=True,
                    )
                    .execution_options(synchronize_session=False)
                )
                released += _count(result)
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
            return released + _count(result)

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
