"""Follow-ups of an alert: the police report number, and what reminders may name.

Pure: validation and the little a reminder says about the youth (the first name the
alert card already shows, and the incident code).
"""

from __future__ import annotations

import re

from bot.domain.errors import InvalidInput
from bot.domain.incidents import Incident, Youth

REPORT_NUMBER_MAX = 40
_REPORT_NUMBER = re.compile(r"^[A-Za-z0-9 #/-]+$")


def clean_report_number(text: str) -> str:
    """A police report (occurrence) number: 1-40 letters, digits, spaces, - # or /."""
    number = " ".join(text.split())
    if not number:
        raise InvalidInput("write the report number after the alert code")
    if len(number) > REPORT_NUMBER_MAX:
        raise InvalidInput(f"a report number has at most {REPORT_NUMBER_MAX} characters")
    if not _REPORT_NUMBER.match(number) or not any(c.isalnum() for c in number):
        raise InvalidInput("a report number has only letters, digits, spaces, - # and /")
    return number


def first_name(incident: Incident, youth: Youth | None) -> str:
    """The first word of the name the alert card shows (preferred name, never the legal one)."""
    name = youth.preferred_name if youth is not None else (incident.subject_name or "")
    words = name.split()
    return words[0] if words else "the youth"
