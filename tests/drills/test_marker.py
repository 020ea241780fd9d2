"""The DRILL marker, the statistics rule, the fictional youth and the drill settings,
without a bot: pure functions and settings."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot import texts_alerts
from bot.domain import drills
from bot.domain.incidents import Incident, IncidentStatus, RiskLevel, Youth
from bot.domain.membership import Organisation, OrgKind
from bot.domain.outgoing import Outgoing
from bot.domain.visibility import DEFAULT_VISIBILITY
from bot.emulator.html import parse_html, utf16_len
from bot.settings import ConfigError, load_settings

ZONE = ZoneInfo("America/Toronto")


def incident(*, is_drill: bool, **more: object) -> Incident:
    values: dict[str, object] = {
        "id": 7,
        "code": "HW-ABCDE",
        "status": IncidentStatus.ACTIVE,
        "raised_by": 1,
        "residence_org_id": 1,
        "youth_id": 1,
        "created_at": datetime(2026, 3, 6, tzinfo=UTC),
        "version": 1,
        "content_hash": "x",
        "risk_level": RiskLevel.MEDIUM,
        "is_drill": is_drill,
    }
    values.update(more)
    return Incident(**values)  # type: ignore[arg-type]


def test_every_worded_method_gets_the_marker_once() -> None:
    cases = [
        Outgoing.text(1, "<b>hello</b>"),
        Outgoing.photo(1, "file", caption="a caption"),
        Outgoing.edit_text(1, 2, "edited"),
        Outgoing.replace_photo(1, 2, caption="note"),
    ]
    for message in cases:
        once = drills.marked(message)
        assert drills.marked(once) == once  # idempotent
        words = once.params.get("text") or once.params.get("caption")
        assert words.startswith(drills.MARK_HTML)
        visible, _ = parse_html(words)
        assert visible.startswith(drills.MARK_PLAIN)
        assert once.incident_id == message.incident_id
        assert once.kind == message.kind
    deletion = Outgoing.delete(1, 2, incident_id=7)
    assert drills.marked(deletion) == deletion
    plain = Outgoing("sendMessage", 1, {"text": "no markup"})
    assert drills.marked(plain).params["text"] == "DRILL — no markup"


def test_drills_never_count_towards_statistics() -> None:
    assert drills.counts_towards_statistics(incident(is_drill=False))
    assert not drills.counts_towards_statistics(incident(is_drill=True))


def test_a_marked_drill_card_still_fits_telegrams_limits() -> None:
    long = "x" * 3000
    case = incident(is_drill=True, clothing=long, circumstances=long, subject_name=long)
    youth = Youth(id=1, residence_org_id=1, legal_name=long, preferred_name=long, is_drill=True)
    home = Organisation(1, OrgKind.RESIDENCE, "Maple House")
    for fields in DEFAULT_VISIBILITY.values():
        for budget in (1024, 4096):
            card = texts_alerts.alert_card(case, youth, home, fields, 14, ZONE, budget=budget)
            visible, _ = parse_html(drills.mark(card))
            assert utf16_len(visible) <= budget


def test_the_fictional_youth_is_plainly_fictional() -> None:
    fields = drills.fictional_youth(seed="abc", today=date(2026, 3, 6), near=(46.5, -81.0))
    assert fields["preferred_name"].startswith("Drill Youth ")
    assert "fictional" in fields["legal_name"]
    assert fields["photo_file_id"] is None
    assert fields["date_of_birth"] == date(2012, 3, 6)
    assert all(p.name.startswith("Drill place") for p in fields["places"])
    assert all(
        abs(p.latitude - 46.5) < 0.02 and abs(p.longitude + 81.0) < 0.02 for p in fields["places"]
    )
    assert drills.fictional_name("abc") == drills.fictional_name("abc")
    leap = drills.fictional_youth(seed="x", today=date(2028, 2, 29), near=None)
    assert leap["date_of_birth"] == date(2014, 2, 28)
    assert leap["places"] == []


def test_the_drill_duration_is_configurable_and_checked() -> None:
    assert load_settings(None).alerts.policy().drill_duration == timedelta(hours=2)
    settings = load_settings(None, alerts={"drill_duration_minutes": 45})
    assert settings.alerts.policy().drill_duration == timedelta(minutes=45)
    with pytest.raises(ConfigError, match=r"alerts\.drill_duration_minutes"):
        load_settings(None, alerts={"drill_duration_minutes": 1})
