"""The unit of work: one transaction, the repositories that share it, and a commit hook."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.alerts_repo import SqlForms, SqlIncidents, SqlReach, SqlYouth
from storage.outbox_repo import SqlOutbox
from storage.repositories import (
    SqlActions,
    SqlAttempts,
    SqlGroups,
    SqlInvites,
    SqlMembers,
    SqlOrganisations,
)
from storage.tasks_repo import SqlAcknowledgements, SqlTasks
from storage.timeline_repo import SqlTimeline
from storage.timers_repo import SqlTimers
from storage.updates_repo import SqlIncidentUpdates


class SqlUnitOfWork:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        on_outbox_commit: Callable[[], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._on_outbox_commit = on_outbox_commit
        self._session: AsyncSession | None = None

    async def __aenter__(self) -> Self:
        session = self._sessions()
        self._session = session
        self.members = SqlMembers(session)
        self.organisations = SqlOrganisations(session)
        self.invites = SqlInvites(session)
        self.attempts = SqlAttempts(session)
        self.actions = SqlActions(session)
        self.timeline = SqlTimeline(session)
        self.outbox = SqlOutbox(session)
        self.groups = SqlGroups(session)
        self.youth = SqlYouth(session)
        self.incidents = SqlIncidents(session)
        self.forms = SqlForms(session)
        self.reach = SqlReach(session)
        self.timers = SqlTimers(session)
        self.tasks = SqlTasks(session)
        self.acknowledgements = SqlAcknowledgements(session)
        self.incident_updates = SqlIncidentUpdates(session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self._session
        self._session = None
        if session is None:
            return
        try:
            if session.in_transaction():
                await session.rollback()
        finally:
            await session.close()

    async def commit(self) -> None:
        if self._session is None:
            raise RuntimeError("commit outside the unit of work")
        await self._session.commit()
        if self.outbox.added and self._on_outbox_commit is not None:
            self.outbox.added = 0
            self._on_outbox_commit()


def uow_factory(
    sessions: async_sessionmaker[AsyncSession],
    *,
    on_outbox_commit: Callable[[], None] | None = None,
) -> Callable[[], SqlUnitOfWork]:
    def make() -> SqlUnitOfWork:
        return SqlUnitOfWork(sessions, on_outbox_commit=on_outbox_commit)

    return make
