"""Places follow the role's visibility: a deployment that does not give outreach
responders the last-seen point does not send them an update's place or its map."""

from __future__ import annotations

from bot.domain.membership import Role
from bot.domain.visibility import AlertField
from tests.e2e.conftest import World
from tests.updates.helpers import alert_card, placed_alert, reply_to, with_text

MALL = (46.4950, -80.9700)  # in Sudbury, inside Rita's own area


async def test_an_update_place_goes_only_to_roles_that_receive_places(world: World) -> None:
    p = await placed_alert(world)
    c = p.s.c
    visibility = world.hw.ctx.alerts.visibility
    visibility[Role.RESPONDER] = visibility[Role.RESPONDER] - {AlertField.LAST_SEEN}
    pins_before = {
        who.user_id: len(world.emu.calls_to("sendLocation", chat_id=who.user_id))
        for who in (c.rita, c.cora)
    }

    await reply_to(world, c.pat, alert_card(world, c.pat), location=MALL)

    # A bare place: Rita would get an empty update, so she gets none at all.
    assert with_text(world, c.rita, "UPDATE #") == []
    [cora_copy] = with_text(world, c.cora, "UPDATE #")
    assert "46.49500, -80.97000" in cora_copy
    assert (
        len(world.emu.calls_to("sendLocation", chat_id=c.rita.user_id))
        == pins_before[c.rita.user_id]
    )
    assert (
        len(world.emu.calls_to("sendLocation", chat_id=c.cora.user_id))
        == pins_before[c.cora.user_id] + 1
    )


async def test_words_with_a_place_reach_them_without_the_place(world: World) -> None:
    p = await placed_alert(world)
    c = p.s.c
    visibility = world.hw.ctx.alerts.visibility
    visibility[Role.RESPONDER] = visibility[Role.RESPONDER] - {AlertField.LAST_SEEN}
    await world.say(c.pat, f"/update {p.code} Seen by the mall, heading north")
    await world.answer(c.pat, MALL)
    await world.answer(c.pat, "[Skip]")
    done = await world.answer(c.pat, "[Post the update]")
    assert "is going to" in (done.text or ""), done.text
    [rita_copy] = with_text(world, c.rita, "Seen by the mall")
    assert "Place" not in rita_copy
    assert "46.49500" not in rita_copy
    [cora_copy] = with_text(world, c.cora, "Seen by the mall")
    assert "46.49500, -80.97000" in cora_copy
