"""SQL for youth profiles, incidents, forms in progress and reach (radius) queries."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.geo import EARTH_RADIUS_KM, Point, haversine_coords
from bot.domain.incidents import (
    Incident,
    IncidentStatus,
    LocationSource,
    Outcome,
    Place,
    RiskLevel,
    Youth,
)
from bot.domain.membership import Member, MemberStatus, Role, ServiceArea
from bot.services.ports_alerts import FormState
from storage.models import FormRow, IncidentRow, MemberRow, YouthRow
from storage.repositories import incident_is_drill, to_member


def _count(result: Any) -> int:
    if not isinstance(result, CursorResult):
        raise TypeError("expected a cursor result from a DML statement")
    return int(result.rowcount)


def to_youth(row: YouthRow) -> Youth:
    return Youth(
        id=row.id,
        residence_org_id=row.residence_org_id,
        legal_name=row.legal_name,
        preferred_name=row.preferred_name,
        pronouns=row.pronouns,
        date_of_birth=row.date_of_birth,
        photo_file_id=row.photo_file_id,
        description=row.description,
        languages=row.languages,
        indigenous_community=row.indigenous_community,
        service_preference=row.service_preference,
        medical_needs=row.medical_needs,
        places=tuple(
            Place(str(p["name"]), float(p["latitude"]), float(p["longitude"]))
            for p in (row.places or [])
        ),
        associates=tuple(row.associates or ()),
        risk_notes=row.risk_notes,
        active=row.active,
        is_drill=row.is_drill,
    )


_YOUTH_FIELDS = frozenset(
    {
        "legal_name",
        "preferred_name",
        "pronouns",
        "date_of_birth",
        "photo_file_id",
        "description",
        "languages",
        "indigenous_community",
        "service_preference",
        "medical_needs",
        "places",
        "associates",
        "risk_notes",
        "active",
        "residence_org_id",
        "is_drill",
    }
)


def _youth_values(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - _YOUTH_FIELDS
    if unknown:
        raise ValueError(f"unknown youth fields: {sorted(unknown)}")
    values = dict(fields)
    if isinstance(values.get("date_of_birth"), str):
        values["date_of_birth"] = date.fromisoformat(values["date_of_birth"])
    if "places" in values:
        values["places"] = [
            {"name": p.name, "latitude": p.latitude, "longitude": p.longitude}
            if isinstance(p, Place)
            else dict(p)
            for p in values["places"]
        ]
    if "associates" in values:
        values["associates"] = list(values["associates"])
    return values


class SqlYouth:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def add(
        self,
        *,
        residence_org_id: int,
        created_by: int | None,
        at: datetime,
        fields: dict[str, Any],
    ) -> Youth:
        values = _youth_values(fields)
        values.setdefault("places", [])
        values.setdefault("associates", [])
        row = YouthRow(
            residence_org_id=residence_org_id,
            created_by=created_by,
            created_at=at,
            updated_at=at,
            active=True,
            **values,
        )
        self.s.add(row)
        await self.s.flush()
        return to_youth(row)

    async def get(self, youth_id: int) -> Youth | None:
        row = await self.s.get(YouthRow, youth_id, populate_existing=True)
        return to_youth(row) if row else None

    async def list_for_residence(self, residence_org_id: int) -> list[Youth]:
        rows = (
            await self.s.execute(
                select(YouthRow)
                .where(
                    YouthRow.residence_org_id == residence_org_id,
                    YouthRow.active.is_(True),
                    YouthRow.is_drill.is_(False),
                )
                .order_by(YouthRow.preferred_name, YouthRow.id)
            )
        ).scalars()
        return [to_youth(r) for r in rows]

    async def list_all(self) -> list[Youth]:
        rows = (
            await self.s.execute(
                select(YouthRow)
                .where(YouthRow.active.is_(True), YouthRow.is_drill.is_(False))
                .order_by(YouthRow.id)
            )
        ).scalars()
        return [to_youth(r) for r in rows]

    async def update(self, youth_id: int, *, at: datetime, fields: dict[str, Any]) -> None:
        await self.s.execute(
            update(YouthRow)
            .where(YouthRow.id == youth_id)
            .values(updated_at=at, **_youth_values(fields))
            .execution_options(synchronize_session=False)
        )


def to_incident(row: IncidentRow) -> Incident:
    return Incident(
        id=row.id,
        code=row.code,
        status=IncidentStatus(row.status),
        raised_by=row.raised_by,
        residence_org_id=row.residence_org_id,
        youth_id=row.youth_id,
        created_at=row.created_at,
        version=row.version,
        content_hash=row.content_hash or "",
        last_seen_at=row.last_seen_at,
        latitude=row.last_seen_lat,
        longitude=row.last_seen_lon,
        location_label=row.last_seen_label,
        location_source=LocationSource(row.location_source or "none"),
        clothing=row.clothing,
        circumstances=row.circumstances,
        photo_file_id=row.photo_file_id,
        subject_name=row.subject_name,
        subject_age=row.subject_age,
        subject_description=row.subject_description,
        risk_level=RiskLevel(row.risk_level or "medium"),
        risk_answers=dict(row.risk_answers or {}),
        police_told=row.police_told,
        police_report_number=row.police_report_number,
        reach_radius_km=row.reach_radius_km,
        extra_org_ids=tuple(row.extra_org_ids or ()),
        approved_version=row.approved_version,
        approved_hash=row.approved_hash,
        approved_by=row.approved_by,
        approved_at=row.approved_at,
        resolved_at=row.resolved_at,
        outcome=Outcome(row.outcome) if row.outcome else None,
        is_drill=row.is_drill,
        occurrence_reported_at=row.occurrence_reported_at,
        occurrence_reported_by=row.occurrence_reported_by,
    )


# Domain names -> columns.
_INCIDENT_COLUMNS = {
    "latitude": "last_seen_lat",
    "longitude": "last_seen_lon",
    "location_label": "last_seen_label",
}


def _incident_values(fields: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in fields.items():
        column = _INCIDENT_COLUMNS.get(key, key)
        if not hasattr(IncidentRow, column):
            raise ValueError(f"unknown incident field {key!r}")
        if key == "last_seen_at" and isinstance(value, str):
            value = datetime.fromisoformat(value)
        if key == "extra_org_ids":
            value = list(value)
        if hasattr(value, "value") and not isinstance(value, bool | int | float):
            value = value.value  # enums
        values[column] = value
    return values


class SqlIncidents:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def add(self, *, fields: dict[str, Any]) -> Incident:
        row = IncidentRow(**_incident_values(fields))
        self.s.add(row)
        await self.s.flush()
        return to_incident(row)

    async def get(self, incident_id: int) -> Incident | None:
        row = await self.s.get(IncidentRow, incident_id, populate_existing=True)
        return to_incident(row) if row else None

    async def is_drill(self, incident_id: int) -> bool:
        return await incident_is_drill(self.s, incident_id)

    async def get_by_code(self, code: str) -> Incident | None:
        row = (
            await self.s.execute(
                select(IncidentRow)
                .where(IncidentRow.code == code.strip().upper())
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        return to_incident(row) if row else None

    async def list(
        self,
        *,
        statuses: Sequence[IncidentStatus] | None = None,
        residence_org_id: int | None = None,
    ) -> list[Incident]:
        query = select(IncidentRow).order_by(IncidentRow.id.desc())
        if statuses is not None:
            query = query.where(IncidentRow.status.in_([s.value for s in statuses]))
        if residence_org_id is not None:
            query = query.where(IncidentRow.residence_org_id == residence_org_id)
        rows = (await self.s.execute(query.execution_options(populate_existing=True))).scalars()
        return [to_incident(r) for r in rows]

    async def approve(
        self,
        incident_id: int,
        *,
        version: int,
        content_hash: str,
        by_member_id: int,
        at: datetime,
    ) -> bool:
        result = await self.s.execute(
            update(IncidentRow)
            .where(
                IncidentRow.id == incident_id,
                IncidentRow.status == IncidentStatus.PENDING.value,
                IncidentRow.version == version,
                IncidentRow.content_hash == content_hash,
                IncidentRow.raised_by != by_member_id,
            )
            .values(
                status=IncidentStatus.ACTIVE.value,
                approved_version=version,
                approved_hash=content_hash,
                approved_by=by_member_id,
                approved_at=at,
            )
            .execution_options(synchronize_session=False)
        )
        return _count(result) == 1

    async def reject(
        self, incident_id: int, *, version: int, by_member_id: int, reason: str, at: datetime
    ) -> bool:
        result = await self.s.execute(
            update(IncidentRow)
            .where(
                IncidentRow.id == incident_id,
                IncidentRow.status == IncidentStatus.PENDING.value,
                IncidentRow.version == version,
            )
            .values(
                status=IncidentStatus.REJECTED.value,
                rejected_reason=reason,
                resolved_by=by_member_id,
                resolved_at=at,
            )
            .execution_options(synchronize_session=False)
        )
        return _count(result) == 1

    async def revise(
        self,
        incident_id: int,
        *,
        expected_version: int,
        fields: dict[str, Any],
        content_hash: str,
        back_to_vetting: bool,
    ) -> bool:
        values = _incident_values(fields)
        values.update(version=expected_version + 1, content_hash=content_hash)
        if back_to_vetting:
            values["status"] = IncidentStatus.PENDING.value
        result = await self.s.execute(
            update(IncidentRow)
            .where(
                IncidentRow.id == incident_id,
                IncidentRow.version == expected_version,
                IncidentRow.status.in_([IncidentStatus.PENDING.value, IncidentStatus.ACTIVE.value]),
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return _count(result) == 1

    async def record_police_report(self, incident_id: int, *, number: str) -> bool:
        """Police were told, under this report number. Not a new version: the number is
        not part of what was vetted (``SENT_FIELDS``), so an approval still holds."""
        result = await self.s.execute(
            update(IncidentRow)
            .where(IncidentRow.id == incident_id)
            .values(police_told=True, police_report_number=number)
            .execution_options(synchronize_session=False)
        )
        return _count(result) == 1

    async def record_occurrence_report(
        self, incident_id: int, *, by_member_id: int, at: datetime
    ) -> bool:
        """Mark the serious-occurrence report filed; False if someone already did."""
        result = await self.s.execute(
            update(IncidentRow)
            .where(IncidentRow.id == incident_id, IncidentRow.occurrence_reported_at.is_(None))
            .values(occurrence_reported_at=at, occurrence_reported_by=by_member_id)
            .execution_options(synchronize_session=False)
        )
        return _count(result) == 1

    async def move_to_sighting(
        self,
        incident_id: int,
        *,
        expected_version: int,
        fields: dict[str, Any],
        content_hash: str,
        by_member_id: int,
        at: datetime,
    ) -> bool:
        """A coordinator confirmed a sighting: the last-known point moves as a new version
        that this coordinator approves in the same statement. Only an active alert whose
        approval was current, never by the alert's raiser."""
        values = _incident_values(fields)
        values.update(
            version=expected_version + 1,
            content_hash=content_hash,
            approved_version=expected_version + 1,
            approved_hash=content_hash,
            approved_by=by_member_id,
            approved_at=at,
        )
        result = await self.s.execute(
            update(IncidentRow)
            .where(
                IncidentRow.id == incident_id,
                IncidentRow.status == IncidentStatus.ACTIVE.value,
                IncidentRow.version == expected_version,
                IncidentRow.approved_version == expected_version,
                IncidentRow.raised_by != by_member_id,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return _count(result) == 1

    async def resolve(
        self, incident_id: int, *, by_member_id: int | None, outcome: str, at: datetime
    ) -> bool:
        result = await self.s.execute(
            update(IncidentRow)
            .where(
                IncidentRow.id == incident_id,
                IncidentRow.status.in_([IncidentStatus.PENDING.value, IncidentStatus.ACTIVE.value]),
            )
            .values(
                status=IncidentStatus.RESOLVED.value,
                resolved_by=by_member_id,
                resolved_at=at,
                outcome=outcome,
            )
            .execution_options(synchronize_session=False)
        )
        return _count(result) == 1


class SqlForms:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    @staticmethod
    def _state(row: FormRow) -> FormState:
        return FormState(
            row.id, row.member_id, row.kind, row.step, dict(row.data or {}), row.updated_at
        )

    async def get(self, member_id: int) -> FormState | None:
        row = (
            await self.s.execute(
                select(FormRow)
                .where(FormRow.member_id == member_id)
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        return self._state(row) if row else None

    async def start(
        self, *, member_id: int, kind: str, step: str | None, data: dict[str, Any], at: datetime
    ) -> FormState:
        await self.s.execute(delete(FormRow).where(FormRow.member_id == member_id))
        row = FormRow(
            member_id=member_id, kind=kind, step=step, data=data, created_at=at, updated_at=at
        )
        self.s.add(row)
        await self.s.flush()
        return self._state(row)

    async def save(
        self,
        form_id: int,
        *,
        expected_step: str | None,
        step: str | None,
        data: dict[str, Any],
        at: datetime,
    ) -> bool:
        condition = (
            FormRow.step.is_(None) if expected_step is None else FormRow.step == expected_step
        )
        result = await self.s.execute(
            update(FormRow)
            .where(FormRow.id == form_id, condition)
            .values(step=step, data=data, updated_at=at)
            .execution_options(synchronize_session=False)
        )
        return _count(result) == 1

    async def delete(self, member_id: int) -> None:
        await self.s.execute(delete(FormRow).where(FormRow.member_id == member_id))


_MEMBER_COLUMNS = (
    MemberRow.id,
    MemberRow.telegram_id,
    MemberRow.name,
    MemberRow.role,
    MemberRow.org_id,
    MemberRow.area_lat,
    MemberRow.area_lon,
    MemberRow.area_radius_km,
)


def _light_member(row: Any) -> Member:
    """Members from selected columns (no ORM objects: several times faster in bulk)."""
    return Member(
        id=row[0],
        telegram_id=row[1],
        name=row[2],
        role=Role(row[3]),
        org_id=row[4],
        status=MemberStatus.ACTIVE,
        area=ServiceArea(latitude=row[5], longitude=row[6], radius_km=row[7]),
    )


class SqlReach:
    """Radius search: a bounding box on the composite (lat, lon) index, then exact distance."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def members_near(
        self,
        *,
        latitude: float,
        longitude: float,
        radius_km: float,
        roles: Sequence[Role] | None = None,
    ) -> list[Member]:
        Point(latitude, longitude)  # validates: refuse NaN, inf and out-of-range input
        widest = (
            await self.s.execute(
                select(func.max(MemberRow.area_radius_km)).where(
                    MemberRow.status == MemberStatus.ACTIVE.value
                )
            )
        ).scalar_one_or_none()
        if widest is None:
            return []
        # A box that surely contains the circle (haversine sphere, small margin); the exact
        # distance filter below decides.
        span_km = (radius_km + float(widest)) * 1.001 + 0.01
        d = span_km / EARTH_RADIUS_KM
        dlat = math.degrees(d)
        query = select(*_MEMBER_COLUMNS).where(
            MemberRow.status == MemberStatus.ACTIVE.value,
            MemberRow.area_lat.between(latitude - dlat, latitude + dlat),
        )
        if latitude + dlat < 90.0 and latitude - dlat > -90.0:  # the pole is not inside
            ratio = math.sin(d) / math.cos(math.radians(latitude))
            dlon = math.degrees(math.asin(min(1.0, ratio)))
            if longitude - dlon >= -180.0 and longitude + dlon <= 180.0:
                query = query.where(MemberRow.area_lon.between(longitude - dlon, longitude + dlon))
        if roles is not None:
            query = query.where(MemberRow.role.in_([r.value for r in roles]))
        rows = (await self.s.execute(query)).all()
        # Exact distance on the raw rows first; build objects only for the matches.
        return [
            _light_member(r)
            for r in rows
            if r[5] is not None
            and r[6] is not None
            and r[7] is not None
            and haversine_coords(latitude, longitude, r[5], r[6]) <= r[7] + radius_km
        ]

    async def members_of_orgs(
        self, org_ids: Sequence[int], *, roles: Sequence[Role] | None = None
    ) -> list[Member]:
        if not org_ids:
            return []
        query = select(*_MEMBER_COLUMNS).where(
            MemberRow.org_id.in_(list(org_ids)), MemberRow.status == MemberStatus.ACTIVE.value
        )
        if roles is not None:
            query = query.where(MemberRow.role.in_([r.value for r in roles]))
        return [_light_member(r) for r in (await self.s.execute(query)).all()]


__all__ = ["SqlForms", "SqlIncidents", "SqlReach", "SqlYouth", "to_incident", "to_member"]
