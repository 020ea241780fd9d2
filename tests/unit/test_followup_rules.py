"""Follow-up rules without a database: police report numbers, what a reminder may call
the youth, and the timer settings (defaults, overrides, refusals)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.errors import InvalidInput
from bot.domain.followups import clean_report_number, first_name
from bot.domain.incidents import Incident, IncidentStatus, RiskLevel, Youth, normalise_code
from bot.settings import ConfigError, load_settings


@pytest.mark.parametrize(
    ("typed", "kept"),
    [("2026-123456", "2026-123456"), ("  GSPS  #44/B ", "GSPS #44/B"), ("a" * 40, "a" * 40)],
)
def test_report_numbers_kept(typed: str, kept: str) -> None:
    assert clean_report_number(typed) == kept


@pytest.mark.parametrize("typed", ["", "   ", "a" * 41, "<b>1</b>", "12;DROP", "###", "٣٣"])
def test_report_numbers_refused(typed: str) -> None:
    with pytest.raises(InvalidInput):
        clean_report_number(typed)


def test_reminders_use_only_the_first_name_on_the_card() -> None:
    incident = Incident(
        id=1,
        code="HW-ABCDE",
        status=IncidentStatus.ACTIVE,
        raised_by=1,
        residence_org_id=1,
        youth_id=1,
        created_at=datetime(2026, 3, 6, tzinfo=UTC),
        version=1,
        content_hash="",
        subject_name="Jordan Alexander Smith",
    )
    youth = Youth(
        id=1, residence_org_id=1, legal_name="Jordan Alexander Smith", preferred_name="Jay"
    )
    assert first_name(incident, youth) == "Jay"
    assert first_name(incident, None) == "Jordan"
    assert normalise_code(" hw-abcde ") == normalise_code("ABCDE") == "HW-ABCDE"


def test_timer_settings_defaults_overrides_and_refusals() -> None:
    policy = load_settings(None).alerts.policy()
    assert policy.police_deadline[RiskLevel.HIGH] == timedelta(0)
    assert policy.police_deadline[RiskLevel.MEDIUM] == timedelta(hours=1)
    assert policy.status_check_every[RiskLevel.HIGH] == timedelta(hours=2)
    assert policy.occurrence_reminders == (timedelta(hours=12), timedelta(hours=23))
    assert policy.return_interview_due == timedelta(hours=72)

    custom = load_settings(
        None,
        alerts={
            "police_repeat_minutes": 15,
            "status_check_hours_medium": 4,
            "return_interview_reminder_hours": [60, 12],
        },
    ).alerts.policy()
    assert custom.police_repeat == timedelta(minutes=15)
    assert custom.status_check_every[RiskLevel.MEDIUM] == timedelta(hours=4)
    assert custom.return_interview_reminders == (timedelta(hours=12), timedelta(hours=60))

    for bad in (
        {"police_repeat_minutes": 1},
        {"status_check_hours_high": 0},
        {"police_deadline_minutes_low": -5},
        {"occurrence_reminder_hours": [12, 24]},
        {"return_interview_reminder_hours": [24, 24]},
    ):
        with pytest.raises(ConfigError):
            load_settings(None, alerts=bad)
