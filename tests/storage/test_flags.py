"""Moderation storage on a real SQLite file: flags, dedup, decisions and audit, crisis rows, the outbox."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.storage.alert_outbox import AlertOutboxRepository
from bot.storage.crisis import CrisisCandidate, CrisisRepository
from bot.storage.database import Database
from bot.storage.flags import FlagCandidate, FlagRepository, ModerationSettingsRepository

GUILD = 1001
OTHER_GUILD = 2002
T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A freshly migrated database file."""
    database = await Database.open(tmp_path / "heard.sqlite3")
    yield database
    await database.close()


def candidate(
    message_id: int, *, author: int = 7, code: str = "judging_blaming", guild: int = GUILD
) -> FlagCandidate:
    """A flag candidate for one reply."""
    return FlagCandidate(
        guild_id=guild,
        channel_id=55,
        message_id=message_id,
        author_id=author,
        codes=((code, 0.9),),
        post_channel_id=55,
        post_message_id=1,
        excerpt="that was dumb",
    )


async def test_new_flag_is_stored_with_its_alert_queued(db: Database) -> None:
    flags, outbox = FlagRepository(db), AlertOutboxRepository(db)
    recorded = await flags.record(candidate(10), dedup_window_minutes=60, now=T0)
    assert recorded.outcome == "created"
    assert recorded.flag.codes == ("judging_blaming",)
    assert recorded.flag.status == "open"
    due = await outbox.due_ids(now=T0)
    assert len(due) == 1
    item = await outbox.get(due[0])
    assert item is not None and item.kind == "flag" and item.ref_id == recorded.flag.id


async def test_same_member_and_code_within_window_merges(db: Database) -> None:
    flags = FlagRepository(db)
    first = await flags.record(candidate(10), dedup_window_minutes=60, now=T0)
    second = await flags.record(candidate(11), dedup_window_minutes=60, now=T0 + timedelta(minutes=30))
    assert second.outcome == "merged"
    assert second.flag.id == first.flag.id
    assert second.flag.occurrences == 2
    assert second.flag.latest_message_id == 11
    assert await flags.messages(first.flag.id) == [(55, 10), (55, 11)]


async def test_outside_window_or_other_code_or_member_creates_new(db: Database) -> None:
    flags = FlagRepository(db)
    first = await flags.record(candidate(10), dedup_window_minutes=60, now=T0)
    later = await flags.record(candidate(11), dedup_window_minutes=60, now=T0 + timedelta(minutes=61))
    other_code = await flags.record(candidate(12, code="hostility"), dedup_window_minutes=60, now=T0)
    other_member = await flags.record(candidate(13, author=8), dedup_window_minutes=60, now=T0)
    ids = {first.flag.id, later.flag.id, other_code.flag.id, other_member.flag.id}
    assert len(ids) == 4


async def test_replayed_message_is_not_counted_twice(db: Database) -> None:
    flags = FlagRepository(db)
    await flags.record(candidate(10), dedup_window_minutes=60, now=T0)
    again = await flags.record(candidate(10), dedup_window_minutes=60, now=T0)
    assert again.outcome == "already_recorded"
    assert again.flag.occurrences == 1


async def test_decided_flag_is_not_merged_into(db: Database) -> None:
    flags = FlagRepository(db)
    first = await flags.record(candidate(10), dedup_window_minutes=60, now=T0)
    await flags.decide(GUILD, first.flag.id, actor_id=99, action="resolve", new_status="resolved", now=T0)
    second = await flags.record(candidate(11), dedup_window_minutes=60, now=T0)
    assert second.outcome == "created"


async def test_decision_writes_append_only_audit(db: Database) -> None:
    flags = FlagRepository(db)
    flag = (await flags.record(candidate(10), dedup_window_minutes=60, now=T0)).flag
    decision = await flags.decide(GUILD, flag.id, actor_id=99, action="false_alarm", new_status="false_alarm")
    assert decision is not None
    assert decision.before.status == "open" and decision.after.status == "false_alarm"
    assert decision.audit.previous_status == "open" and decision.audit.actor_id == 99
    trail = await flags.audit_trail(GUILD, flag.id)
    assert [entry.action for entry in trail] == ["false_alarm"]
    with pytest.raises(sqlite3.IntegrityError):
        await db.execute("UPDATE flag_audit SET action = 'resolve' WHERE flag_id = ?", (flag.id,))


