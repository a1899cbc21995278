"""Daily listening counters, and the daily rows built from them plus the flag and nudge tables."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.storage.daily_stats import DailyStatsRepository, ReplyCounts, utc_day
from bot.storage.database import Database
from bot.storage.flags import FlagCandidate, FlagRepository
from bot.storage.nudges import NudgeRepository

GUILD, OTHER_GUILD = 1001, 2002
SUPPORT, VENT = 11, 12


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated database file."""
    database = await Database.open(tmp_path / "heard.sqlite3")
    try:
        yield database
    finally:
        await database.close()


def at(day: int, hour: int = 12) -> datetime:
    """Return a UTC moment in November 2026."""
    return datetime(2026, 11, day, hour, tzinfo=UTC)


async def add_flag(
    flags: FlagRepository, guild: int, message_id: int, codes: list[str], when: datetime
) -> int:
    """Record one flag (a different author each time, so nothing merges) and return its id."""
    candidate = FlagCandidate(
        guild_id=guild,
        channel_id=SUPPORT,
        message_id=message_id,
        author_id=message_id + 500,
        codes=tuple((code, 0.9) for code in codes),
    )
    recorded = await flags.record(candidate, dedup_window_minutes=60, now=when)
    return recorded.flag.id


async def test_replies_are_summed_per_day_across_channels(db: Database) -> None:
    stats = DailyStatsRepository(db)
    day = date(2026, 11, 20)
    await stats.record_reply(
        GUILD, SUPPORT, day, ReplyCounts(with_move=True, reflections=2, open_questions=1)
    )
    await stats.record_reply(
        GUILD, SUPPORT, day, ReplyCounts(with_move=False, reflections=0, open_questions=0)
    )
    await stats.record_reply(GUILD, VENT, day, ReplyCounts(with_move=True, reflections=0, open_questions=3))
    await stats.record_reply(OTHER_GUILD, SUPPORT, day, ReplyCounts(True, 5, 5))

    [row] = await stats.daily_counts(GUILD, first_day=day, last_day=day)

    assert (row.day, row.replies_seen, row.replies_with_move, row.reflections, row.open_questions) == (
        day,
        3,
        2,
        2,
        4,
    )
    stored = await db.fetch_all("SELECT * FROM daily_stat WHERE guild_id = ? ORDER BY channel_id", (GUILD,))
    assert [(r["channel_id"], r["replies_seen"]) for r in stored] == [(SUPPORT, 2), (VENT, 1)]
    assert set(stored[0].keys()) == {
        "guild_id",
        "channel_id",
        "day",
        "replies_seen",
        "replies_with_move",
        "reflections",
        "open_questions",
    }, "counts only: no text or member columns"


async def test_flags_and_delivered_nudges_come_from_their_tables(db: Database) -> None:
    stats, flags, nudges = DailyStatsRepository(db), FlagRepository(db), NudgeRepository(db)
    first = await add_flag(flags, GUILD, 1, ["judging_blaming", "hostility"], at(18))
    second = await add_flag(flags, GUILD, 2, ["hostility"], at(18, 23))
    await add_flag(flags, GUILD, 3, ["diagnosing"], at(19))
    await add_flag(flags, OTHER_GUILD, 4, ["hostility"], at(18))
    await add_flag(flags, GUILD, 5, ["hostility"], at(25))  # outside the window asked for
    await flags.decide(GUILD, first, actor_id=9, action="false_alarm", new_status="false_alarm")
    await flags.decide(GUILD, second, actor_id=9, action="nudge", new_status="nudged")
    settings = await nudges.settings(GUILD)
    results = [(10, "dm"), (11, "in_channel"), (12, "dms_closed"), (13, "failed")]
    for message_id, result in results:
        claim = await nudges.claim(
            guild_id=GUILD,
            member_id=message_id,
            channel_id=SUPPORT,
            message_id=message_id,
            codes=("advice_unasked",),
            settings=settings,
            now=at(19, 8),
        )
        assert claim.nudge_id is not None
        await nudges.set_result(claim.nudge_id, result)

    rows = await stats.daily_counts(GUILD, first_day=date(2026, 11, 17), last_day=date(2026, 11, 20))

    by_day = {row.day: row for row in rows}
    assert set(by_day) == {date(2026, 11, 18), date(2026, 11, 19)}
    assert dict(by_day[date(2026, 11, 18)].flags_by_code) == {"judging_blaming": 1, "hostility": 2}
    assert dict(by_day[date(2026, 11, 18)].flag_outcomes) == {"false_alarm": 1, "resolved": 1}
    assert dict(by_day[date(2026, 11, 19)].flags_by_code) == {"diagnosing": 1}
    assert dict(by_day[date(2026, 11, 19)].flag_outcomes) == {"open": 1}
    assert by_day[date(2026, 11, 19)].nudges_sent == 2, "only delivered nudges count as sent"
    assert by_day[date(2026, 11, 18)].nudges_sent == 0


async def test_empty_guild_has_no_rows(db: Database) -> None:
    rows = await DailyStatsRepository(db).daily_counts(
        GUILD, first_day=date(2026, 1, 1), last_day=date(2026, 12, 31)
    )
    assert rows == []


def test_utc_day_uses_utc() -> None:
    from datetime import timedelta, timezone

    late_evening_west = datetime(2026, 11, 20, 22, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert utc_day(late_evening_west) == date(2026, 11, 21)
