"""The listening-health chart: a PNG for empty, one-day and many-week data, with the right numbers."""

from __future__ import annotations

import random
import struct
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.insights.chart import MAX_WEEKS, render_listening_health, weekly_buckets
from bot.insights.daily import DailyCounts
from bot.storage.daily_stats import DailyStatsRepository, ReplyCounts
from bot.storage.database import Database
from bot.storage.flags import FlagCandidate, FlagRepository

TODAY = date(2026, 11, 26)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(png: bytes) -> tuple[int, int]:
    """Return (width, height) from a PNG's header."""
    assert png.startswith(PNG_MAGIC)
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def random_days(count: int, seed: int = 3) -> list[DailyCounts]:
    """Return ``count`` consecutive days of plausible counts ending today."""
    rng = random.Random(seed)
    days = []
    for offset in range(count):
        replies = rng.randint(0, 60)
        days.append(
            DailyCounts(
                day=TODAY - timedelta(days=offset),
                replies_seen=replies,
                replies_with_move=rng.randint(0, replies),
                reflections=rng.randint(0, 20),
                open_questions=rng.randint(0, 20),
                nudges_sent=rng.randint(0, 5),
                flags_by_code={"hostility": rng.randint(0, 3), "judging_blaming": rng.randint(0, 3)},
                flag_outcomes={"false_alarm": rng.randint(0, 2), "resolved": rng.randint(0, 2)},
            )
        )
    return days


def test_empty_data_still_draws_a_readable_chart() -> None:
    chart = render_listening_health([], weeks=4, today=TODAY)
    width, height = png_size(chart.png)
    assert width >= 800 and height >= 500
    assert len(chart.weeks) == 4
    assert chart.totals.replies_seen == 0 and chart.totals.flags == 0
    assert chart.weeks[-1].end == TODAY and chart.weeks[0].start == TODAY - timedelta(days=27)
    assert "0 replies" in chart.describe()


def test_one_day_of_data_lands_in_the_last_week() -> None:
    day = DailyCounts(
        day=TODAY,
        replies_seen=10,
        replies_with_move=4,
        reflections=6,
        open_questions=3,
        nudges_sent=2,
        flags_by_code={"hostility": 1},
        flag_outcomes={"false_alarm": 1},
    )
    chart = render_listening_health([day], weeks=1, today=TODAY)
    png_size(chart.png)
    [week] = chart.weeks
    assert (week.replies_seen, week.replies_with_move, week.nudges_sent, week.flags) == (10, 4, 2, 1)
    assert week.reflection_ratio == 2.0
    assert week.move_share == 0.4
    assert week.false_alarm_rate == 1.0
    assert "2.0:1" in chart.describe()


def test_many_weeks_sum_every_day_in_the_window_and_ignore_the_rest() -> None:
    days = random_days(400)
    chart = render_listening_health(days, weeks=52, today=TODAY)
    png_size(chart.png)
    assert len(chart.weeks) == 52
    window = [d for d in days if d.day > TODAY - timedelta(days=7 * 52)]
    assert chart.totals.replies_seen == sum(d.replies_seen for d in window)
    assert chart.totals.reflections == sum(d.reflections for d in window)
    assert chart.totals.nudges_sent == sum(d.nudges_sent for d in window)
    expected_codes: Counter[str] = Counter()
    for d in window:
        expected_codes.update(d.flags_by_code)
    assert chart.totals.flags_by_code == {k: v for k, v in expected_codes.items() if v}
    for week in chart.weeks:
        in_week = [d for d in window if week.start <= d.day <= week.end]
        assert week.open_questions == sum(d.open_questions for d in in_week)


def test_week_count_is_clamped_and_rows_for_the_same_day_add_up() -> None:
    assert len(weekly_buckets([], weeks=0, today=TODAY)) == 1
    assert len(weekly_buckets([], weeks=10_000, today=TODAY)) == MAX_WEEKS
    split = [DailyCounts(TODAY, replies_seen=2), DailyCounts(TODAY, replies_seen=3)]
    assert weekly_buckets(split, weeks=1, today=TODAY)[0].replies_seen == 5


def test_ratio_without_questions_is_left_out_not_infinite() -> None:
    chart = render_listening_health([DailyCounts(TODAY, replies_seen=3, reflections=3)], weeks=2, today=TODAY)
    assert chart.weeks[-1].reflection_ratio is None
    assert "n/a" in chart.describe()


async def test_numbers_behind_the_chart_match_the_stored_counts(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "heard.sqlite3")
    try:
        stats, flags = DailyStatsRepository(db), FlagRepository(db)
        guild = 77
        expected_replies = 0
        for offset in range(20):
            day = TODAY - timedelta(days=offset)
            for number in range(offset % 4 + 1):
                await stats.record_reply(guild, 5 + number % 2, day, ReplyCounts(number % 2 == 0, 1, 1))
                expected_replies += 1
        for message_id in range(6):
            when = datetime_at(TODAY - timedelta(days=message_id * 3))
            candidate = FlagCandidate(guild, 5, message_id, 900 + message_id, (("hostility", 0.9),))
            await flags.record(candidate, dedup_window_minutes=60, now=when)

        days = await stats.daily_counts(guild, first_day=TODAY - timedelta(days=27), last_day=TODAY)
        chart = render_listening_health(days, weeks=4, today=TODAY)

        stored = await db.fetch_one(
            "SELECT SUM(replies_seen) AS seen, SUM(replies_with_move) AS moved"
            " FROM daily_stat WHERE guild_id = ?",
            (guild,),
        )
        assert stored is not None
        assert chart.totals.replies_seen == stored["seen"] == expected_replies
        assert chart.totals.replies_with_move == stored["moved"]
        flag_count = await db.fetch_one("SELECT COUNT(*) AS n FROM flag WHERE guild_id = ?", (guild,))
        assert flag_count is not None
        assert chart.totals.flags == flag_count["n"] == 6
        assert chart.totals.flag_outcomes == {"open": 6}
    finally:
        await db.close()


def datetime_at(day: date) -> datetime:
    """Return noon UTC on ``day``."""
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def test_chart_png_is_written_for_manual_inspection(tmp_path: Path) -> None:
    chart = render_listening_health(random_days(90), weeks=12, today=TODAY)
    target = tmp_path / "listening-health.png"
    target.write_bytes(chart.png)
    assert target.stat().st_size > 10_000
