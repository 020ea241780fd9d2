"""Questions and explanations for the guided conversations (forms)."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot import texts_updates
from bot.domain.incidents import RISK_QUESTIONS

PROMPTS: dict[tuple[str, str], str] = {
    # /missing
    ("alert.raise", "youth"): "Who is missing? Pick them from your residence's list.",
    ("alert.raise", "subject_name"): "What is their name (the name they go by)?",
    ("alert.raise", "subject_age"): "How old are they? (a number)",
    ("alert.raise", "subject_description"): (
        "Describe them so a stranger could recognise them: height, build, hair, skin, "
        "glasses, marks."
    ),
    ("alert.raise", "last_seen"): (
        "When were they last seen? Pick one, or type a time like 14:30 (or 2026-03-05 14:30)."
    ),
    ("alert.raise", "location"): (
        "Where were they last seen? Share a location with the 📎 button (Location), type an "
        "address, or pick an option below."
    ),
    ("alert.raise", "location_confirm"): "I found this place. Is it right?",
    ("alert.raise", "clothing"): 'What were they wearing? (type "unknown" if you don\'t know)',
    ("alert.raise", "circumstances"): (
        "What happened? How did they leave, with whom, anything they said. Keep it short."
    ),
    ("alert.raise", "photo"): (
        "Send a recent photo if you have a newer one than the profile's, or press Skip."
    ),
    ("alert.raise", "risk_exploitation"): (
        "Is there any known or suspected risk of sexual exploitation or trafficking?"
    ),
    ("alert.raise", "risk_danger"): (
        "Are they in immediate danger (threats, self-harm, weather, drugs or alcohol)?"
    ),
    ("alert.raise", "risk_health"): "Do they need medication or care that can't wait?",
    ("alert.raise", "risk_out_of_character"): "Is going missing out of character for them?",
    ("alert.raise", "police_told"): "Have the police been told?",
    ("alert.raise", "police_report"): "What is the police report (occurrence) number?",
    ("alert.raise", "review"): "",
    # /addyouth
    ("youth.add", "residence"): "Which residence is the youth in?",
    ("youth.add", "legal_name"): "Their legal name:",
    ("youth.add", "preferred_name"): "The name they go by:",
    ("youth.add", "pronouns"): "Pronouns (or Skip):",
    ("youth.add", "date_of_birth"): "Date of birth, like 2011-04-23 (or Skip):",
    ("youth.add", "photo"): "A recent photo (or Skip):",
    ("youth.add", "description"): (
        "How would a stranger recognise them? Height, build, hair, marks (or Skip):"
    ),
    ("youth.add", "languages"): "Languages they speak (or Skip):",
    ("youth.add", "indigenous_community"): (
        "Indigenous community, if they have shared one (or Skip):"
    ),
    ("youth.add", "service_preference"): (
        "Any preference for who should approach them (e.g. an Indigenous liaison worker)?"
    ),
    ("youth.add", "medical_needs"): "Medical needs (never broadcast; or Skip):",
    ("youth.add", "place_1"): (
        "A place they are known to go: share its location with 📎, type its address, or Skip."
    ),
    ("youth.add", "place_1_name"): "What should that place be called?",
    ("youth.add", "place_2"): "Another place (or Skip):",
    ("youth.add", "place_2_name"): "What should that place be called?",
    ("youth.add", "associates"): (
        "Known associates, separated by commas (never broadcast; or Skip):"
    ),
    ("youth.add", "risk_notes"): "Risk notes (sealed: never broadcast; or Skip):",
    ("youth.add", "review"): "Save this profile?",
    # /moveyouth
    ("youth.move", "youth"): "Whose profile moves?",
    ("youth.move", "residence"): "To which residence?",
    # /found
    ("alert.found", "incident"): "Which alert is resolved?",
    ("alert.found", "outcome"): "Where is the youth now?",
    ("alert.found", "confirm"): (
        "Close the alert? Every copy sent will be deleted where Telegram allows, or replaced "
        "with a short note, and everyone who received it will be told."
    ),
    # /edit
    ("alert.edit", "incident"): "Which alert do you want to change?",
    ("alert.edit", "field"): (
        "What changed? (The change goes to a coordinator first; it is not sent until approved.)"
    ),
    ("alert.edit", "clothing"): "What are they wearing now?",
    ("alert.edit", "circumstances"): "The circumstances, updated:",
    ("alert.edit", "location"): "Where were they last seen? Share a location or type an address.",
    ("alert.edit", "location_confirm"): "I found this place. Is it right?",
    ("alert.edit", "last_seen"): "When were they last seen?",
    ("alert.edit", "photo"): "Send the new photo:",
    # /update
    ("update.post", "incident"): "Which alert is your update about?",
    ("update.post", "text"): (
        "What did you see or learn? A few lines: where, when, who with, how they looked."
    ),
    ("update.post", "location"): (
        "Where was it? Share a location with the 📎 button (Location), type an address, "
        "or press Skip."
    ),
    ("update.post", "location_confirm"): "I found this place. Is it right?",
    ("update.post", "photo"): (
        "A photo, if you have one, or press Skip. Only roles that receive alert photos see it."
    ),
}

PROBLEMS: dict[str, str] = {
    "not_a_command": "That looks like a command. Please answer the question, or press Cancel.",
    "text_length": "Please type a short answer (plain text).",
    "list_shape": "Please type names separated by commas (each under 80 characters).",
    "number": "Please type a number.",
    "number_range": "That number is out of range.",
    "date_format": "I couldn't read that date. Please type it like 2011-04-23.",
    "date_range": "That date can't be right (it is in the future or too long ago).",
    "when_format": "I couldn't read that time. Type it like 14:30, or pick one of the buttons.",
    "when_future": "That time is in the future.",
    "when_too_old": "That is more than 30 days ago. Please check the date.",
    "yes_no": "Please press Yes or No.",
    "choice": "Please pick one of the buttons.",
    "photo_expected": "Please send a photo, or press Skip.",
    "photo_unexpected": "Thanks, but I wasn't asking for a photo just now.",
    "location_expected": "Please share a location with the 📎 button, or type an address.",
    "location_unexpected": "Thanks, but I wasn't asking for a location just now.",
    "location_invalid": "That location isn't valid. Please share it again.",
    "address_shape": "Please type an address (3 to 200 characters), or share a location.",
    "address_not_found": (
        "I couldn't find that address. Try adding the town, share a location with 📎, "
        "or pick an option below."
    ),
    "geocoder_down": (
        "I can't look addresses up right now. Please share a location with the 📎 button, "
        "or pick an option below. Nothing has been lost."
    ),
}

RISK_WORDS = {"low": "Low", "medium": "Medium", "high": "HIGH"}
CANCELLED = "Cancelled. Nothing was saved or sent."
NO_FORM = "There is nothing to cancel."


def prompt(kind: str, step: str, data: dict[str, Any], problem: str | None, zone: ZoneInfo) -> str:
    question = PROMPTS.get((kind, step), "Please answer:")
    if step == "review" and kind == "alert.raise":
        question = alert_review(data, zone)
    if step == "review" and kind == "update.post":
        question = texts_updates.review(data)
    if step == "location_confirm":
        place = data.get("location") or {}
        if place.get("latitude") is not None:
            label = html.escape(str(place.get("label") or ""))
            coords = f"{place['latitude']:.4f}, {place['longitude']:.4f}"
            question = f"{question}\n<b>{label}</b> ({coords})"
    if problem:
        return f"{html.escape(PROBLEMS.get(problem, 'Please try again.'))}\n\n{question}"
    return question


def _when(value: str | None, zone: ZoneInfo) -> str:
    if not value:
        return "unknown"
    return datetime.fromisoformat(value).astimezone(zone).strftime("%a %d %b, %H:%M")


def alert_review(data: dict[str, Any], zone: ZoneInfo) -> str:
    place = data.get("location") or {}
    where = place.get("label") or (
        f"{place['latitude']:.4f}, {place['longitude']:.4f}"
        if place.get("latitude") is not None
        else "unknown"
    )
    yes = [q for q in RISK_QUESTIONS if data.get(q)]
    lines = [
        "<b>Check before sending</b>",
        f"Last seen: {_when(data.get('last_seen'), zone)} at {html.escape(str(where))}",
        f"Clothing: {html.escape(str(data.get('clothing') or ''))}",
        f"Circumstances: {html.escape(str(data.get('circumstances') or ''))}",
        f"Risk: <b>{RISK_WORDS.get(str(data.get('risk_level')), '?')}</b> "
        f"({len(yes)} of {len(RISK_QUESTIONS)} risk questions answered yes; a coordinator "
        "can change it)",
        "Police told: " + ("yes" if data.get("police_told") else "not yet"),
        "",
        "It goes to a coordinator to vet; nothing is sent to responders until they approve.",
    ]
    return "\n".join(lines)
