"""Words for incident updates and confirmed sightings. Everything a person typed is escaped
(:func:`bot.texts_alerts.compose` escapes every value; the rest goes through ``esc``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.incidents import Incident
from bot.domain.membership import Role
from bot.domain.updates import TEXT_MAX, IncidentUpdate
from bot.texts import ROLE_NAMES, esc
from bot.texts_alerts import compose

CONFIRM = "Confirm sighting"
CONFIDENTIAL = "Confidential: do not forward, screenshot or post. It will be withdrawn."
USAGE = (
    "Send /update HW-XXXXX to post an update to an alert, or reply to the alert message "
    "with what you saw: text, a location (📎 Location) or a photo."
)


def _when(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%a %d %b, %H:%M")


def _title(incident: Incident, title: str) -> str:
    return f"DRILL: {title}" if incident.is_drill else title


def place(update: IncidentUpdate) -> str:
    if not update.has_point:
        return ""
    coords = f"{update.latitude:.5f}, {update.longitude:.5f}"
    where = f"{update.location_label} ({coords})" if update.location_label else coords
    return f"{where}, map below"


def venue_title(incident: Incident, update: IncidentUpdate, *, sighting: bool) -> str:
    if sighting:
        return f"Sighting on {incident.code}"
    return f"Update #{update.id} on {incident.code}"


def update_card(
    incident: Incident,
    update: IncidentUpdate,
    poster: str,
    role: Role,
    zone: ZoneInfo,
    *,
    budget: int,
    photo_withheld: bool = False,
    may_confirm: bool = False,
    show_place: bool = True,
) -> str:
    lines = [
        ("From", f"{poster} ({ROLE_NAMES[role]})"),
        ("At", _when(update.created_at, zone)),
        ("Update", update.text or ""),
        ("Place", place(update) if show_place else ""),
        ("Photo", "one was attached; your role does not receive photos" if photo_withheld else ""),
    ]
    footer = CONFIDENTIAL
    if may_confirm:
        footer = (
            "If this is the youth, confirm it as a sighting: the alert's last-seen point "
            "moves here and the people near it are told. " + CONFIDENTIAL
        )
    title = _title(incident, f"UPDATE #{update.id} on {incident.code}")
    return compose(title, lines, budget=budget, footer=footer)


def sighting_card(
    incident: Incident,
    update: IncidentUpdate,
    poster: str,
    poster_role: Role,
    confirmer: str,
    zone: ZoneInfo,
    at: datetime,
    *,
    show_place: bool = True,
) -> str:
    lines = [
        ("Seen", _when(update.created_at, zone)),
        ("Place", place(update) if show_place else ""),
        ("Reported by", f"{poster} ({ROLE_NAMES[poster_role]}), update #{update.id}"),
        ("Update", update.text or ""),
        ("Confirmed by", f"{confirmer} at {_when(at, zone)}"),
    ]
    footer = "This is now the alert's last-seen point. " + CONFIDENTIAL
    title = _title(incident, f"CONFIRMED SIGHTING: {incident.code}")
    return compose(title, lines, budget=4096, footer=footer)


def review(data: dict[str, Any]) -> str:
    """The last question of /update: what will be posted."""
    where = data.get("location") or {}
    if where.get("latitude") is not None:
        coords = f"{where['latitude']:.5f}, {where['longitude']:.5f}"
        label = where.get("label")
        spot = f"{esc(label)} ({coords})" if label else coords
    else:
        spot = "none"
    return "\n".join(
        [
            "<b>Check before posting</b>",
            f"Update: {esc(data.get('text') or '')}",
            f"Place: {spot}",
            "Photo: " + ("yes" if data.get("photo") else "none"),
            "",
            "It goes to the alert's coordinators, the task holders and the members who "
            "cover that place.",
        ]
    )


# What the poster hears -------------------------------------------------------------------


def posted(code: str, update_id: int, recipients: int) -> str:
    if recipients == 0:
        return (
            f"Update #{update_id} is recorded on <b>{esc(code)}</b>. Nobody else needs it "
            "right now: no coordinator, task holder or member covers that place."
        )
    people = "person" if recipients == 1 else "people"
    return (
        f"Update #{update_id} is posted to <b>{esc(code)}</b> and is going to {recipients} "
        f"{people}: the alert's coordinators, the task holders and the members who cover "
        "that place. Thank you."
    )


def refused(reason: str, code: str | None, named: str | None) -> str:
    c = f"<b>{esc(code)}</b>" if code else "that alert"
    n = f"<b>{esc(named)}</b>" if named else "another alert"
    texts = {
        "unknown": (
            f"There is no active alert {c} that you are taking part in. Nothing was posted. "
            "Check the code on the alert message."
        ),
        # The same words as "unknown": an outsider learns nothing about which codes exist.
        "not_taking_part": (
            f"There is no active alert {c} that you are taking part in. Nothing was posted. "
            "Check the code on the alert message."
        ),
        "wrong_incident": (
            f"This is about {c}, but your update names {n}. Nothing was posted. To post to "
            f"{n}, send /update {esc(named or 'HW-XXXXX')} or reply to its own alert message."
        ),
        "closed": f"{c} is closed, so it takes no more updates. Nothing was posted.",
        "pending": (
            f"{c} is waiting for a coordinator's approval, so it can't take updates yet. "
            "Nothing was posted. Use /edit to change the alert itself."
        ),
        "empty": "There was nothing to post. " + USAGE,
        "text_shape": (
            f"Please keep an update to plain text under {TEXT_MAX} characters. Nothing was posted."
        ),
        "none": (
            "You are not taking part in any active alert right now, so there is nothing to update."
        ),
    }
    return texts.get(reason, "I couldn't post that update. Nothing was posted.")


# What the coordinator who pressed "Confirm sighting" hears (a toast: under 200 characters)


def confirmed_toast(code: str, notified: int, newly_alerted: int) -> str:
    more = f" The alert now also reaches {newly_alerted} more." if newly_alerted else ""
    return f"Confirmed. {code} now shows this as last seen; {notified} told.{more}"


def already_toast(name: str | None) -> str:
    return f"Already confirmed by {name or 'another coordinator'}. Nothing was changed."


def closed_toast(code: str) -> str:
    return f"{code} is closed. Nothing was changed."


def older_toast(code: str) -> str:
    return f"{code} already has a more recent last-seen time. Nothing was changed."
