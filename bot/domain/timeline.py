"""The append-only timeline: every use case records what happened, by whom, when.

Events are hash-chained: each stores the hash of the previous one, so a changed
or deleted row is detected by :func:`verify_chain`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened. ``details`` never holds a youth's personal details."""

    action: str
    subject_type: str
    subject_id: str
    actor_member_id: int | None = None
    actor_telegram_id: int | None = None
    incident_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    id: int
    at: datetime
    event: Event
    prev_hash: str
    hash: str


def event_hash(prev_hash: str, at: datetime, event: Event) -> str:
    body = json.dumps(
        {
            "prev": prev_hash,
            "at": at.isoformat(),
            "action": event.action,
            "subject_type": event.subject_type,
            "subject_id": event.subject_id,
            "actor_member_id": event.actor_member_id,
            "actor_telegram_id": event.actor_telegram_id,
            "incident_id": event.incident_id,
            "details": event.details,
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainProblem:
    event_id: int
    reason: str


def verify_chain(events: Iterable[RecordedEvent]) -> list[ChainProblem]:
    """Return every place the chain breaks (empty list: intact)."""
    problems: list[ChainProblem] = []
    prev = GENESIS
    for rec in events:
        if rec.prev_hash != prev:
            problems.append(ChainProblem(rec.id, "previous hash does not match (row missing?)"))
        if event_hash(rec.prev_hash, rec.at, rec.event) != rec.hash:
            problems.append(ChainProblem(rec.id, "contents do not match their hash (row changed)"))
        prev = rec.hash
    return problems
