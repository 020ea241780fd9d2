"""T09: a member revoked mid-fan-out gets nothing after the revocation commit."""

from __future__ import annotations

import time

import pytest

from bot.domain.membership import MemberStatus
from bot.domain.outgoing import Outgoing
from bot.emulator import Emulator, Fault
from bot.emulator.limits import LimitConfig
from tests.delivery.conftest import FAST_LIMITS, Harness, figure


@pytest.fixture
def limit_config() -> LimitConfig:
    return FAST_LIMITS


async def _revoke(harness: Harness, member_id: int) -> float:
    async with harness.uow() as uow:
        assert await uow.members.change_status(
            member_id,
            expected=[MemberStatus.ACTIVE],
            new=MemberStatus.REMOVED,
            at=harness.clock.now(),
            by_member_id=None,
        )
        await uow.commit()
    return time.monotonic()


async def test_t09_revoked_mid_fanout_gets_nothing_more(harness: Harness, emu: Emulator) -> None:
    # The pace is raised (100/s, limits lifted) because this scenario is about revocation.
    people = await harness.people(200)
    revoked_tg, revoked_id = people[149]
    messages = [harness.alert(tg, member) for tg, member in people]
    messages += [
        Outgoing.text(revoked_tg, f"follow-up {i}", recipient_member_id=revoked_id)
        for i in range(3)
    ]
    ids = await harness.enqueue(messages)
    await harness.start_sender(rate_per_second=100)
    await harness.wait_sends(50)
    committed = await _revoke(harness, revoked_id)
    theirs = [i for i, m in zip(ids, messages, strict=True) if m.recipient_member_id == revoked_id]

    async def cancelled() -> bool:
        rows = await harness.rows()
        return all(rows[i].status == "cancelled" for i in theirs)

    took = await harness.until(cancelled, timeout=5)
    await harness.wait_sends(199)
    await harness.settled()

    after = [c for c in emu.calls if c.chat_id == revoked_tg and c.received >= committed]
    figure(f"T09 cancelled_within={took:.3f}s deliveries_after_commit={len(after)}")
    assert not after, "0 deliveries to the revoked member after the commit"
    assert not emu.calls_to(chat_id=revoked_tg)
    assert took <= 1.0
    per_chat = harness.per_chat()
    assert len(per_chat) == 199
    assert set(per_chat.values()) == {1}


async def test_t09_claimed_row_rechecked_right_before_the_send(
    harness: Harness, emu: Emulator
) -> None:
    people = await harness.people(4)
    emu.inject_fault(Fault("429", method="sendMessage", chat_id=people[0][0], retry_after=1))
    await harness.enqueue([harness.alert(tg, member) for tg, member in people])
    await harness.start_sender()

    def refused() -> bool:
        return any(c.status == 429 for c in emu.calls)

    await emu.wait_for(refused)  # all four rows are claimed; every send is paused 1 s
    await _revoke(harness, people[2][1])
    await harness.wait_sends(3)
    await harness.settled()
    rows = await harness.rows()
    assert sorted(r.status for r in rows.values()) == ["cancelled", "sent", "sent", "sent"]
    assert not emu.calls_to(chat_id=people[2][0])
