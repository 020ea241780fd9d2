"""Guided conversations as data: a form is a list of steps, each parsed and validated.

The state of a form in progress lives in the database (so a restart loses nothing);
this module only knows how to read one answer for one step. Every parser returns
either a value or a kind explanation, and never accepts something half-valid.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo


class StepKind(StrEnum):
    TEXT = "text"  # free text (optional steps get a Skip button)
    CHOICE = "choice"  # buttons only
    YES_NO = "yes_no"
    DATE = "date"  # a calendar date in the past
    WHEN = "when"  # a moment in the recent past: quick buttons or a typed time
    LOCATION = "location"  # a shared location, a typed address, or a named shortcut
    PHOTO = "photo"
    NUMBER = "number"
    LIST = "list"  # several short items, comma or line separated


@dataclass(frozen=True, slots=True)
class Step:
    key: str
    kind: StepKind
    optional: bool = False
    max_len: int = 300
    choices: tuple[tuple[str, str], ...] = ()  # (value, label) for CHOICE / WHEN shortcuts
    minimum: float | None = None
    maximum: float | None = None
    skip_if: Callable[[Mapping[str, Any]], bool] | None = None

    def applies(self, data: Mapping[str, Any]) -> bool:
        return self.skip_if is None or not self.skip_if(data)


@dataclass(frozen=True, slots=True)
class FormSpec:
    kind: str
    steps: tuple[Step, ...]

    def step(self, key: str) -> Step:
        return next(s for s in self.steps if s.key == key)

    def next_step(self, data: Mapping[str, Any], after: str | None) -> Step | None:
        """The first applicable step after ``after`` (None: start), or None when done."""
        started = after is None
        for step in self.steps:
            if not started:
                started = step.key == after
                continue
            if step.applies(data):
                return step
        return None


@dataclass(frozen=True, slots=True)
class Parsed:
    ok: bool
    value: Any = None
    problem: str = ""  # a key into the texts for the kind explanation

    @classmethod
    def good(cls, value: Any) -> Parsed:
        return cls(True, value)

    @classmethod
    def bad(cls, problem: str) -> Parsed:
        return cls(False, None, problem)


@dataclass(frozen=True, slots=True)
class Context:
    now: datetime
    zone: ZoneInfo
    extra: dict[str, Any] = field(default_factory=dict)


_CONTROL = ("Cc", "Cf", "Co", "Cs")


def clean_text(text: str, max_len: int) -> str | None:
    """Collapse whitespace per line, refuse control characters; None when unusable."""
    lines = [" ".join(line.split()) for line in text.strip().splitlines()]
    cleaned = "\n".join(line for line in lines if line)
    if not cleaned or len(cleaned) > max_len:
        return None
    if any(unicodedata.category(c) in _CONTROL and c != "\n" for c in cleaned):
        return None
    return cleaned


def parse_text(step: Step, text: str) -> Parsed:
    if text.startswith("/"):
        return Parsed.bad("not_a_command")
    cleaned = clean_text(text, step.max_len)
    if cleaned is None:
        return Parsed.bad("text_length")
    return Parsed.good(cleaned)


def parse_list(step: Step, text: str) -> Parsed:
    if text.startswith("/"):
        return Parsed.bad("not_a_command")
    items = [" ".join(p.split()) for p in re.split(r"[,\n;]", text)]
    items = [i for i in items if i]
    if not items or len(items) > 20 or any(len(i) > 80 for i in items):
        return Parsed.bad("list_shape")
    if any(clean_text(i, 80) is None for i in items):
        return Parsed.bad("list_shape")
    return Parsed.good(items)


def parse_number(step: Step, text: str) -> Parsed:
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        return Parsed.bad("number")
    if not math.isfinite(value):
        return Parsed.bad("number")
    if (step.minimum is not None and value < step.minimum) or (
        step.maximum is not None and value > step.maximum
    ):
        return Parsed.bad("number_range")
    return Parsed.good(int(value) if value.is_integer() else value)


_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%Y/%m/%d", "%d %B %Y", "%d %b %Y", "%B %d %Y")


def parse_date(step: Step, text: str, ctx: Context) -> Parsed:
    cleaned = " ".join(text.replace(",", " ").split())
    for fmt in _DATE_FORMATS:
        try:
            value = datetime.strptime(cleaned, fmt).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
        today = ctx.now.astimezone(ctx.zone).date()
        if value > today or value < date(today.year - 30, 1, 1):
            return Parsed.bad("date_range")
        return Parsed.good(value.isoformat())
    return Parsed.bad("date_format")


_TIME = re.compile(r"^(\d{1,2})[:h.](\d{2})\s*(am|pm)?$", re.IGNORECASE)


def parse_when(step: Step, text: str, ctx: Context) -> Parsed:
    """A typed time: ``HH:MM`` (today, or yesterday if that would be in the future),
    ``YYYY-MM-DD HH:MM``, or a shortcut value ``-N`` minutes. Stored as aware UTC."""
    raw = text.strip().lower()
    local_now = ctx.now.astimezone(ctx.zone)
    if re.fullmatch(r"-\d{1,5}", raw):
        moment = ctx.now - timedelta(minutes=int(raw[1:]))
        return Parsed.good(moment.isoformat())
    day: date = local_now.date()
    time_part = raw
    match_full = re.fullmatch(r"(\d{4}-\d{2}-\d{2})\s+(.+)", raw)
    explicit_day = False
    if match_full:
        try:
            day = date.fromisoformat(match_full.group(1))
        except ValueError:
            return Parsed.bad("when_format")
        time_part = match_full.group(2)
        explicit_day = True
    match = _TIME.match(time_part)
    if not match:
        return Parsed.bad("when_format")
    hour, minute, half = int(match.group(1)), int(match.group(2)), match.group(3)
    if half:
        if not 1 <= hour <= 12:
            return Parsed.bad("when_format")
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        return Parsed.bad("when_format")
    local = datetime.combine(day, time(hour, minute), tzinfo=ctx.zone)
    if local > local_now + timedelta(minutes=5):
        if explicit_day:
            return Parsed.bad("when_future")
        local -= timedelta(days=1)
    if local < local_now - timedelta(days=30):
        return Parsed.bad("when_too_old")
    return Parsed.good(local.astimezone(ctx.now.tzinfo).isoformat())


def parse_yes_no(text: str) -> Parsed:
    word = text.strip().lower()
    if word in ("yes", "y", "oui", "true"):
        return Parsed.good(True)
    if word in ("no", "n", "non", "false"):
        return Parsed.good(False)
    return Parsed.bad("yes_no")


def parse_choice(step: Step, value: str) -> Parsed:
    for choice, label in step.choices:
        if value == choice or value.strip().casefold() == label.casefold():
            return Parsed.good(choice)
    return Parsed.bad("choice")


def parse_typed(step: Step, text: str, ctx: Context) -> Parsed:
    """Parse a typed answer for any step kind that accepts typing."""
    if step.kind is StepKind.TEXT:
        return parse_text(step, text)
    if step.kind is StepKind.LIST:
        return parse_list(step, text)
    if step.kind is StepKind.NUMBER:
        return parse_number(step, text)
    if step.kind is StepKind.DATE:
        return parse_date(step, text, ctx)
    if step.kind is StepKind.WHEN:
        return parse_when(step, text, ctx)
    if step.kind is StepKind.YES_NO:
        return parse_yes_no(text)
    if step.kind is StepKind.CHOICE:
        return parse_choice(step, text)
    if step.kind is StepKind.PHOTO:
        return Parsed.bad("photo_expected")
    return Parsed.bad("location_expected")
