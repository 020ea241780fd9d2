"""T17–T21: outages, ambiguous timeouts, 403s, non-retryable 400s, migrated groups."""

from __future__ import annotations

import itertools
import logging
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.domain.membership import Role
from bot.domain.outgoing import Outgoing, Priority
from bot.emulator import Emulator, Fault
from bot.emulator.limits import LimitConfig
from bot.services.delivery_events import NOTICE_KIND
from storage.models import GroupRow, IncidentRow, MemberRow
from tests.delivery.conftest import FAST_LIMITS, Harness, figure

CANARY = "CANARY_NAME_7f3a"


@pytest.fixture
def limit_config() -> LimitConfig:
    return FAST_LIMITS


async def test_t17_outage_backs_off_exponentially_then_delivers_all(
    harness: Harness, emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    # Shortened: base 0.2 s (the default is 1 s), cap 1.6 s (60 s), alarm after 1 s (120 s).
    caplog.set_level(logging.INFO, logger="bot.delivery")
    people = await harness.people(10)
    emu.inject_fault(Fault("502", method="sendMessage", times=3))
    emu.inject_fault(Fault("503", method="sendMessage", times=2))
    await harness.enqueue([harness.alert(tg, member) for tg, member in people])
    # One request at a time, so the gaps measure the backoff alone: with c > 1 a request
    # already past the pacer when a failure comes back may land inside the backoff.
    sender = await harness.start_sender(
        concurrency=1,
        backoff_base_seconds=0.2,
        max_backoff_seconds=1.6,
        degraded_after_seconds=1.0,
    )

    def five_failures() -> bool:
        return sum(c.status >= 500 for c in emu.calls) >= 5

    await emu.wait_for(five_failures, timeout=10)
    port = emu.port
    await emu.stop()  # connection refused from now on

    async def degraded() -> bool:
        return sender.degraded

    await harness.until(degraded, timeout=5)
    await emu.start(port=port)
    await harness.wait_sends(10, timeout=10)
    await harness.settled()

    failed = [c for c in emu.calls if c.status >= 500]
    gaps = [b.received - a.received for a, b in itertools.pairwise(failed)]
    figure("T17 5xx gaps=" + ",".join(f"{g:.2f}" for g in gaps))
    for gap, nominal in zip(gaps, (0.2, 0.4, 0.8, 1.6), strict=True):
        # Jitter is ±20 %; the upper bound allows for the loop's own overhead.
        assert 0.8 * nominal <= gap <= 1.2 * nominal + 0.15, gaps
    assert len(harness.per_chat()) == 10
    assert set(harness.per_chat().values()) == {1}
    rows = await harness.rows()
    assert {r.status for r in rows.values()} == {"sent"}
    records = [r for r in caplog.records if r.name == "bot.delivery"]
    alarms = [r for r in records if "delivery degraded" in r.getMessage()]
    recovered = [r for r in records if "delivery recovered" in r.getMessage()]
    assert len(alarms) == 1
    assert alarms[0].levelno == logging.ERROR
    assert len(recovered) == 1
    assert len([r for r in records if r.levelno >= logging.WARNING]) == 2, "no per-attempt spam"
    figure(f"T17 degraded_logged=1 recovered_logged=1 delivered=10/10 requests={len(emu.calls)}")


async def test_t18_ambiguous_drops_resent_once_flagged_and_audited(
    harness: Harness, emu: Emulator
) -> None:
    people = await harness.people(30)
    emu.inject_fault(
        Fault("drop_after_store", method="sendMessage", times=10, probability=0.4, seed=18)
    )
    await harness.enqueue([harness.alert(tg, member) for tg, member in people])
    await harness.start_sender(backoff_base_seconds=0.05, max_backoff_seconds=0.2)
    await harness.wait_sends(30, timeout=15)
    await harness.settled()

    dropped = [c for c in emu.calls if c.method == "sendMessage" and c.status == 0]
    per_chat = harness.per_chat()
    duplicates = sum(n - 1 for n in per_chat.values())
    rows = await harness.rows()
    flagged = {r.chat_id for r in rows.values() if r.delivery_uncertain}
    audits = await harness.events("delivery.uncertain")
    figure(
        f"T18 drops={len(dropped)} lost={30 - len(per_chat)} duplicates={duplicates} "
        f"flagged={len(flagged)} audited={len(audits)}"
    )
    assert len(dropped) == 10
    assert len(per_chat) == 30, "0 lost"
    assert duplicates <= 10
    assert {c.chat_id for c in dropped} == flagged
    assert len(audits) == 10
    assert all(set(a.details) == {"outbox_id", "chat_id", "resend"} for a in audits)
    assert all("Alert card" not in str(a.details) for a in audits)


async def test_t19_unreachable_recipients_reported_once_to_the_approver(
    harness: Harness, emu: Emulator
) -> None:
    [(coord_tg, coord_id)] = await harness.people(1, role=Role.COORDINATOR, names=["Casey"])
    [(admin_tg, _)] = await harness.people(1, role=Role.ADMIN, names=["Alex"])
    names = [f"R{i}" for i in range(17)] + ["Bea <b>&", "Dan", "Cy"]
    people = await harness.people(20, names=names)
    async with harness.db.sessions() as s, s.begin():
        s.add(
            IncidentRow(
                code="HW-1",
                status="approved",
                raised_by=coord_id,
                created_at=harness.clock.now(),
                approved_by=coord_id,
            )
        )
    blocked, deactivated, never = (tg for tg, _ in people[17:])
    emu.block(blocked)
    emu.deactivate(deactivated)
    emu.inject_fault(Fault("cant_initiate", chat_id=never, times=None))
    messages: list[Outgoing] = []
    for tg, member in people:
        messages.append(harness.alert(tg, member, incident=1))
        location = Outgoing("sendLocation", tg, {"latitude": 46.5, "longitude": -81.0})
        messages.append(
            harness.alert(tg, member, incident=1).__class__(
                location.method,
                tg,
                location.params,
                priority=Priority.ALERT,
                recipient_member_id=member,
                kind="alert_location",
                incident_id=1,
            )
        )
    await harness.enqueue(messages)
    start = time.monotonic()
    await harness.start_sender(notice_batch_seconds=0.5)
    notice = await emu.wait_for_message(coord_tg, timeout=10)
    took = time.monotonic() - start
    await harness.settled()

    unreachable = {blocked, deactivated, never}
    attempts = {tg: len(emu.calls_to(chat_id=tg)) for tg in unreachable}
    figure(f"T19 notice_after={took:.2f}s attempts_per_unreachable={sorted(attempts.values())}")
    assert took <= 60
    assert set(attempts.values()) == {1}, "0 further attempts to that chat for this alert"
    assert len(emu.bot_messages(coord_tg)) == 1, "ONE notice"
    text = notice.raw_text or ""
    assert "3 recipients" in text
    assert "Bea &lt;b&gt;&amp;" in text
    assert "Dan" in text
    assert "Cy" in text
    assert "R1" not in text
    assert not emu.bot_messages(admin_tg), "the approver was told; not everyone"
    for tg, _ in people[:17]:
        assert len(emu.bot_messages(tg)) == 2, "other deliveries unaffected"
    async with harness.db.sessions() as s:
        flagged = set(
            (
                await s.execute(
                    select(MemberRow.telegram_id).where(MemberRow.unreachable_at.is_not(None))
                )
            ).scalars()
        )
    assert flagged == unreachable
    assert len(await harness.events("delivery.unreachable")) == 3
    rows = await harness.rows()
    assert sum(r.status == "failed" for r in rows.values()) == 6


async def test_t19_without_incident_all_coordinators_and_admins_told(
    harness: Harness, emu: Emulator
) -> None:
    [(coord_tg, _)] = await harness.people(1, role=Role.COORDINATOR, names=["Casey"])
    [(admin_tg, _)] = await harness.people(1, role=Role.ADMIN, names=["Alex"])
    people = await harness.people(3, names=["Ann", "Ben", "Col"])
    for tg, _ in people:
        emu.block(tg)
    await harness.enqueue(
        [Outgoing.text(tg, "hello", recipient_member_id=m, kind="notice") for tg, m in people]
    )
    await harness.start_sender(notice_batch_seconds=0.3)
    await emu.wait_for_message(coord_tg, timeout=10)
    await emu.wait_for_message(admin_tg, timeout=10)
    await harness.settled()
    assert len(emu.bot_messages(coord_tg)) == 1
    assert len(emu.bot_messages(admin_tg)) == 1
    assert "3 recipients" in (emu.bot_messages(admin_tg)[0].raw_text or "")


async def test_t20_non_retryable_400s_dead_lettered_admins_alarmed_once(
    harness: Harness, emu: Emulator
) -> None:
    [(admin_tg, admin_id)] = await harness.people(1, role=Role.ADMIN, names=["Alex"])
    [(user_tg, user_id)] = await harness.people(1)
    await harness.enqueue([Outgoing.text(user_tg, "Original", kind="notice")])
    sender = await harness.start_sender(
        notice_batch_seconds=1.0, private_chat_per_second=100, private_chat_burst=100
    )
    first = await emu.wait_for_message(user_tg, timeout=5)
    await harness.settled()
    bad = [
        Outgoing.text(987654, f"{CANARY} to nobody", kind="alert"),  # chat not found
        Outgoing.text(user_tg, f"{CANARY} <foo>broken</foo>", kind="alert"),  # can't parse
        Outgoing.text(user_tg, CANARY + "x" * 5000, kind="notice"),  # too long
        Outgoing.text(987655, "an alarm about an alarm", kind=NOTICE_KIND),  # no loop
        Outgoing.edit_text(user_tg, first.message_id, "Original"),  # not modified: done
        Outgoing("deleteMessage", user_tg, {"message_id": 999}, kind="retract"),  # quiet
    ]
    ids = await harness.enqueue(bad)
    start = time.monotonic()
    sender.wake()
    alarm = await emu.wait_for_message(admin_tg, timeout=10)
    took = time.monotonic() - start
    await harness.settled()

    rows = await harness.rows()
    statuses = [rows[i].status for i in ids]
    assert statuses == ["dead", "dead", "dead", "dead", "sent", "failed"]
    assert all(rows[i].attempts == 1 for i in ids), "0 retries"
    text = alarm.raw_text or ""
    figure(f"T20 alarm_after={took:.2f}s statuses={statuses} admin_notices=1")
    assert took <= 60
    assert "3 messages were rejected" in text
    assert "alert" in text
    assert "notice" in text
    assert "chat not found" in text.lower()
    assert "too long" in text.lower()
    assert CANARY not in text
    assert "broken" not in text
    assert len(emu.bot_messages(admin_tg)) == 1, "one notice per batch; no alarm loops"
    assert admin_id
    assert user_id


async def test_t21_migrated_group_followed_exactly_once(harness: Harness, emu: Emulator) -> None:
    old = emu.add_group("Ops room")
    new = emu.add_group("Ops room", chat_id=-1_009_999_000_001, supergroup=True)
    async with harness.db.sessions() as s, s.begin():
        s.add(GroupRow(chat_id=old.id, title="Ops room", registered_at=datetime.now(UTC)))
    emu.inject_fault(
        Fault("migrated", method="sendMessage", chat_id=old.id, migrate_to_chat_id=new.id)
    )
    ids = await harness.enqueue(
        [
            Outgoing.text(old.id, "first", kind="group"),
            Outgoing.text(old.id, "second", kind="group"),
        ]
    )
    await harness.start_sender(group_per_minute=1000)
    await harness.wait_sends(2)
    await harness.settled()

    rows = await harness.rows()
    assert [rows[i].chat_id for i in ids] == [new.id, new.id]
    assert [m.raw_text for m in emu.bot_messages(new.id)] == ["first", "second"]
    assert not emu.bot_messages(old.id)
    async with harness.db.sessions() as s:
        groups = list((await s.execute(select(GroupRow.chat_id))).scalars())
    assert groups == [new.id]
    figure(f"T21 deliveries_to_new={len(emu.bot_messages(new.id))} old=0 group_row_moved=1")
