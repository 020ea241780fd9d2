"""Words for alerts: vetting cards, alert cards per role, retraction notes.

Cards are built from (label, value) lines whose *visible* length (what Telegram
counts, in UTF-16 units, after HTML parsing) is kept within the budget: 4,096 for
a message, 1,024 for a photo caption. Free text is escaped and, if needed,
shortened; it is never cut in the middle of an HTML entity.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain import drills
from bot.domain.incidents import Incident, IncidentStatus, Youth
from bot.domain.membership import Organisation, Role
from bot.domain.visibility import AlertField
from bot.texts import ROLE_NAMES

RISK_LABEL = {"low": "Low", "medium": "Medium", "high": "HIGH"}
ELLIPSIS = "…"


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _cut(text: str, limit: int) -> str:
    if limit <= 0:
        return ""
    if utf16_len(text) <= limit:
        return text
    out = ""
    for char in text:
        if utf16_len(out + char + ELLIPSIS) > limit:
            break
        out += char
    return out + ELLIPSIS


def compose(title: str, lines: Iterable[tuple[str, str]], *, budget: int, footer: str = "") -> str:
    """``<b>title</b>`` then ``<b>label:</b> value`` lines, within ``budget`` visible units.

    Room is always left for the DRILL marker the outbox puts in front of a drill's
    messages, so a drill card fits Telegram's limits as a real one does.
    """
    budget -= drills.MARK_LENGTH
    items = [
        (label, " ".join(str(value).split()) if "\n" not in str(value) else str(value))
        for label, value in lines
        if value not in (None, "")
    ]

    def visible(entries: list[tuple[str, str]]) -> int:
        body = "\n".join(f"{label}: {value}" for label, value in entries)
        return utf16_len(f"{title}\n{body}" + (f"\n\n{footer}" if footer else ""))

    # Shorten the longest values first until everything fits.
    while visible(items) > budget and items:
        longest = max(range(len(items)), key=lambda i: utf16_len(items[i][1]))
        label, value = items[longest]
        excess = visible(items) - budget
        new_len = max(utf16_len(value) - excess, 12)
        if new_len >= utf16_len(value):
            items.pop()  # nothing left to shorten: drop the last line
            continue
        items[longest] = (label, _cut(value, new_len))
    body = "\n".join(f"<b>{html.escape(label)}:</b> {html.escape(value)}" for label, value in items)
    text = f"<b>{html.escape(title)}</b>\n{body}"
    if footer:
        text += f"\n\n{html.escape(footer)}"
    return text


def _when(moment: datetime | None, zone: ZoneInfo) -> str:
    if moment is None:
        return "unknown"
    return moment.astimezone(zone).strftime("%a %d %b, %H:%M")


def _place(incident: Incident) -> str:
    if not incident.has_point:
        return "unknown (no usable location)"
    coords = f"{incident.latitude:.4f}, {incident.longitude:.4f}"
    return f"{incident.location_label} ({coords})" if incident.location_label else coords


def _who(incident: Incident, youth: Youth | None, *, legal: bool) -> str:
    if youth is None:
        return incident.subject_name or "unnamed youth"
    if legal and youth.legal_name != youth.preferred_name:
        return f"{youth.preferred_name} (legal name {youth.legal_name})"
    return youth.preferred_name


def vet_card(
    incident: Incident, youth: Youth | None, reach: Counter[Role], raiser: str, zone: ZoneInfo
) -> str:
    counts = ", ".join(f"{n} {ROLE_NAMES[r]}" for r, n in sorted(reach.items())) or "nobody"
    lines = [
        ("Code", incident.code),
        ("Youth", _who(incident, youth, legal=True)),
        ("Age", str(incident.subject_age) if incident.subject_age else ""),
        ("Description", incident.subject_description or (youth.description if youth else "") or ""),
        ("Last seen", f"{_when(incident.last_seen_at, zone)} at {_place(incident)}"),
        ("Clothing", incident.clothing or ""),
        ("Circumstances", incident.circumstances or ""),
        ("Risk", RISK_LABEL[incident.risk_level.value]),
        ("Police told", _police(incident)),
        ("Raised by", raiser),
        ("Reach", f"{incident.reach_radius_km or 0:g} km: {counts}"),
    ]
    title = "VETTING NEEDED: missing youth alert"
    if incident.approved_version is not None:
        title = f"VETTING NEEDED: alert changed (version {incident.version})"
    footer = "Nothing is sent until you approve. You cannot approve an alert you raised."
    if not incident.has_point:
        footer = (
            "No usable location: only the residence and organisations you add will be "
            "reached. " + footer
        )
    return compose(title, lines, budget=4096, footer=footer)


def _police(incident: Incident) -> str:
    if not incident.police_told:
        return "not yet"
    return (
        f"yes, report {incident.police_report_number}" if incident.police_report_number else "yes"
    )


def vet_photo_caption(incident: Incident) -> str:
    return f"<b>{html.escape(incident.code)}</b>: photo for vetting (do not forward)"


def vet_settled(incident: Incident, what: str, actor: str, sent: int) -> str:
    tail = f" to {sent} people" if sent else ""
    return (
        f"<b>{html.escape(incident.code)}</b>: {html.escape(what)} by {html.escape(actor)}"
        f"{tail}. Details removed from this card."
    )


def vet_superseded(incident: Incident) -> str:
    return f"<b>{html.escape(incident.code)}</b>: this card is out of date; a new one follows."


def raiser_approved(incident: Incident, sent: int) -> str:
    return (
        f"Alert <b>{html.escape(incident.code)}</b> was approved and is going to {sent} "
        "people now. Send /found as soon as the youth is back."
    )


def raiser_rejected(incident: Incident, reason: str, actor: str) -> str:
    return (
        f"Alert <b>{html.escape(incident.code)}</b> was not sent: {html.escape(reason)} "
        f"({html.escape(actor)}). Call your coordinator if the youth is still missing."
    )


def alert_card(
    incident: Incident,
    youth: Youth | None,
    residence: Organisation | None,
    fields: frozenset[AlertField],
    age: int | None,
    zone: ZoneInfo,
    *,
    budget: int,
) -> str:
    f = fields
    lines: list[tuple[str, str]] = []
    if AlertField.PREFERRED_NAME in f or AlertField.LEGAL_NAME in f:
        lines.append(("Name", _who(incident, youth, legal=AlertField.LEGAL_NAME in f)))
    if AlertField.AGE in f and age is not None:
        lines.append(("Age", str(age)))
    if AlertField.PRONOUNS in f and youth and youth.pronouns:
        lines.append(("Pronouns", youth.pronouns))
    if AlertField.DESCRIPTION in f:
        lines.append(
            (
                "Description",
                incident.subject_description or (youth.description if youth else "") or "",
            )
        )
    if AlertField.CLOTHING in f:
        lines.append(("Clothing", incident.clothing or ""))
    if AlertField.LAST_SEEN in f:
        lines.append(("Last seen", f"{_when(incident.last_seen_at, zone)} at {_place(incident)}"))
    if AlertField.CIRCUMSTANCES in f:
        lines.append(("Circumstances", incident.circumstances or ""))
    if AlertField.LANGUAGES in f and youth and youth.languages:
        lines.append(("Languages", youth.languages))
    if AlertField.INDIGENOUS in f and youth and youth.indigenous_community:
        preference = f"; {youth.service_preference}" if youth.service_preference else ""
        lines.append(("Community", youth.indigenous_community + preference))
    if AlertField.RISK_LEVEL in f:
        lines.append(("Risk", RISK_LABEL[incident.risk_level.value]))
    if AlertField.POLICE_REPORT in f:
        lines.append(("Police", _police(incident)))
    if AlertField.CONTACT in f:
        lines.append(
            (
                "Contact",
                f"reply to this bot; residence: {residence.name}"
                if residence
                else "reply to this bot",
            )
        )
    lines.append(("Code", incident.code))
    title = "MISSING YOUTH"
    if incident.approved_version is not None and incident.version > 1:
        title = "MISSING YOUTH: UPDATED"
    footer = "Confidential: do not forward, screenshot or post. Details will be withdrawn."
    return compose(title, lines, budget=budget, footer=footer)


def sensitive(incident: Incident, youth: Youth) -> str:
    places = "; ".join(f"{p.name} ({p.latitude:.4f}, {p.longitude:.4f})" for p in youth.places)
    lines = [
        ("Risk notes", youth.risk_notes or "none recorded"),
        ("Medical needs", youth.medical_needs or "none recorded"),
        ("Known associates", ", ".join(youth.associates) or "none recorded"),
        ("Places they go", places),
    ]
    return compose(
        f"SEALED DETAILS for {incident.code} (your view is recorded)",
        lines,
        budget=4096,
        footer="For your eyes only. Do not share. This message will be withdrawn.",
    )


def retracted_note(incident: Incident) -> str:
    if incident.status is IncidentStatus.REJECTED:
        return f"<b>{html.escape(incident.code)}</b>: withdrawn. Details removed."
    if incident.is_drill:
        return f"<b>{html.escape(incident.code)}</b>: drill ended. Details removed."
    return f"<b>{html.escape(incident.code)}</b>: resolved. Details removed."


def resolved_notice(incident: Incident) -> str:
    if incident.status is IncidentStatus.REJECTED:
        return (
            f"<b>Withdrawn: {html.escape(incident.code)}</b>\nA coordinator withdrew this "
            "alert. Please delete any saved copies, screenshots or notes of it now."
        )
    if incident.is_drill:
        return (
            f"<b>{html.escape(incident.code)} has ended.</b> Thank you for taking part: it was "
            "an exercise and no youth was missing. Please delete any saved copies, "
            "screenshots or notes of it now."
        )
    return (
        f"<b>Resolved: {html.escape(incident.code)}</b>\nThe youth has been found. Thank you. "
        "Please delete any saved copies, screenshots or notes of the alert now."
    )


def profile_card(youth: Youth, residence: str) -> str:
    places = "; ".join(f"{p.name} ({p.latitude:.4f}, {p.longitude:.4f})" for p in youth.places)
    lines = [
        ("Legal name", youth.legal_name),
        ("Goes by", youth.preferred_name),
        ("Pronouns", youth.pronouns or ""),
        ("Born", youth.date_of_birth.isoformat() if youth.date_of_birth else ""),
        ("Residence", residence),
        ("Description", youth.description or ""),
        ("Languages", youth.languages or ""),
        ("Community", youth.indigenous_community or ""),
        ("Approach", youth.service_preference or ""),
        ("Medical needs", youth.medical_needs or ""),
        ("Places they go", places),
        ("Known associates", ", ".join(youth.associates)),
        ("Risk notes", youth.risk_notes or ""),
    ]
    return compose(
        "SEALED PROFILE (this view is recorded)",
        lines,
        budget=4096,
        footer="Confidential. Do not forward or screenshot.",
    )


def vet_escalation(incident: Incident, minutes: int) -> str:
    return (
        f"<b>{html.escape(incident.code)}</b> has waited {minutes} minutes for vetting. "
        "Nobody has approved or rejected it yet: please look at the card below now."
    )


def pin_title(incident: Incident) -> str:
    """A map pin's title (plain text, no name: the card beside it says who; a drill's
    pin gets the outbox's DRILL marker like every drill message)."""
    return f"Last seen · {incident.code}"
