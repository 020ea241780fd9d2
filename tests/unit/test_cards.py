"""Alert cards and other people-facing text: always valid Telegram HTML, always within
Telegram's limits, whatever people typed (T33, T39)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot import texts_alerts, texts_forms
from bot.domain.incidents import Incident, IncidentStatus, RiskLevel, Youth
from bot.domain.membership import Organisation, OrgKind
from bot.domain.visibility import DEFAULT_VISIBILITY, AlertField
from bot.emulator.html import parse_html, utf16_len

ZONE = ZoneInfo("America/Toronto")
free_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=3000)


def incident(**overrides: object) -> Incident:
    values: dict[str, object] = {
        "id": 1,
        "code": "HW-ABCDE",
        "status": IncidentStatus.ACTIVE,
        "raised_by": 1,
        "residence_org_id": 1,
        "youth_id": 1,
        "created_at": datetime(2026, 3, 6, tzinfo=UTC),
        "version": 1,
        "content_hash": "x",
        "last_seen_at": datetime(2026, 3, 6, 14, tzinfo=UTC),
        "latitude": 46.49,
        "longitude": -80.99,
        "location_label": "Elm St",
        "risk_level": RiskLevel.HIGH,
    }
    values.update(overrides)
    return Incident(**values)  # type: ignore[arg-type]


YOUTH = Youth(
    id=1,
    residence_org_id=1,
    legal_name="Jordan Smith",
    preferred_name="Jay",
    date_of_birth=date(2011, 5, 2),
    description="slim",
    risk_notes="SEALED",
)
HOME = Organisation(1, OrgKind.RESIDENCE, "Maple House")


@settings(max_examples=300, deadline=None)
@given(clothing=free_text, circumstances=free_text, label=free_text, name=free_text)
def test_every_card_parses_and_fits(
    clothing: str, circumstances: str, label: str, name: str
) -> None:
    youth = Youth(
        id=1,
        residence_org_id=1,
        legal_name=name or "x",
        preferred_name=name or "x",
        description=circumstances,
    )
    case = incident(
        clothing=clothing, circumstances=circumstances, location_label=label, subject_name=name
    )
    for fields in DEFAULT_VISIBILITY.values():
        for budget in (1024, 4096):
            card = texts_alerts.alert_card(case, youth, HOME, fields, 14, ZONE, budget=budget)
            visible, _ = parse_html(card)  # raises like Telegram's "can't parse entities"
            assert 0 < utf16_len(visible) <= budget
    for card in (
        texts_alerts.vet_card(case, youth, Counter(), name, ZONE),
        texts_alerts.profile_card(youth, name),
    ):
        visible, _ = parse_html(card)
        assert utf16_len(visible) <= 4096


def test_user_text_is_shown_literally_never_as_markup() -> None:
    case = incident(clothing="<b>Tom & Jerry</b> <script>x</script> &amp;")
    card = texts_alerts.alert_card(case, YOUTH, HOME, frozenset(AlertField), 14, ZONE, budget=4096)
    visible, entities = parse_html(card)
    assert "<b>Tom & Jerry</b> <script>x</script> &amp;" in visible
    assert all(e["type"] == "bold" for e in entities)  # only our own labels are bold


def test_sealed_fields_never_reach_any_card() -> None:
    for fields in DEFAULT_VISIBILITY.values():
        card = texts_alerts.alert_card(incident(), YOUTH, HOME, fields, 14, ZONE, budget=4096)
        assert "SEALED" not in card


def test_responders_get_only_what_finds_the_youth() -> None:
    from bot.domain.membership import Role

    card = texts_alerts.alert_card(
        incident(circumstances="argument"),
        YOUTH,
        HOME,
        DEFAULT_VISIBILITY[Role.RESPONDER],
        14,
        ZONE,
        budget=4096,
    )
    assert "Jay" in card
    assert "Jordan" not in card
    assert "HIGH" not in card
    assert "argument" not in card


@settings(max_examples=200, deadline=None)
@given(clothing=free_text, problem=st.sampled_from(sorted(texts_forms.PROBLEMS)))
def test_form_questions_are_valid_html(clothing: str, problem: str) -> None:
    data = {
        "clothing": clothing,
        "circumstances": clothing,
        "risk_level": "high",
        "last_seen": datetime(2026, 3, 6, 14, tzinfo=UTC).isoformat(),
        "location": {"latitude": 46.49, "longitude": -80.99, "label": clothing},
    }
    for kind, step in texts_forms.PROMPTS:
        text = texts_forms.prompt(kind, step, data, problem, ZONE)
        visible, _ = parse_html(text)
        assert utf16_len(visible) <= 4096
