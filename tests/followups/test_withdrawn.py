"""An alert that was sent, put back to vetting (a status check's "Change risk", or an
edit) and then rejected is pulled back from everyone it reached, as /found would: the
cards and pins are deleted and each person is asked once to delete saved copies."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.incidents import IncidentStatus
from tests.e2e.conftest import World
from tests.followups.helpers import (
    approve,
    at,
    events,
    incident,
    raise_alert,
    received,
    staffed,
    vet_card,
)

HOUR = timedelta(hours=1)


async def test_an_alert_rejected_after_it_was_sent_is_pulled_back(world: World) -> None:
    c = await staffed(world)
    code = await raise_alert(world, c.sam, risk="high", report="2026-1")
    t0 = world.clock.now()
    await approve(world, c.cora, code)
    sent = [
        m
        for m in world.emu.bot_messages(c.rita.user_id)
        if code in (m.text or m.caption or "") or m.venue or m.location
    ]
    assert len(sent) >= 2  # the card and its pin

    await at(world, t0 + 2 * HOUR)
    check = received(world, c.cora, "Status check for")[-1]
    await world.press(c.cora, check, "Change risk")
    card = vet_card(world, c.cora, code)
    await world.press(c.cora, card, "Reject")
    await world.press(c.cora, world.emu.bot_messages(c.cora.user_id)[-1], "Youth already back")
    assert (await incident(world, code)).status is IncidentStatus.REJECTED

    gone = {m.message_id: m for m in world.emu.messages(c.rita.user_id)}
    assert all(gone[m.message_id].deleted for m in sent)
    assert len(received(world, c.rita, f"Withdrawn: {code}")) == 1
    assert received(world, c.rita, "Resolved:") == []
    [(_, details)] = await events(world, code, "incident.retracted")
    assert details["why"] == "rejected after it had been sent"
    # The coordinator's own vetting card is settled into a note, not deleted.
    [settled] = [m for m in world.emu.messages(c.cora.user_id) if m.message_id == card.message_id]
    assert not settled.deleted
    assert "rejected" in (settled.text or "")
