"""Words for drills. Messages about a drill incident get the DRILL marker from the outbox
(:func:`bot.domain.drills.marked`), so these texts do not repeat it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.drills import mark
from bot.texts import esc

USAGE = "Send /drill to start a drill, or /drill end HW-XXXXX to end one early."
PICK_RESIDENCE = (
    "<b>Drill</b>: which residence is it for? A fictional youth will be reported missing "
    "from there through the real alert flow."
)
NO_RESIDENCE = (
    "There is no residence to run a drill for yet. An administrator can add one with /neworg."
)
NO_VETTER = (
    "A drill needs someone else to approve it, as a real alert does, and there is no other "
    "active coordinator or administrator. Nothing was started."
)
NOT_STARTED = "No drill started."
NOTHING_TO_END = "There is no drill running that you can end."
START = "Start the drill"
NOT_NOW = "Not now"
END_NOW = "End the drill now"


def confirm(residence: str, has_point: bool, minutes: int) -> str:
    reach = (
        "Everyone in the area will get DRILL messages."
        if has_point
        else "The residence has no location, so only its staff (and any organisation the "
        "approving coordinator adds) will get DRILL messages."
    )
    return (
        f"Start a <b>DRILL</b> for <b>{esc(residence)}</b>? {reach}\n\n"
        "A fictional youth is reported missing through the real alert flow, every message "
        "marked DRILL. You raise it, so another coordinator must approve it, as with a real "
        f"alert. It ends by itself after {minutes} minutes; /drill end ends it sooner."
    )


def started(code: str, youth: str, residence: str, ends_at: datetime, zone: ZoneInfo) -> str:
    return (
        f"<b>{esc(code)}</b> started for {esc(residence)} with the fictional youth "
        f"{esc(youth)}. It is with another coordinator to approve, as a real alert would "
        f"be. It ends by itself at {ends_at.astimezone(zone):%H:%M}; /drill end {esc(code)} "
        "ends it sooner."
    )


def already_running(code: str, residence: str) -> str:
    return (
        f"A drill is already running for {esc(residence)}: <b>{esc(code)}</b>. "
        f"End it first with /drill end {esc(code)}."
    )


def which_to_end(codes: list[str]) -> str:
    # About several drills at once (no one incident to mark it by), so marked here.
    return mark(
        "More than one drill is running. Which one? "
        + ", ".join(f"/drill end {esc(c)}" for c in codes)
    )


def ending(code: str, deleted: int, edited: int, notified: int) -> str:
    return (
        f"<b>{esc(code)}</b> is ending. Pulling its messages back: {deleted} deleted, "
        f"{edited} replaced with a note; {notified} people are being thanked."
    )


HOW = {
    "ended": "ended by {by}",
    "timer": "ran its full time",
    "found": "closed with /found by {by}",
    "rejected": "rejected at vetting by {by}",
}


def summary(
    code: str,
    how: str,
    by: str | None,
    *,
    reached: int,
    seen: int,
    can_help: int,
    tasks_done: int,
    tasks: int,
) -> str:
    said = HOW.get(how, "ended").format(by=esc(by or "someone"))
    return (
        f"<b>{esc(code)}</b> is over ({said}). Thank you.\n"
        f"Reached {reached} people; {seen} pressed Seen and {can_help} I can help; "
        f"{tasks_done} of {tasks} tasks done.\n"
        "Its fictional profile is removed, its open tasks and timers are cancelled, and "
        "its events stay in the timeline, marked as a drill."
    )
