"""Every user-facing sentence, in one place (English). HTML-escaped at the edges.

Functions take plain values and return Telegram-HTML text; anything that came
from a person (names, organisation names) goes through :func:`esc`.
"""

from __future__ import annotations

import html

from bot.domain.membership import Member, Organisation, OrgKind, Role, ServiceArea

GENERIC = (
    "Homeward is a private service for authorised care and response staff.\n"
    "If you were given an invite link, open it again. If you have just registered, "
    "a coordinator will let you in soon."
)

ROLE_NAMES: dict[Role, str] = {
    Role.RESIDENCE_STAFF: "residence staff",
    Role.RESPONDER: "responder",
    Role.POLICE: "police officer",
    Role.CHILD_PROTECTION: "child-protection worker",
    Role.COORDINATOR: "coordinator",
    Role.ADMIN: "administrator",
}

ORG_KIND_NAMES: dict[OrgKind, str] = {
    OrgKind.RESIDENCE: "residence",
    OrgKind.INTERVENTION_TEAM: "intervention team",
    OrgKind.POLICE_SERVICE: "police service",
    OrgKind.CHILD_PROTECTION_AGENCY: "child-protection agency",
    OrgKind.COMMUNITY_AGENCY: "community / Indigenous agency",
}

ERRORS: dict[str, str] = {
    "not_allowed": "Sorry, your role can't do that.",
    "not_found": "I couldn't find that. It may have been removed.",
    "invalid_input": "I couldn't read that.",
    "stale": "That has already been dealt with.",
    "invite_refused": GENERIC,
    "locked_out": GENERIC,
    "illegal_transition": "That isn't possible from its current state.",
    "error": "Something went wrong on our side. Nothing was changed; please try again.",
}

PRIVATE_ONLY = (
    "I only work in a private chat, so that nobody's details are shown in a group. "
    "Please message me directly."
)
UNKNOWN_COMMAND = "I didn't understand that. Send /help to see what you can do."
BUTTON_GONE = "This button is no longer active. Nothing was changed."
BUTTON_NOT_YOURS = "This button isn't for you. Nothing was changed."


def esc(value: object) -> str:
    return html.escape(str(value), quote=False)


def role_name(role: Role) -> str:
    return ROLE_NAMES[role]


def describe_area(area: ServiceArea) -> str:
    parts: list[str] = []
    if area.names:
        return "; ".join(esc(n) for n in area.names)
    if area.has_point:
        parts.append(f"within {area.radius_km:g} km of {area.latitude:.4f}, {area.longitude:.4f}")
    parts.extend(esc(n) for n in area.names)
    return "; ".join(parts) if parts else "not set"


def org_label(org: Organisation | None) -> str:
    if org is None:
        return "no organisation"
    return f"{esc(org.name)} ({ORG_KIND_NAMES[org.kind]})"


def whoami(member: Member, org: Organisation | None) -> str:
    return (
        f"<b>{esc(member.name)}</b>\n"
        f"Role: {role_name(member.role)}\n"
        f"Organisation: {org_label(org)}\n"
        f"Service area: {describe_area(member.area)}"
    )


# Registration ------------------------------------------------------------------------------


def reg_welcome(role: Role, org: Organisation | None) -> str:
    return (
        f"Welcome to Homeward. You've been invited to join as <b>{role_name(role)}</b> "
        f"with {org_label(org)}.\n\n"
        "What name should coordinators see? Please type your full name as your agency knows you.\n"
        "(Send /cancel at any time to stop.)"
    )


REG_NAME_INVALID = "Please type your name as plain text, between 2 and 80 characters."


def reg_confirm_org(org: Organisation | None) -> str:
    return f"You're joining {org_label(org)}. Is that right?"


REG_CONFIRM_ORG_PROMPT = "Please press Yes or No under the question above."
REG_WRONG_ORG = (
    "Thanks for checking. I've cancelled this registration; please ask the person who invited "
    "you for a new link with the right organisation."
)
REG_AREA = (
    "Where do you work? Share a location with the 📎 button (Location) and then choose a radius"
    ", or pick one of the named areas below."
)
REG_AREA_NAMED_ONLY_HINT = "You can also type the name of an area."
REG_AREA_INVALID = (
    "I need a location to know which alerts reach you. Please share a location with the 📎 "
    "button, or pick a named area below."
)


def reg_radius(radius_choices: tuple[float, ...], max_km: float) -> str:
    return (
        "Got it. How far from there do you cover? Pick a radius, or type a number of "
        f"kilometres (up to {max_km:g})."
    )


def reg_radius_invalid(max_km: float) -> str:
    return f"Please pick a radius below, or type a number of kilometres between 1 and {max_km:g}."


REG_DONE = (
    "Thank you. Your registration is with a coordinator now. I'll message you as soon as "
    "they approve it; until then I can't show you anything."
)
REG_CANCELLED = "Registration cancelled. Nothing was kept except a note that it was cancelled."
ALREADY_MEMBER = "You're already a member. Send /help to see what you can do."


