"""SQL implementations of the narrow interfaces in ``bot.services.ports``.

Contested changes are single conditional UPDATEs (``... WHERE status = :expected``)
whose row count says who won, so they are safe on SQLite and on PostgreSQL
READ COMMITTED alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, and_, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.domain.membership import (
    Group,
    Invite,
    Member,
    MemberStatus,
    Organisation,
    OrgKind,
    RegistrationStep,
    Role,
    ServiceArea,
)
from bot.services.ports import ActionRecord
from storage.models import (
    AccessAttemptRow,
    ActionRow,
    GroupRow,
    IncidentRow,
    InviteRow,
    MemberRow,
    OrganisationRow,
    ReplySlotRow,
)

_DRILL_CACHE = "homeward.drill_incidents"


async def incident_is_drill(session: AsyncSession, incident_id: int) -> bool:
    """Whether an incident is a drill, remembered for the rest of this transaction.

    The flag is set when an incident is created and never changes, so one look per
    incident per unit of work is enough (the cache lives and dies with the session).
    """
    cache: dict[int, bool] = session.info.setdefault(_DRILL_CACHE, {})
    if incident_id in cache:
        return cache[incident_id]
    flag = (
        await session.execute(select(IncidentRow.is_drill).where(IncidentRow.id == incident_id))
    ).scalar_one_or_none()
    if flag is None:
        return False  # no such incident (yet): nothing to remember
    cache[incident_id] = bool(flag)
    return cache[incident_id]


def _rowcount(result: Any) -> int:
    if not isinstance(result, CursorResult):
        raise TypeError("expected a cursor result from a DML statement")
    return int(result.rowcount)


def to_member(row: MemberRow) -> Member:
    return Member(
        id=row.id,
        telegram_id=row.telegram_id,
        name=row.name,
        role=Role(row.role),
        org_id=row.org_id,
        status=MemberStatus(row.status),
        area=ServiceArea(
            latitude=row.area_lat,
            longitude=row.area_lon,
            radius_km=row.area_radius_km,
            names=tuple(row.area_names or ()),
        ),
        registration_step=RegistrationStep(row.registration_step)
        if row.registration_step
        else None,
        created_at=row.created_at,
    )


def to_org(row: OrganisationRow) -> Organisation:
    return Organisation(
        id=row.id,
        kind=OrgKind(row.kind),
        name=row.name,
        latitude=row.latitude,
        longitude=row.longitude,
        address=row.address,
    )


def to_invite(row: InviteRow) -> Invite:
    return Invite(
        id=row.id,
        role=Role(row.role),
        org_id=row.org_id,
        created_by=row.created_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
        used_by_telegram_id=row.used_by_telegram_id,
    )


class SqlMembers:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def get(self, member_id: int) -> Member | None:
        row = await self.s.get(MemberRow, member_id, populate_existing=True)
        return to_member(row) if row else None

    async def get_by_telegram_id(self, telegram_id: int) -> Member | None:
        row = (
            await self.s.execute(
                select(MemberRow)
                .where(MemberRow.telegram_id == telegram_id)
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        return to_member(row) if row else None

    async def add(
        self,
        *,
        telegram_id: int,
        name: str,
        role: Role,
        org_id: int | None,
        status: MemberStatus,
        registration_step: RegistrationStep | None,
        created_at: datetime,
        invite_id: int | None = None,
    ) -> Member:
        row = MemberRow(
            telegram_id=telegram_id,
            name=name,
            role=role.value,
            org_id=org_id,
            status=status.value,
            registration_step=registration_step.value if registration_step else None,
            area_names=[],
            invite_id=invite_id,
            created_at=created_at,
            status_changed_at=created_at,
        )
        self.s.add(row)
        await self.s.flush()
        return to_member(row)

    async def change_status(
        self,
        member_id: int,
        *,
        expected: Sequence[MemberStatus],
        new: MemberStatus,
        at: datetime,
        by_member_id: int | None,
    ) -> bool:
        result = await self.s.execute(
            update(MemberRow)
            .where(MemberRow.id == member_id, MemberRow.status.in_([e.value for e in expected]))
            .values(status=new.value, status_changed_at=at, status_changed_by=by_member_id)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result) == 1

    async def update_registration(
        self,
        member_id: int,
        *,
        step: RegistrationStep | None,
        name: str | None = None,
        area: ServiceArea | None = None,
    ) -> None:
        values: dict[str, Any] = {"registration_step": step.value if step else None}
        if name is not None:
            values["name"] = name
        if area is not None:
            values.update(
                area_lat=area.latitude,
                area_lon=area.longitude,
                area_radius_km=area.radius_km,
                area_names=list(area.names),
            )
        await self.s.execute(
            update(MemberRow)
            .where(MemberRow.id == member_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    async def restart_registration(
        self, member_id: int, *, role: Role, org_id: int, invite_id: int, at: datetime
    ) -> None:
        await self.s.execute(
            update(MemberRow)
            .where(MemberRow.id == member_id)
            .values(
                role=role.value,
                org_id=org_id,
                invite_id=invite_id,
                status=MemberStatus.REGISTERING.value,
                registration_step=RegistrationStep.NAME.value,
                name="",
                area_lat=None,
                area_lon=None,
                area_radius_km=None,
                area_names=[],
                status_changed_at=at,
                status_changed_by=None,
            )
            .execution_options(synchronize_session=False)
        )

    async def inviter_of(self, member_id: int) -> Member | None:
        invitee = aliased(MemberRow)
        row = (
            await self.s.execute(
                select(MemberRow)
                .join(InviteRow, InviteRow.created_by == MemberRow.id)
                .join(invitee, invitee.invite_id == InviteRow.id)
                .where(invitee.id == member_id)
            )
        ).scalar_one_or_none()
        return to_member(row) if row else None

    async def mark_unreachable(self, member_id: int, *, at: datetime | None) -> None:
        await self.s.execute(
            update(MemberRow)
            .where(MemberRow.id == member_id)
            .values(unreachable_at=at)
            .execution_options(synchronize_session=False)
        )

    async def stale_menus(self, signatures: Mapping[Role, str], *, limit: int) -> list[Member]:
        stale = or_(
            *(
                and_(
                    MemberRow.role == role.value,
                    or_(MemberRow.menu_signature.is_(None), MemberRow.menu_signature != sig),
                )
                for role, sig in signatures.items()
            )
        )
        query = (
            select(MemberRow)
            .where(MemberRow.status == MemberStatus.ACTIVE.value, stale)
            .order_by(MemberRow.id)
            .limit(limit)
        )
        rows = (await self.s.execute(query.execution_options(populate_existing=True))).scalars()
        return [to_member(r) for r in rows]

    async def claim_menu(self, member_id: int, signature: str) -> bool:
        result = await self.s.execute(
            update(MemberRow)
            .where(
                MemberRow.id == member_id,
                or_(MemberRow.menu_signature.is_(None), MemberRow.menu_signature != signature),
            )
            .values(menu_signature=signature)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result) == 1

    async def list(
        self,
        *,
        statuses: Sequence[MemberStatus] | None = None,
        roles: Sequence[Role] | None = None,
    ) -> list[Member]:
        query = select(MemberRow).order_by(MemberRow.id)
        if statuses is not None:
            query = query.where(MemberRow.status.in_([s.value for s in statuses]))
        if roles is not None:
            query = query.where(MemberRow.role.in_([r.value for r in roles]))
        rows = (await self.s.execute(query.execution_options(populate_existing=True))).scalars()
        return [to_member(r) for r in rows]

    async def incident_approver(self, incident_id: int) -> Member | None:
        """The member who approved an incident (any status), or None."""
        row = (
            await self.s.execute(
                select(MemberRow)
                .join(IncidentRow, IncidentRow.approved_by == MemberRow.id)
                .where(IncidentRow.id == incident_id)
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        return to_member(row) if row else None


class SqlOrganisations:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def add(
        self,
        *,
        kind: OrgKind,
        name: str,
        created_at: datetime,
        address: str | None = None,
        latitude: float | None = None,
        longitude: float | None = None,
    ) -> Organisation:
        row = OrganisationRow(
            kind=kind.value,
            name=name,
            created_at=created_at,
            address=address,
            latitude=latitude,
            longitude=longitude,
        )
        self.s.add(row)
        await self.s.flush()
        return to_org(row)

    async def get(self, org_id: int) -> Organisation | None:
        row = await self.s.get(OrganisationRow, org_id)
        return to_org(row) if row else None

    async def get_by_name(self, name: str) -> Organisation | None:
        row = (
            await self.s.execute(
                select(OrganisationRow).where(func.lower(OrganisationRow.name) == name.lower())
            )
        ).scalar_one_or_none()
        return to_org(row) if row else None

    async def list(self) -> list[Organisation]:
        query = select(OrganisationRow).order_by(OrganisationRow.id)
        return [to_org(r) for r in (await self.s.execute(query)).scalars()]


class SqlInvites:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def add(
        self,
        *,
        code_hash: str,
        role: Role,
        org_id: int,
        created_by: int | None,
        created_at: datetime,
        expires_at: datetime,
    ) -> Invite:
        row = InviteRow(
            code_hash=code_hash,
            role=role.value,
            org_id=org_id,
            created_by=created_by,
            created_at=created_at,
            expires_at=expires_at,
        )
        self.s.add(row)
        await self.s.flush()
        return to_invite(row)

    async def consume(self, *, code_hash: str, telegram_id: int, now: datetime) -> Invite | None:
        result = await self.s.execute(
            update(InviteRow)
            .where(
                InviteRow.code_hash == code_hash,
                InviteRow.used_at.is_(None),
                InviteRow.expires_at > now,
            )
            .values(used_at=now, used_by_telegram_id=telegram_id)
            .execution_options(synchronize_session=False)
        )
        if _rowcount(result) != 1:
            return None
        row = (
            await self.s.execute(
                select(InviteRow)
                .where(InviteRow.code_hash == code_hash)
                .execution_options(populate_existing=True)
            )
        ).scalar_one()
        return to_invite(row)


class SqlAttempts:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def record_failure(self, *, telegram_id: int, kind: str, at: datetime) -> None:
        await self.s.execute(
            insert(AccessAttemptRow).values(telegram_id=telegram_id, kind=kind, at=at)
        )

    async def count_failures(self, *, telegram_id: int, kind: str, since: datetime) -> int:
        return int(
            (
                await self.s.execute(
                    select(func.count())
                    .select_from(AccessAttemptRow)
                    .where(
                        AccessAttemptRow.telegram_id == telegram_id,
                        AccessAttemptRow.kind == kind,
                        AccessAttemptRow.at > since,
                    )
                )
            ).scalar_one()
        )

    async def claim_reply_slot(
        self, *, telegram_id: int, now: datetime, interval_seconds: float
    ) -> bool:
        cutoff = now - timedelta(seconds=interval_seconds)
        result = await self.s.execute(
            update(ReplySlotRow)
            .where(ReplySlotRow.telegram_id == telegram_id, ReplySlotRow.last_at <= cutoff)
            .values(last_at=now)
            .execution_options(synchronize_session=False)
        )
        if _rowcount(result) == 1:
            return True
        # First contact: insert, and let a concurrent first contact lose quietly.
        insert_fn = pg_insert if self.s.get_bind().dialect.name == "postgresql" else sqlite_insert
        inserted = await self.s.execute(
            insert_fn(ReplySlotRow)
            .values(telegram_id=telegram_id, last_at=now)
            .on_conflict_do_nothing(index_elements=["telegram_id"])
        )
        return _rowcount(inserted) == 1


class SqlActions:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def add(self, record: ActionRecord) -> None:
        await self.s.execute(
            insert(ActionRow).values(
                token=record.token,
                action=record.action,
                payload=record.payload,
                audience_telegram_id=record.audience_telegram_id,
                created_at=record.created_at,
                expires_at=record.expires_at,
            )
        )

    async def get(self, token: str) -> ActionRecord | None:
        row = await self.s.get(ActionRow, token)
        if row is None:
            return None
        return ActionRecord(
            token=row.token,
            action=row.action,
            payload=dict(row.payload),
            audience_telegram_id=row.audience_telegram_id,
            created_at=row.created_at,
            expires_at=row.expires_at,
        )

    async def purge_expired(self, now: datetime) -> int:
        result = await self.s.execute(delete(ActionRow).where(ActionRow.expires_at <= now))
        return _rowcount(result)


class SqlGroups:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def get(self, chat_id: int) -> Group | None:
        row = await self.s.get(GroupRow, chat_id)
        if row is None or not row.active:
            return None
        return Group(row.chat_id, row.title, row.registered_by, row.active)

    async def add(
        self, *, chat_id: int, title: str, registered_by: int | None, at: datetime
    ) -> Group:
        row = GroupRow(
            chat_id=chat_id,
            title=title,
            registered_by=registered_by,
            registered_at=at,
            active=True,
        )
        await self.s.merge(row)
        await self.s.flush()
        return Group(chat_id, title, registered_by, True)
