"""Crisis storage: escalations to moderators (ids, indicator types, level — never text), the private
check-in messages sent to members (for the once-per-window limit), and each guild's helplines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import aiosqlite

from bot.storage.alert_outbox import enqueue_edit, enqueue_send, iso, utc_now
from bot.storage.database import Database

LEVEL_RANK: dict[str, int] = {"none": 0, "concern": 1, "urgent": 2}
DM_GUILD_ID = 0
"""The ``guild_id`` stored for a check-in that answered a direct message to Heard."""


@dataclass(frozen=True, slots=True)
class CrisisCandidate:
    """A message whose crisis level is concern or urgent, as ids and indicator types."""

    guild_id: int
    author_id: int
    channel_id: int
    message_id: int
    level: str
    indicators: tuple[str, ...]
    in_dm: bool = False


@dataclass(frozen=True, slots=True)
class CrisisAlert:
    """A stored crisis escalation."""

    id: int
    guild_id: int
    author_id: int
    channel_id: int
    message_id: int
    in_dm: bool
    level: str
    indicators: tuple[str, ...]
    occurrences: int
    latest_channel_id: int
    latest_message_id: int
    status: str
    checkin_result: str | None
    acknowledged_by: int | None
    acknowledged_at: str | None
    created_at: str
    last_seen_at: str


def _alert(row: aiosqlite.Row) -> CrisisAlert:
    """Build a :class:`CrisisAlert` from a row."""
    return CrisisAlert(
        id=int(row["id"]),
        guild_id=int(row["guild_id"]),
        author_id=int(row["author_id"]),
        channel_id=int(row["channel_id"]),
        message_id=int(row["message_id"]),
        in_dm=bool(row["in_dm"]),
        level=str(row["level"]),
        indicators=tuple(code for code in str(row["indicators"]).split(",") if code),
        occurrences=int(row["occurrences"]),
        latest_channel_id=int(row["latest_channel_id"]),
        latest_message_id=int(row["latest_message_id"]),
        status=str(row["status"]),
        checkin_result=row["checkin_result"],
        acknowledged_by=row["acknowledged_by"],
        acknowledged_at=row["acknowledged_at"],
        created_at=str(row["created_at"]),
        last_seen_at=str(row["last_seen_at"]),
    )


@dataclass(frozen=True, slots=True)
class RecordedCrisis:
    """The outcome of recording a crisis candidate."""

    alert: CrisisAlert
    outcome: Literal["created", "merged", "already_recorded"]


class CrisisRepository:
    """Stores crisis escalations and check-ins, and each guild's helplines."""

    def __init__(self, db: Database) -> None:
        """Use ``db`` for every query."""
        self._db = db

    async def record(
        self, candidate: CrisisCandidate, *, dedup_window_minutes: int, now: datetime | None = None
    ) -> RecordedCrisis:
        """Store an escalation and queue its alert, or fold it into this member's open one.

        A repeat within the window at the same or a lower level updates the open alert (count, latest
        link, indicator types); a rise to ``urgent`` always posts a new alert so moderators are paged.
        """
        moment = now or utc_now()
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                "SELECT * FROM crisis_alert WHERE guild_id = ? AND (message_id = ? OR latest_message_id = ?)",
                (candidate.guild_id, candidate.message_id, candidate.message_id),
            )
            row = await cursor.fetchone()
            if row is not None:
                return RecordedCrisis(alert=_alert(row), outcome="already_recorded")
            existing: CrisisAlert | None = None
            if dedup_window_minutes > 0:
                cursor = await connection.execute(
                    "SELECT * FROM crisis_alert WHERE guild_id = ? AND author_id = ? AND status = 'open'"
                    " AND last_seen_at >= ? ORDER BY id DESC LIMIT 1",
                    (
                        candidate.guild_id,
                        candidate.author_id,
                        iso(moment - timedelta(minutes=dedup_window_minutes)),
                    ),
                )
                row = await cursor.fetchone()
                existing = _alert(row) if row is not None else None
            if existing is not None and LEVEL_RANK[candidate.level] <= LEVEL_RANK[existing.level]:
                indicators = tuple(dict.fromkeys((*existing.indicators, *candidate.indicators)))
                await connection.execute(
                    "UPDATE crisis_alert SET occurrences = occurrences + 1, latest_channel_id = ?,"
                    " latest_message_id = ?, indicators = ?, last_seen_at = ? WHERE id = ?",
                    (
                        candidate.channel_id,
                        candidate.message_id,
                        ",".join(indicators),
                        iso(moment),
                        existing.id,
                    ),
                )
                await enqueue_edit(
                    connection, guild_id=candidate.guild_id, kind="crisis", ref_id=existing.id, now=moment
                )
                alert_id, outcome = existing.id, "merged"
            else:
                cursor = await connection.execute(
                    "INSERT INTO crisis_alert (guild_id, author_id, channel_id, message_id, in_dm, level,"
                    " indicators, latest_channel_id, latest_message_id, created_at, last_seen_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        candidate.guild_id,
                        candidate.author_id,
                        candidate.channel_id,
                        candidate.message_id,
                        int(candidate.in_dm),
                        candidate.level,
                        ",".join(dict.fromkeys(candidate.indicators)),
                        candidate.channel_id,
                        candidate.message_id,
                        iso(moment),
                        iso(moment),
                    ),
                )
                alert_id = int(cursor.lastrowid or 0)
                await enqueue_send(
                    connection, guild_id=candidate.guild_id, kind="crisis", ref_id=alert_id, now=moment
                )
                outcome = "created"
            cursor = await connection.execute("SELECT * FROM crisis_alert WHERE id = ?", (alert_id,))
            stored = await cursor.fetchone()
        assert stored is not None
        return RecordedCrisis(alert=_alert(stored), outcome=outcome)  # type: ignore[arg-type]

    async def get(self, guild_id: int, alert_id: int) -> CrisisAlert | None:
        """Return a crisis alert of ``guild_id`` by id, or None."""
        row = await self._db.fetch_one(
            "SELECT * FROM crisis_alert WHERE id = ? AND guild_id = ?", (alert_id, guild_id)
        )
        return _alert(row) if row is not None else None

    async def acknowledge(
        self, guild_id: int, alert_id: int, *, actor_id: int, now: datetime | None = None
    ) -> CrisisAlert | None:
        """Mark an alert as taken care of by ``actor_id`` (first one wins); None if not in this guild."""
        async with self._db.transaction() as connection:
            await connection.execute(
                "UPDATE crisis_alert SET status = 'acknowledged', acknowledged_by = ?, acknowledged_at = ?"
                " WHERE id = ? AND guild_id = ? AND status = 'open'",
                (actor_id, iso(now or utc_now()), alert_id, guild_id),
            )
            cursor = await connection.execute(
                "SELECT * FROM crisis_alert WHERE id = ? AND guild_id = ?", (alert_id, guild_id)
            )
            row = await cursor.fetchone()
        return _alert(row) if row is not None else None

    async def claim_checkin(
        self,
        guild_id: int,
        user_id: int,
        *,
        level: str,
        window_minutes: int,
        now: datetime | None = None,
    ) -> int | None:
        """Reserve the right to send this member the private check-in; None if one went out recently.

        At most one check-in per window, unless the level rose from ``concern`` to ``urgent``.
        The reservation is stored (result ``pending``) before anything is sent.
        """
        moment = now or utc_now()
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                "SELECT level FROM crisis_checkin WHERE guild_id = ? AND user_id = ? AND sent_at > ?"
                " ORDER BY id DESC",
                (guild_id, user_id, iso(moment - timedelta(minutes=max(window_minutes, 0)))),
            )
            recent = [str(row["level"]) for row in await cursor.fetchall()]
            if recent and max(LEVEL_RANK.get(previous, 0) for previous in recent) >= LEVEL_RANK[level]:
                return None
            cursor = await connection.execute(
                "INSERT INTO crisis_checkin (guild_id, user_id, level, result, sent_at)"
                " VALUES (?, ?, ?, 'pending', ?)",
                (guild_id, user_id, level, iso(moment)),
            )
            return int(cursor.lastrowid or 0)

    async def set_checkin_result(self, checkin_id: int, result: str) -> None:
        """Record how the check-in went (``dm``, ``failed_dms_closed``, ``failed``)."""
        await self._db.execute("UPDATE crisis_checkin SET result = ? WHERE id = ?", (result, checkin_id))

    async def note_checkin(self, alert_ids: Sequence[tuple[int, int]], result: str) -> None:
        """Show on these alerts ((guild_id, alert_id) pairs) how the member's private check-in went."""
        if not alert_ids:
            return
        async with self._db.transaction() as connection:
            for guild_id, alert_id in alert_ids:
                cursor = await connection.execute(
                    "UPDATE crisis_alert SET checkin_result = ? WHERE id = ? AND guild_id = ?"
                    " AND (? != 'skipped' OR checkin_result IS NULL)",  # a skip never hides an earlier result
                    (result, alert_id, guild_id, result),
                )
                if cursor.rowcount:
                    await enqueue_edit(
                        connection, guild_id=guild_id, kind="crisis", ref_id=alert_id, now=utc_now()
                    )

    async def checkins(self, guild_id: int, user_id: int) -> list[tuple[str, str]]:
        """Return (level, result) of this member's check-ins in ``guild_id``, oldest first."""
        rows = await self._db.fetch_all(
            "SELECT level, result FROM crisis_checkin WHERE guild_id = ? AND user_id = ? ORDER BY id",
            (guild_id, user_id),
        )
        return [(str(row["level"]), str(row["result"])) for row in rows]

    async def helplines(self, guild_id: int) -> list[str] | None:
        """Return the guild's own helpline lines, or None when it uses the defaults."""
        rows = await self._db.fetch_all(
            "SELECT line FROM helpline WHERE guild_id = ? ORDER BY position", (guild_id,)
        )
        return [str(row["line"]) for row in rows] if rows else None

    async def set_helplines(self, guild_id: int, lines: Sequence[str]) -> None:
        """Replace the guild's helplines (an empty list means: back to the defaults)."""
        async with self._db.transaction() as connection:
            await connection.execute("DELETE FROM helpline WHERE guild_id = ?", (guild_id,))
            await connection.executemany(
                "INSERT INTO helpline (guild_id, position, line) VALUES (?, ?, ?)",
                [(guild_id, position, line) for position, line in enumerate(lines)],
            )
