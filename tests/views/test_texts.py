"""The list and the page: valid Telegram HTML within 4,096 characters whatever people typed,
updates shown with time, poster and whether it is a confirmed sighting, drills marked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot import texts_incidents as t
from bot.domain.incidents import Incident, IncidentStatus, RiskLevel, normalise_code
from bot.domain.membership import Role
from bot.domain.tasks import Task, TaskStatus
from bot.emulator.html import parse_html, utf16_len

ZONE = ZoneInfo("America/Toronto")
NOW = datetime(2026, 3, 6, 20, 0, tzinfo=UTC)
free_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=600)


def incident(**overrides: object) -> Incident:
    values: dict[str, object] = {
        "id": 7,
        "code": "HW-ABCDE",
        "status": IncidentStatus.ACTIVE,
        "raised_by": 1,
        "residence_org_id": 1,
        "youth_id": 1,
        "created_at": NOW - timedelta(hours=2, minutes=5),
        "version": 1,
        "content_hash": "x",
        "last_seen_at": datetime(2026, 3, 6, 17, 30, tzinfo=UTC),
        "latitude": 46.4917,
        "longitude": -80.993,
        "location_label": "100 Elm Street",
        "risk_level": RiskLevel.HIGH,
        "police_told": True,
        "police_report_number": "2026-1",
    }
    values.update(overrides)
    return Incident(**values)  # type: ignore[arg-type]


def task(n: int, title: str, status: TaskStatus, holder: int | None = None) -> Task:
    return Task(
        id=n, incident_id=7, title=title, status=status, created_at=NOW, holder_member_id=holder
    )


def visible_text(html: str) -> str:
    text, _ = parse_html(html)  # raises on anything Telegram would refuse
    return text


def test_update_lines_show_time_poster_role_text_and_sightings() -> None:
    update = t.UpdateLine(
        at=datetime(2026, 3, 6, 19, 5, tzinfo=UTC),
        poster_name="Pat <Police>",
        poster_role=Role.POLICE,
        text="Seen at the <b>bus</b> terminal & heading north",
        confirmed_sighting=True,
    )
    line = t.update_line(update, ZONE)
    assert line == (
        "Fri 06 Mar, 14:05, Pat &lt;Police&gt; (police officer): <b>CONFIRMED SIGHTING</b> "
        "Seen at the &lt;b&gt;bus&lt;/b&gt; terminal &amp; heading north"
    )
    plain = t.update_line(t.UpdateLine(update.at, "Rita", Role.RESPONDER, "Not at the mall"), ZONE)
    assert "CONFIRMED" not in plain
    assert plain.endswith("Rita (responder): Not at the mall")
    page = t.page(_page(updates=[update]), NOW, ZONE)
    assert "<b>Latest updates</b>\n" + line in page
    assert "None yet." not in page


def _page(**overrides: object) -> t.Page:
    values: dict[str, object] = {
        "incident": incident(),
        "name": "Jay",
        "age": 14,
        "risk": True,
        "last_seen": True,
        "police": True,
        "tasks": [
            task(1, "Call the phone", TaskStatus.OPEN),
            task(2, "Mall", TaskStatus.CLAIMED, 5),
        ],
        "holders": {5: "Rita"},
        "seen": ["Pat"],
        "can_help": [],
        "not_yet": None,
        "updates": [],
    }
    values.update(overrides)
    return t.Page(**values)  # type: ignore[arg-type]


def test_a_page_leaves_out_what_the_role_may_not_see_and_marks_drills() -> None:
    full = visible_text(t.page(_page(), NOW, ZONE))
    assert "Risk: HIGH" in full
    assert "Youth: Jay, 14" in full
    assert "Last seen: Fri 06 Mar, 12:30 at 100 Elm Street (46.49170, -80.99300)" in full
    assert "Police: told, report 2026-1" in full
    assert "Raised: 2 h ago" in full
    assert "Tasks (1 open, 1 taken, 0 done)" in full
    assert "#2 Mall: taken by Rita" in full
    assert "Seen: Pat\nCan help: nobody" in full
    assert "Not yet" not in full
    assert "Latest updates\nNone yet." in full
    bare = visible_text(
        t.page(
            _page(name=None, age=None, risk=False, last_seen=False, police=False, seen=None),
            NOW,
            ZONE,
        )
    )
    for hidden in ("Risk", "Jay", "Elm", "46.49", "Police", "2026-1", "Seen:"):
        assert hidden not in bare, hidden
    assert "Not sent to anyone yet." in bare
    drill = t.page(_page(incident=incident(is_drill=True)), NOW, ZONE)
    assert drill.startswith("<b>Incident HW-ABCDE</b>")  # the outbox adds the DRILL marker
    entry = t.ListEntry(incident(is_drill=True), True, [])
    assert "DRILL · <b>HW-ABCDE</b> · active · risk HIGH" in t.listing([entry], NOW, total=1)


@settings(max_examples=150, deadline=None)
@given(name=free_text, label=free_text, title=free_text, update=free_text, report=free_text)
def test_pages_and_lists_parse_and_fit_whatever_was_typed(
    name: str, label: str, title: str, update: str, report: str
) -> None:
    people = [f"{name[:80]} {i}" for i in range(40)]
    big = _page(
        incident=incident(location_label=label, police_report_number=report, is_drill=True),
        name=f"{name} (legal name {name})",
        tasks=[task(10_000 + i, title or "x", TaskStatus.CLAIMED, i) for i in range(30)],
        holders=dict.fromkeys(range(30), name or "x"),
        seen=people,
        can_help=people,
        not_yet=people,
        updates=[
            t.UpdateLine(NOW, name or "x", Role.CHILD_PROTECTION, update or "x", True)
            for _ in range(t.UPDATES_SHOWN)
        ],
    )
    text = visible_text(t.page(big, NOW, ZONE))
    assert utf16_len(text) <= 4096
    entries = [
        t.ListEntry(incident(code=f"HW-{i:05d}", is_drill=True), True, [])
        for i in range(t.LIST_SHOWN)
    ]
    listed = visible_text(t.listing(entries, NOW, total=99))
    assert utf16_len(listed) <= 4096
    assert "Showing the 15 newest of 99." in listed


def test_ages_codes_and_the_answer_that_reveals_nothing() -> None:
    assert [t.ago(NOW - timedelta(seconds=s), NOW) for s in (5, 300, 7500, 3 * 86400)] == [
        "just now",
        "5 min ago",
        "2 h ago",
        "3 days ago",
    ]
    assert [normalise_code(c) for c in (" hw-abcde ", "ABCDE", "HW-ABCDE")] == ["HW-ABCDE"] * 3
    assert t.not_visible("HW-<b>") == "No open incident HW-&lt;b&gt; that you can see."
    assert len(t.not_visible("HW-" + "X" * 500)) < 60
