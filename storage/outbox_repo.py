"""The write side of the outbox, used by services inside their transaction: queue a
message, find the ones already sent (to edit or pull them back), cancel pending ones.
The delivery side is :mod:`storage.outbox_store`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import drills
from bot.domain.outgoing import Outgoing
from bot.services.ports import SentMessage
from storage.models import OutboxRow
from storage.repositories import incident_is_drill


def _rowcount(result: Any) -> int:
    if not isinstance(result, CursorResult):
        raise TypeError("expected a cursor result from a DML statement")
    return int(result.rowcount)


class SqlOutbox:
    """The write side of the outbox, used by services inside their transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session
        self.added = 0

    async def add(self, message: Outgoing, *, at: datetime) -> int:
        # The one place every message passes: a drill's messages all say DRILL first.
        if message.incident_id is not None and await incident_is_drill(self.s, message.incident_id):
            message = drills.marked(message)
        row = OutboxRow(
            created_at=at,
            chat_id=message.chat_id,
            method=message.method,
            params=message.params,
            priority=int(message.priority),
            kind=message.kind,
            ref=message.ref,
            recipient_member_id=message.recipient_member_id,
            incident_id=message.incident_id,
            status="pending",
            attempts=0,
            not_before=None,
            delivery_uncertain=False,
        )
        self.s.add(row)
        await self.s.flush()
        self.added += 1
        return row.id

    async def sent_for_ref(self, ref: str) -> list[SentMessage]:
        return await self._sent(OutboxRow.ref == ref)

    async def sent_for_incident(
        self, incident_id: int, *, kinds: Sequence[str]
    ) -> list[SentMessage]:
        return await self._sent(
            OutboxRow.incident_id == incident_id, OutboxRow.kind.in_(list(kinds))
        )

    async def _sent(self, *conditions: Any) -> list[SentMessage]:
        rows = (
            await self.s.execute(
                select(
                    OutboxRow.id,
                    OutboxRow.chat_id,
                    OutboxRow.message_id,
                    OutboxRow.sent_at,
                    OutboxRow.method,
                    OutboxRow.recipient_member_id,
                )
                .where(
                    *conditions,
                    OutboxRow.status == "sent",
                    OutboxRow.message_id.is_not(None),
                )
                .order_by(OutboxRow.id)
            )
        ).all()
        return [SentMessage(r[0], r[1], int(r[2] or 0), r[3], r[4], r[5]) for r in rows]

    async def message_incident(self, chat_id: int, message_id: int) -> int | None:
        """The incident a message the bot sent into this chat was about, if any."""
        return (
            await self.s.execute(
                select(OutboxRow.incident_id)
                .where(
                    OutboxRow.chat_id == chat_id,
                    OutboxRow.message_id == message_id,
                    OutboxRow.status == "sent",
                    OutboxRow.incident_id.is_not(None),
                )
                .order_by(OutboxRow.id)
                .limit(1)
            )
        ).scalar_one_or_none()

    async def recipients_of(self, incident_id: int, *, kinds: Sequence[str]) -> set[int]:
        """Members with a message of these kinds for the incident, sent or still queued."""
        rows = await self.s.execute(
            select(OutboxRow.recipient_member_id)
            .where(
                OutboxRow.incident_id == incident_id,
                OutboxRow.kind.in_(list(kinds)),
                OutboxRow.status.in_(["pending", "sending", "sent"]),
                OutboxRow.recipient_member_id.is_not(None),
            )
            .distinct()
        )
        return {int(r) for r in rows.scalars() if r is not None}

    async def unsent_for_incident(self, incident_id: int, *, kinds: Sequence[str]) -> int:
        count = await self.s.scalar(
            select(func.count(OutboxRow.id)).where(
                OutboxRow.incident_id == incident_id,
                OutboxRow.kind.in_(list(kinds)),
                OutboxRow.status.in_(["pending", "sending"]),
            )
        )
        return int(count or 0)

    async def relabel(self, outbox_ids: Sequence[int], *, kind: str) -> int:
        if not outbox_ids:
            return 0
        result = await self.s.execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_(list(outbox_ids)))
            .values(kind=kind)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result)

    async def cancel_for_incident(self, incident_id: int, *, kinds: Sequence[str]) -> int:
        result = await self.s.execute(
            update(OutboxRow)
            .where(
                OutboxRow.incident_id == incident_id,
                OutboxRow.kind.in_(list(kinds)),
                OutboxRow.status == "pending",
            )
            .values(status="cancelled")
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result)

    async def cancel_pending(
        self, *, ref: str | None = None, recipient_member_id: int | None = None
    ) -> int:
        query = update(OutboxRow).where(OutboxRow.status == "pending")
        if ref is not None:
            query = query.where(OutboxRow.ref == ref)
        if recipient_member_id is not None:
            query = query.where(OutboxRow.recipient_member_id == recipient_member_id)
        if ref is None and recipient_member_id is None:
            raise ValueError("cancel_pending needs a ref or a recipient")
        result = await self.s.execute(
            query.values(status="cancelled").execution_options(synchronize_session=False)
        )
        return _rowcount(result)
