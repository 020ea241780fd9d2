"""SQL for tasks and acknowledgements.

Every contested change is ONE conditional UPDATE whose row count says who won
(``... WHERE id = :id AND status = 'open'``), so a claim has exactly one winner on
SQLite and on PostgreSQL READ COMMITTED alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.tasks import AckKind, Acknowledgement, Task, TaskStatus
from storage.models import AcknowledgementRow, TaskRow


def _count(result: Any) -> int:
    if not isinstance(result, CursorResult):
        raise TypeError("expected a cursor result from a DML statement")
    return int(result.rowcount)


def to_task(row: TaskRow) -> Task:
    return Task(
        id=row.id,
        incident_id=row.incident_id,
        title=row.title,
        status=TaskStatus(row.status),
        created_at=row.created_at,
        version=row.version,
        template=row.template,
        holder_member_id=row.holder_member_id,
        latitude=row.latitude,
        longitude=row.longitude,
        location_label=row.location_label,
        due_at=row.due_at,
        outcome=row.outcome,
        notes=tuple(row.notes or ()),
        created_by=row.created_by,
        claimed_at=row.claimed_at,
        closed_at=row.closed_at,
    )


def _holder_is(holder: int | None) -> Any:
    return (
        TaskRow.holder_member_id.is_(None)
        if holder is None
        else (TaskRow.holder_member_id == holder)
    )


class SqlTasks:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def add(
        self,
        *,
        incident_id: int,
        title: str,
        template: str | None,
        created_by: int | None,
        at: datetime,
        latitude: float | None = None,
        longitude: float | None = None,
        location_label: str | None = None,
        due_at: datetime | None = None,
    ) -> Task:
        row = TaskRow(
            incident_id=incident_id,
            title=title,
            template=template,
            status=TaskStatus.OPEN.value,
            latitude=latitude,
            longitude=longitude,
            location_label=location_label,
            due_at=due_at,
            notes=[],
            created_by=created_by,
            created_at=at,
            version=1,
        )
        self.s.add(row)
        await self.s.flush()
        return to_task(row)

    async def get(self, task_id: int) -> Task | None:
        row = (
            await self.s.execute(
                select(TaskRow)
                .where(TaskRow.id == task_id)
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        return to_task(row) if row else None

    async def list_for_incident(self, incident_id: int) -> list[Task]:
        rows = (
            await self.s.execute(
                select(TaskRow)
                .where(TaskRow.incident_id == incident_id)
                .order_by(TaskRow.id)
                .execution_options(populate_existing=True)
            )
        ).scalars()
        return [to_task(r) for r in rows]

    async def list_for_holder(
        self, member_id: int, *, statuses: Sequence[TaskStatus] | None = None
    ) -> list[Task]:
        query = select(TaskRow).where(TaskRow.holder_member_id == member_id)
        if statuses is not None:
            query = query.where(TaskRow.status.in_([s.value for s in statuses]))
        rows = (
            await self.s.execute(
                query.order_by(TaskRow.id).execution_options(populate_existing=True)
            )
        ).scalars()
        return [to_task(r) for r in rows]

    async def list_live_with_templates(self, templates: Sequence[str]) -> list[Task]:
        rows = (
            await self.s.execute(
                select(TaskRow)
                .where(
                    TaskRow.template.in_(list(templates)),
                    TaskRow.status.in_([TaskStatus.OPEN.value, TaskStatus.CLAIMED.value]),
                )
                .order_by(TaskRow.id)
                .execution_options(populate_existing=True)
            )
        ).scalars()
        return [to_task(r) for r in rows]

    async def _move(self, task_id: int, conditions: Sequence[Any], values: dict[str, Any]) -> bool:
        result = await self.s.execute(
            update(TaskRow)
            .where(TaskRow.id == task_id, *conditions)
            .values(version=TaskRow.version + 1, **values)
            .execution_options(synchronize_session=False)
        )
        return _count(result) == 1

    async def claim(self, task_id: int, member_id: int, at: datetime) -> bool:
        return await self._move(
            task_id,
            [TaskRow.status == TaskStatus.OPEN.value],
            {"status": TaskStatus.CLAIMED.value, "holder_member_id": member_id, "claimed_at": at},
        )

    async def release(self, task_id: int, member_id: int) -> bool:
        return await self._move(
            task_id,
            [TaskRow.status == TaskStatus.CLAIMED.value, TaskRow.holder_member_id == member_id],
            {"status": TaskStatus.OPEN.value, "holder_member_id": None, "claimed_at": None},
        )

    async def complete(self, task_id: int, member_id: int, *, outcome: str, at: datetime) -> bool:
        return await self._move(
            task_id,
            [TaskRow.status == TaskStatus.CLAIMED.value, TaskRow.holder_member_id == member_id],
            {"status": TaskStatus.DONE.value, "outcome": outcome, "closed_at": at},
        )

    async def reassign(
        self,
        task_id: int,
        *,
        expected_status: TaskStatus,
        expected_holder: int | None,
        new_holder: int,
        at: datetime,
    ) -> bool:
        return await self._move(
            task_id,
            [TaskRow.status == expected_status.value, _holder_is(expected_holder)],
            {"status": TaskStatus.CLAIMED.value, "holder_member_id": new_holder, "claimed_at": at},
        )

    async def cancel(
        self,
        task_id: int,
        *,
        expected_status: TaskStatus,
        expected_holder: int | None,
        at: datetime,
    ) -> bool:
        return await self._move(
            task_id,
            [TaskRow.status == expected_status.value, _holder_is(expected_holder)],
            {"status": TaskStatus.CANCELLED.value, "closed_at": at},
        )

    async def add_note(self, task_id: int, *, expected_version: int, note: dict[str, Any]) -> bool:
        """Append a note, only if nobody changed the task since it was read."""
        row = (
            await self.s.execute(
                select(TaskRow)
                .where(TaskRow.id == task_id)
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        if row is None or row.version != expected_version:
            return False
        return await self._move(
            task_id,
            [TaskRow.version == expected_version],
            {"notes": [*(row.notes or []), note]},
        )


class SqlAcknowledgements:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def add(self, *, incident_id: int, member_id: int, kind: AckKind, at: datetime) -> bool:
        """Record it once; False if this person already did (a concurrent twin loses quietly)."""
        insert_fn = pg_insert if self.s.get_bind().dialect.name == "postgresql" else sqlite_insert
        result = await self.s.execute(
            insert_fn(AcknowledgementRow)
            .values(incident_id=incident_id, member_id=member_id, kind=kind.value, at=at)
            .on_conflict_do_nothing(index_elements=["incident_id", "member_id", "kind"])
        )
        return _count(result) == 1

    async def list_for_incident(self, incident_id: int) -> list[Acknowledgement]:
        rows = (
            await self.s.execute(
                select(AcknowledgementRow)
                .where(AcknowledgementRow.incident_id == incident_id)
                .order_by(AcknowledgementRow.id)
            )
        ).scalars()
        return [Acknowledgement(r.incident_id, r.member_id, AckKind(r.kind), r.at) for r in rows]