async def test_other_guild_cannot_read_or_decide(db: Database) -> None:
    flags = FlagRepository(db)
    flag = (await flags.record(candidate(10), dedup_window_minutes=60, now=T0)).flag
    assert await flags.get(OTHER_GUILD, flag.id) is None
    assert (
        await flags.decide(OTHER_GUILD, flag.id, actor_id=1, action="resolve", new_status="resolved") is None
    )
    assert await flags.audit_trail(OTHER_GUILD, flag.id) == []
    assert (await flags.get(GUILD, flag.id)).status == "open"  # type: ignore[union-attr]


async def test_list_filters_and_stats(db: Database) -> None:
    flags = FlagRepository(db)
    a = (await flags.record(candidate(10), dedup_window_minutes=0, now=T0)).flag
    await flags.record(candidate(11, code="hostility", author=8), dedup_window_minutes=0, now=T0)
    await flags.record(candidate(12, author=9), dedup_window_minutes=0, now=T0)
    await flags.decide(GUILD, a.id, actor_id=99, action="false_alarm", new_status="false_alarm")
    open_flags, total = await flags.list_page(GUILD, status="open")
    assert total == 2 and len(open_flags) == 2
    hostile, total = await flags.list_page(GUILD, status=None, code="hostility")
    assert total == 1 and hostile[0].codes == ("hostility",)
    stats = {entry.code: entry for entry in await flags.stats(GUILD, since=T0 - timedelta(days=7))}
    assert stats["judging_blaming"].total == 2
    assert stats["judging_blaming"].false_alarm_rate == 1.0
    assert stats["hostility"].false_alarm_rate is None


async def test_excerpt_is_clipped(db: Database) -> None:
    flags = FlagRepository(db)
    long = FlagCandidate(
        guild_id=GUILD,
        channel_id=1,
        message_id=2,
        author_id=3,
        codes=(("hostility", 0.9),),
        excerpt="x" * 500,
    )
    flag = (await flags.record(long, dedup_window_minutes=0)).flag
    assert flag.excerpt is not None and len(flag.excerpt) == 200


async def test_settings_defaults_and_updates(db: Database) -> None:
    settings = ModerationSettingsRepository(db)
    assert (await settings.get(GUILD)).sensitivity == "balanced"
    updated = await settings.update(GUILD, sensitivity="conservative", disable_codes=["diagnosing"])
    assert updated.sensitivity == "conservative" and not updated.code_enabled("diagnosing")
    again = await settings.update(GUILD, enable_codes=["diagnosing"], excerpts_enabled=False)
    assert (
        again.code_enabled("diagnosing")
        and not again.excerpts_enabled
        and again.sensitivity == "conservative"
    )
    assert (await settings.get(OTHER_GUILD)).excerpts_enabled
    assert await settings.claim_permission_report(GUILD)
    assert not await settings.claim_permission_report(GUILD)
    await settings.clear_permission_report(GUILD)
    assert await settings.claim_permission_report(GUILD)


async def test_outbox_claim_is_exclusive_and_lease_expires(db: Database) -> None:
    flags, outbox = FlagRepository(db), AlertOutboxRepository(db)
    await flags.record(candidate(10), dedup_window_minutes=60, now=T0)
    (item_id,) = await outbox.due_ids(now=T0)
    first = await outbox.claim(item_id, worker="a", lease_seconds=30, now=T0)
    assert first is not None
    assert await outbox.claim(item_id, worker="b", lease_seconds=30, now=T0 + timedelta(seconds=5)) is None
    assert await outbox.mark_in_flight(item_id, worker="a")
    # worker a dies; after the lease, b may take over and sees the send may have happened
    taken = await outbox.claim(item_id, worker="b", lease_seconds=30, now=T0 + timedelta(seconds=31))
    assert taken is not None and taken.in_flight and taken.attempts == 2
    assert not await outbox.complete(item_id, worker="a", channel_id=1, message_id=2)
    assert await outbox.complete(item_id, worker="b", channel_id=1, message_id=3)
    delivered = await outbox.delivered("flag", taken.ref_id)
    assert delivered is not None and delivered.message_id == 3
    assert await outbox.pending_count() == 0


async def test_outbox_reschedule_and_edit_coalescing(db: Database) -> None:
    flags, outbox = FlagRepository(db), AlertOutboxRepository(db)
    first = await flags.record(candidate(10), dedup_window_minutes=60, now=T0)
    (item_id,) = await outbox.due_ids(now=T0)
    await outbox.claim(item_id, worker="a", lease_seconds=30, now=T0)
    await outbox.reschedule(item_id, worker="a", retry_in_seconds=10, error="500", now=T0)
    assert await outbox.due_ids(now=T0 + timedelta(seconds=5)) == []
    assert await outbox.due_ids(now=T0 + timedelta(seconds=10)) == [item_id]
    # a merge while the post is still waiting needs no edit: the post shows the latest state
    await flags.record(candidate(11), dedup_window_minutes=60, now=T0)
    assert await outbox.pending_count() == 1
    await outbox.claim(item_id, worker="a", lease_seconds=30, now=T0 + timedelta(seconds=10))
    await outbox.complete(item_id, worker="a", channel_id=1, message_id=2)
    await flags.record(candidate(12), dedup_window_minutes=60, now=T0)
    await flags.record(candidate(13), dedup_window_minutes=60, now=T0)
    assert await outbox.pending_count() == 1  # two merges after posting → one edit waiting
    assert first.flag.id == (await flags.record(candidate(14), dedup_window_minutes=60, now=T0)).flag.id


