"""Wording of the delivery notices (plain HTML; every name goes through ``esc``).

They say who could not be reached or how many messages Telegram refused, never what
the messages said.
"""

from __future__ import annotations

import html
from collections.abc import Sequence


def esc(value: object) -> str:
    return html.escape(str(value), quote=False)


def unreachable_notice(names: Sequence[str], others: int, *, for_alert: bool) -> str:
    """To a coordinator: people (and chats) Telegram would not let us reach."""
    lines = [esc(n) for n in names]
    if others:
        lines.append(f"{others} other chat{'s' if others != 1 else ''}")
    count = len(names) + others
    what = "an alert you approved" if for_alert else "a Homeward message"
    people = "recipient" if count == 1 else "recipients"
    body = "\n".join(f"• {line}" for line in lines)
    return (
        f"⚠️ <b>{count} {people} could not be reached</b> with {what}.\n"
        f"{body}\n\n"
        "Telegram refused delivery (they blocked the bot, closed their account, or never "
        "started a chat with it). Please reach them another way."
    )


def rejected_notice(count: int, kinds: Sequence[tuple[str, str, int]]) -> str:
    """To admins: messages Telegram rejected for good (kind, reason, how many)."""
    lines = "\n".join(f"• {n} × {esc(kind)}: {esc(reason)}" for kind, reason, n in kinds)
    noun = "message was" if count == 1 else "messages were"
    return (
        f"🛑 <b>Delivery problem: {count} {noun} rejected by Telegram</b> and will not be "
        "retried.\n"
        f"{lines}\n\n"
        "Details are in the outbox (status dead); the content is not repeated here."
    )
