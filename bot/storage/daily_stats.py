"""Daily listening-health counts per guild and channel, and the daily rows the report chart is drawn from.

The counters (replies, listening moves) live in ``daily_stat`` (migration 0005). Flags and nudges are
counted straight from the moderation and nudge tables, grouped by the UTC day they were raised, so the
report always agrees with ``/heard stats`` and with what was really delivered. Nothing here reads or
stores message text or member ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from bot.insights.daily import DailyCounts, DayTally
from bot.storage.database import Database
from bot.storage.nudges import DELIVERED_RESULTS

DECIDED_AS_RESOLVED: frozenset[str] = frozenset({"resolved", "nudged", "deleted"})
"""Flag statuses that count as a moderator acting on a real problem (not a false alarm)."""


@dataclass(frozen=True, slots=True)
class ReplyCounts:
    """What one reply adds to its day's counters."""

    with_move: bool
    reflections: int
    open_questions: int


class DailyStatsRepository:
    """Reads and increments the per-day, per-channel listening counters."""

    def __init__(self, db: Database) -> None:
        """Use the bot's open database."""
        self._db = db

    async def record_reply(self, guild_id: int, channel_id: int, day: date, counts: ReplyCounts) -> None:
        """Add one reply to the counters of ``day`` (UTC) in this guild and channel."""
        await self._db.execute(
            "INSERT INTO daily_stat (guild_id, channel_id, day, replies_seen, replies_with_move, reflections,"
            " open_questions) VALUES (?, ?, ?, 1, ?, ?, ?)"
            " ON CONFLICT (guild_id, day, channel_id) DO UPDATE SET"
            " replies_seen = replies_seen + 1,"
            " replies_with_move = replies_with_move + excluded.replies_with_move,"
            " reflections = reflections + excluded.reflections,"
            " open_questions = open_questions + excluded.open_questions",
            (guild_id, channel_id, day.isoformat(), int(counts.with_move), counts.reflections,
             counts.open_questions),
        )  # fmt: skip

    async def daily_counts(self, guild_id: int, *, first_day: date, last_day: date) -> list[DailyCounts]:
        """Return one :class:`DailyCounts` per day with any activity between the two days (inclusive)."""
        start, end = first_day.isoformat(), last_day.isoformat()
        upper = f"{end}T99"  # timestamps are UTC ISO text: the first ten characters are the UTC day
        days: dict[str, DayTally] = {}
        for row in await self._db.fetch_all(
            "SELECT day, SUM(replies_seen) AS seen, SUM(replies_with_move) AS moved,"
            " SUM(reflections) AS reflections, SUM(open_questions) AS questions FROM daily_stat"
            " WHERE guild_id = ? AND day BETWEEN ? AND ? GROUP BY day",
            (guild_id, start, end),
        ):
            builder = days.setdefault(str(row["day"]), DayTally())
            builder.replies_seen = int(row["seen"])
            builder.replies_with_move = int(row["moved"])
            builder.reflections = int(row["reflections"])
            builder.open_questions = int(row["questions"])
        for row in await self._db.fetch_all(
            "SELECT substr(f.created_at, 1, 10) AS day, c.code AS code, COUNT(*) AS n FROM flag f"
            " JOIN flag_code c ON c.flag_id = f.id WHERE f.guild_id = ? AND f.created_at >= ?"
            " AND f.created_at < ? GROUP BY day, c.code",
            (guild_id, start, upper),
        ):
            days.setdefault(str(row["day"]), DayTally()).flags_by_code[str(row["code"])] = int(row["n"])
        for row in await self._db.fetch_all(
            "SELECT substr(created_at, 1, 10) AS day, status, COUNT(*) AS n FROM flag"
            " WHERE guild_id = ? AND created_at >= ? AND created_at < ? GROUP BY day, status",
            (guild_id, start, upper),
        ):
            status = str(row["status"])
            outcome = "resolved" if status in DECIDED_AS_RESOLVED else status
            days.setdefault(str(row["day"]), DayTally()).flag_outcomes[outcome] += int(row["n"])
        placeholders = ", ".join("?" for _ in DELIVERED_RESULTS)
        for row in await self._db.fetch_all(
            "SELECT substr(created_at, 1, 10) AS day, COUNT(*) AS n FROM nudge"
            f" WHERE guild_id = ? AND created_at >= ? AND created_at < ? AND result IN ({placeholders})"
            " GROUP BY day",
            (guild_id, start, upper, *sorted(DELIVERED_RESULTS)),
        ):
            days.setdefault(str(row["day"]), DayTally()).nudges_sent = int(row["n"])
        return [builder.freeze(date.fromisoformat(day)) for day, builder in sorted(days.items())]


def utc_day(moment: datetime) -> date:
    """Return the UTC calendar day of an aware datetime (the key the counters use)."""
    return moment.astimezone(UTC).date()