async def test_crisis_dedup_rises_to_urgent_and_checkin_window(db: Database) -> None:
    crisis = CrisisRepository(db)

    def crisis_candidate(message_id: int, level: str) -> CrisisCandidate:
        return CrisisCandidate(
            guild_id=GUILD,
            author_id=7,
            channel_id=55,
            message_id=message_id,
            level=level,
            indicators=("hopelessness",),
        )

    first = await crisis.record(crisis_candidate(10, "concern"), dedup_window_minutes=60, now=T0)
    merged = await crisis.record(crisis_candidate(11, "concern"), dedup_window_minutes=60, now=T0)
    urgent = await crisis.record(crisis_candidate(12, "urgent"), dedup_window_minutes=60, now=T0)
    assert first.outcome == "created" and merged.outcome == "merged" and urgent.outcome == "created"
    assert merged.alert.occurrences == 2 and urgent.alert.id != first.alert.id
    assert (
        await crisis.record(crisis_candidate(12, "urgent"), dedup_window_minutes=60)
    ).outcome == "already_recorded"

    assert await crisis.claim_checkin(GUILD, 7, level="concern", window_minutes=60, now=T0) is not None
    assert await crisis.claim_checkin(GUILD, 7, level="concern", window_minutes=60, now=T0) is None
    assert await crisis.claim_checkin(GUILD, 7, level="urgent", window_minutes=60, now=T0) is not None
    assert await crisis.claim_checkin(GUILD, 7, level="urgent", window_minutes=60, now=T0) is None
    later = T0 + timedelta(minutes=61)
    assert await crisis.claim_checkin(GUILD, 7, level="concern", window_minutes=60, now=later) is not None
    assert await crisis.claim_checkin(OTHER_GUILD, 7, level="concern", window_minutes=60, now=T0) is not None


async def test_helplines_default_and_custom(db: Database) -> None:
    crisis = CrisisRepository(db)
    assert await crisis.helplines(GUILD) is None
    await crisis.set_helplines(GUILD, ["Canada: call or text 988"])
    assert await crisis.helplines(GUILD) == ["Canada: call or text 988"]
    assert await crisis.helplines(OTHER_GUILD) is None
    await crisis.set_helplines(GUILD, [])
    assert await crisis.helplines(GUILD) is None


async def test_checkin_result_shown_on_alerts_and_a_skip_never_hides_it(db: Database) -> None:
    crisis, outbox = CrisisRepository(db), AlertOutboxRepository(db)
    recorded = await crisis.record(
        CrisisCandidate(
            guild_id=GUILD,
            author_id=7,
            channel_id=55,
            message_id=10,
            level="concern",
            indicators=("hopelessness",),
        ),
        dedup_window_minutes=60,
    )
    alert = recorded.alert
    assert alert.checkin_result is None
    await crisis.note_checkin([(GUILD, alert.id)], "dm")
    await crisis.note_checkin([(GUILD, alert.id)], "skipped")
    stored = await crisis.get(GUILD, alert.id)
    assert stored is not None and stored.checkin_result == "dm"
    await crisis.note_checkin([(OTHER_GUILD, alert.id)], "failed")  # another guild's id pair changes nothing
    assert (await crisis.get(GUILD, alert.id)).checkin_result == "dm"  # type: ignore[union-attr]
    assert await outbox.pending_count() == 1  # the post is still waiting: it will show the latest state


async def test_change_during_a_post_in_flight_queues_an_edit_after_it(db: Database) -> None:
    flags, outbox = FlagRepository(db), AlertOutboxRepository(db)
    await flags.record(candidate(10), dedup_window_minutes=60, now=T0)
    (post_id,) = await outbox.due_ids(now=T0)
    await outbox.claim(post_id, worker="a", lease_seconds=30, now=T0)  # rendered and being sent right now
    await flags.record(candidate(11), dedup_window_minutes=60, now=T0 + timedelta(seconds=1))
    assert await outbox.pending_count() == 2  # the post, and an edit to run after it
    assert await outbox.send_state("flag", 1) == "pending"
