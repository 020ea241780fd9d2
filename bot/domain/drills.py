"""Drills: the real alert flow with a fictional youth, so staff can practise for real.

Three rules make a drill safe to run on a live deployment:

* every message about a drill incident starts with the DRILL marker (:func:`marked`,
  applied where every message is written: the outbox), so nobody mistakes it for a
  real child;
* the fictional youth (:func:`fictional_youth`) is flagged ``is_drill`` and never
  listed with real profiles, and carries an obviously made-up name;
* drills never count towards statistics (:func:`counts_towards_statistics`), and
  their timeline events carry ``{"drill": true}``.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date
from typing import Any

from bot.domain.incidents import Incident, Place
from bot.domain.outgoing import Outgoing

# What every drill message starts with, as sent (HTML) and as people see it.
MARK_HTML = "<b>DRILL</b> — "
MARK_PLAIN = "DRILL — "
# Telegram counts UTF-16 units; the marker is plain ASCII plus one em dash (1 unit).
MARK_LENGTH = len(MARK_PLAIN)

# Which parameter holds the words people read, per Bot API method.
_TEXT_PARAM = {
    "sendMessage": "text",
    "editMessageText": "text",
    "sendPhoto": "caption",
    "editMessageCaption": "caption",
    "editMessageMedia": "caption",
    "sendVenue": "title",  # plain text; a bare location has no words to mark
}

FIRST_NAMES = ("Sam", "Robin", "Casey", "Jamie", "Riley", "Quinn", "Morgan", "Avery")
DRILL_AGE = 14


def is_marked(text: str) -> bool:
    return text.startswith((MARK_HTML, MARK_PLAIN))


def mark(text: str, *, html: bool = True) -> str:
    """``text`` with the DRILL marker in front (once, however often it is applied)."""
    if is_marked(text):
        return text
    return (MARK_HTML if html else MARK_PLAIN) + text


def marked(message: Outgoing) -> Outgoing:
    """The same message with the DRILL marker in front of whatever people will read."""
    key = _TEXT_PARAM.get(message.method)
    if key is None or not isinstance(message.params.get(key), str):
        return message
    html = message.params.get("parse_mode") == "HTML"
    params: dict[str, Any] = {**message.params, key: mark(message.params[key], html=html)}
    return replace(message, params=params)


def counts_towards_statistics(incident: Incident) -> bool:
    """Whether an incident belongs in any count, report or figure: drills never do."""
    return not incident.is_drill


def fictional_name(seed: str) -> str:
    """A name nobody could take for a real child's: "Drill Youth Robin"."""
    digest = hashlib.sha256(seed.encode()).digest()
    return f"Drill Youth {FIRST_NAMES[digest[0] % len(FIRST_NAMES)]}"


def _birthday(today: date) -> date:
    try:
        return today.replace(year=today.year - DRILL_AGE)
    except ValueError:  # 29 February
        return today.replace(year=today.year - DRILL_AGE, day=28)


def fictional_youth(*, seed: str, today: date, near: tuple[float, float] | None) -> dict[str, Any]:
    """The fields of a fictional youth profile for a drill (no photo, nothing real).

    Places are invented points about a kilometre from the residence, so the drill's
    place-check tasks send people somewhere plausible; each is labelled as a drill place.
    """
    name = fictional_name(seed)
    places: list[Place] = []
    if near is not None:
        lat, lon = near
        places = [
            Place("Drill place: the park north of the residence", lat + 0.009, lon),
            Place("Drill place: the plaza east of the residence", lat, lon + 0.013),
        ]
    return {
        "legal_name": f"{name} (fictional)",
        "preferred_name": name,
        "pronouns": "they/them",
        "date_of_birth": _birthday(today),
        "photo_file_id": None,
        "description": "FICTIONAL, for a drill: 5 ft 4, medium build, dark curly hair",
        "languages": "English",
        "medical_needs": "None (fictional drill profile)",
        "places": places,
        "associates": ["Drill associate (fictional)"],
        "risk_notes": "Fictional drill profile: practise asking for sealed details.",
    }


DRILL_REPORT = {
    "clothing": "DRILL: grey hoodie, blue jeans, black backpack (fictional)",
    "circumstances": (
        "DRILL, a fictional exercise: did not come back from school; no youth is actually missing."
    ),
}
# The risk questionnaire as if staff answered it: out of character only, so medium.
DRILL_RISK_ANSWERS = {
    "risk_exploitation": False,
    "risk_danger": False,
    "risk_health": False,
    "risk_out_of_character": True,
}