def vet_card(member: Member, org: Organisation | None, inviter: Member | None) -> str:
    invited = f"\nInvited by: {esc(inviter.name)}" if inviter else ""
    return (
        "<b>New member waiting for approval</b>\n"
        f"Name: {esc(member.name)}\n"
        f"Role: {role_name(member.role)}\n"
        f"Organisation: {org_label(org)}\n"
        f"Area: {describe_area(member.area)}"
        f"{invited}\n\n"
        "Check that you know this person before approving."
    )


def vet_card_decided(member: Member, decision: str, by: Member) -> str:
    return (
        f"<b>Registration {decision}</b>\n"
        f"{esc(member.name)} ({role_name(member.role)}): {decision} by {esc(by.name)}."
    )


def approved_welcome(member: Member) -> str:
    return (
        f"You're in. Welcome to Homeward, {esc(member.name)}. "
        f"You're registered as {role_name(member.role)}.\n"
        "Send /help to see what you can do."
    )


REJECTED_NOTICE = (
    "A coordinator could not approve your registration. If you think this is a mistake, "
    "please speak to the person who invited you."
)
SUSPENDED_NOTICE = "A coordinator has paused your Homeward access. Please speak to them."
REINSTATED_NOTICE = "Your Homeward access is back. Send /help to see what you can do."
REMOVED_NOTICE = "Your Homeward membership has ended. Thank you for your help."


# Invites -----------------------------------------------------------------------------------

INVITE_PICK_ROLE = "Who are you inviting? Pick their role."


def invite_pick_org(role: Role) -> str:
    return f"Which organisation is the new {role_name(role)} with?"


def invite_no_org(role: Role) -> str:
    return (
        f"There's no organisation yet that a {role_name(role)} can belong to. "
        "An administrator can add one with /neworg."
    )


def invite_created(link: str, role: Role, org: Organisation | None, hours: float) -> str:
    return (
        f"Invite for a <b>{role_name(role)}</b> with {org_label(org)}:\n{esc(link)}\n\n"
        f"Send it to them privately. It works once and expires in {hours:g} hours. "
        "You'll be asked to approve them when they've registered."
    )


# Members and organisations -----------------------------------------------------------------


def member_line(member: Member) -> str:
    return f"#{member.id} {esc(member.name)}, {role_name(member.role)} ({member.status.value})"


def members_list(members: list[Member]) -> str:
    if not members:
        return "No members yet."
    return "<b>Members</b>\n" + "\n".join(member_line(m) for m in members)


def member_changed(member: Member, what: str) -> str:
    return f"{esc(member.name)} is now {what}."


MEMBER_ID_USAGE = "Please give the member's number from /members, for example: /{command} 12"


def org_created(org: Organisation) -> str:
    return f"Organisation added: {org_label(org)} (#{org.id})."


NEWORG_USAGE = (
    "Usage: /neworg KIND NAME[ | ADDRESS]\n"
    "KIND is one of: " + ", ".join(k.value for k in OrgKind) + "\n"
    "Example: /neworg residence Maple House | 12 Elm Street, Sudbury"
)


def orgs_list(orgs: list[Organisation]) -> str:
    if not orgs:
        return "No organisations yet. Add one with /neworg."
    return "<b>Organisations</b>\n" + "\n".join(f"#{o.id} {org_label(o)}" for o in orgs)


# Help and commands -------------------------------------------------------------------------

COMMAND_DESCRIPTIONS: dict[str, str] = {
    "help": "What I can do for you",
    "whoami": "Your role, organisation and area",
    "invite": "Invite someone to Homeward",
    "members": "List members",
    "suspend": "Pause a member's access",
    "reinstate": "Give a paused member access again",
    "remove": "End a membership",
    "orgs": "List organisations",
    "neworg": "Add an organisation",
    "cancel": "Stop what you are filling in",
    "missing": "Raise the alarm: a youth is missing",
    "found": "The youth is found: close the alert",
    "edit": "Change an alert (goes back to a coordinator)",
    "youth": "Youth profiles in your care",
    "addyouth": "Add a youth profile",
    "moveyouth": "Move a profile with the youth to another residence",
    "incidents": "The open incidents you can see",
    "incident": "One incident: status, tasks, updates (recorded)",
    "tasks": "Tasks on the active alerts, and who has them",
    "mytasks": "The tasks you have taken",
    "note": "Add a note to a task you hold",
    "newtask": "Add a task to an active alert",
    "acks": "Who has seen an alert and who can help",
    "police": "Record the police report number for an alert",
    "drill": "Run a drill: the real flow with a fictional youth",
    "update": "Post what you saw to an alert (or reply to its message)",
}


def help_text(commands: list[str]) -> str:
    lines = [f"/{c}: {COMMAND_DESCRIPTIONS[c]}" for c in commands]
    return "<b>What you can do</b>\n" + "\n".join(lines)
