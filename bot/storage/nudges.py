"""Storage for private listening nudges: guild settings, member choices, and one row per nudge.

No message text is stored: a nudge row holds ids, roadblock codes, where it came from, the delivery
result and times. Cooldown and the daily cap are computed from these rows, so they survive restarts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

import aiosqlite

from bot.storage.database import Database

DmFallback = Literal["nothing", "in_channel"]
DM_FALLBACKS: Final[tuple[str, ...]] = ("nothing", "in_channel")
NudgeSource = Literal["auto", "moderator"]

DEFAULT_COOLDOWN_MINUTES: Final = 10
DEFAULT_DAILY_CAP: Final = 5
MAX_COOLDOWN_MINUTES: Final = 7 * 24 * 60
MAX_DAILY_CAP: Final = 100
CAP_WINDOW: Final = timedelta(hours=24)

PENDING: Final = "pending"
RESULT_DM: Final = "dm"
RESULT_IN_CHANNEL: Final = "in_channel"
RESULT_DMS_CLOSED: Final = "dms_closed"
RESULT_FAILED: Final = "failed"
RESULT_INTERRUPTED: Final = "interrupted"
DELIVERED_RESULTS: Final = frozenset({RESULT_DM, RESULT_IN_CHANNEL})

ClaimStatus = Literal["claimed", "cooldown", "daily_cap", "already_nudged"]


def to_iso(moment: datetime) -> str:
    """Return ``moment`` as the UTC ISO-8601 text stored in every timestamp column."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def utc_now() -> datetime:
    """Return the current time in UTC (the default clock of the repository)."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class NudgeSettings:
    """What a guild chose in ``/heard nudges`` (the defaults when it chose nothing)."""

    guild_id: int
    dm_fallback: DmFallback = "nothing"
    exempt_role_id: int | None = None
    cooldown_minutes: int = DEFAULT_COOLDOWN_MINUTES
    daily_cap: int = DEFAULT_DAILY_CAP


@dataclass(frozen=True, slots=True)
class NudgeRecord:
    """One stored nudge: who, where, which codes, how it was delivered, and when."""

    id: int
    guild_id: int
    member_id: int
    channel_id: int
    message_id: int
    codes: tuple[str, ...]
    source: NudgeSource
    result: str
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class NudgeClaim:
    """The answer to "may Heard nudge this member now?": a pending row id, or why not."""

    status: ClaimStatus
    nudge_id: int | None = None

    @property
    def granted(self) -> bool:
        """Whether a pending nudge row was written and the nudge may be delivered."""
        return self.status == "claimed" and self.nudge_id is not None


class _Unset:
    """Marker for "leave this setting as it is" (``None`` means "clear it")."""


UNSET: Final = _Unset()


class NudgeRepository:
    """Reads and writes nudge settings, member choices and nudge records."""

    def __init__(self, db: Database) -> None:
        """Use the open database ``db``."""
        self._db = db

    async def settings(self, guild_id: int) -> NudgeSettings:
        """Return the guild's nudge settings, or the defaults if it never changed them."""
        row = await self._db.fetch_one("SELECT * FROM nudge_settings WHERE guild_id = ?", (guild_id,))
        return _settings_from_row(guild_id, row)

    async def update_settings(
        self,
        guild_id: int,
        *,
        by_user_id: int,
        dm_fallback: DmFallback | None = None,
        exempt_role_id: int | _Unset | None = UNSET,
        cooldown_minutes: int | None = None,
        daily_cap: int | None = None,
        now: datetime | None = None,
    ) -> NudgeSettings:
        """Change the given settings (others stay as they are) and return the result."""
        if dm_fallback is not None and dm_fallback not in DM_FALLBACKS:
            raise ValueError(f"dm_fallback must be one of {', '.join(DM_FALLBACKS)}")
        if cooldown_minutes is not None and not 0 <= cooldown_minutes <= MAX_COOLDOWN_MINUTES:
            raise ValueError(f"cooldown_minutes must be between 0 and {MAX_COOLDOWN_MINUTES}")
        if daily_cap is not None and not 0 <= daily_cap <= MAX_DAILY_CAP:
            raise ValueError(f"daily_cap must be between 0 and {MAX_DAILY_CAP}")
        stamp = to_iso(now or utc_now())
        async with self._db.transaction() as connection:
            current = await _settings_in(connection, guild_id)
            merged = NudgeSettings(
                guild_id=guild_id,
                dm_fallback=dm_fallback or current.dm_fallback,
                exempt_role_id=(
                    current.exempt_role_id if isinstance(exempt_role_id, _Unset) else exempt_role_id
                ),
                cooldown_minutes=current.cooldown_minutes if cooldown_minutes is None else cooldown_minutes,
                daily_cap=current.daily_cap if daily_cap is None else daily_cap,
            )
            await connection.execute(
                "INSERT INTO nudge_settings (guild_id, dm_fallback, exempt_role_id, cooldown_minutes,"
                " daily_cap, updated_by_user_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (guild_id) DO UPDATE SET dm_fallback = excluded.dm_fallback,"
                " exempt_role_id = excluded.exempt_role_id, cooldown_minutes = excluded.cooldown_minutes,"
                " daily_cap = excluded.daily_cap, updated_by_user_id = excluded.updated_by_user_id,"
                " updated_at = excluded.updated_at",
                (
                    guild_id,
                    merged.dm_fallback,
                    merged.exempt_role_id,
                    merged.cooldown_minutes,
                    merged.daily_cap,
                    by_user_id,
                    stamp,
                ),
            )
        return merged

    async def is_opted_out(self, user_id: int) -> bool:
        """Return whether the member turned nudges off with ``/nudges off``."""
        row = await self._db.fetch_one("SELECT opted_out FROM nudge_member WHERE user_id = ?", (user_id,))
        return row is not None and bool(row["opted_out"])

    async def set_opted_out(self, user_id: int, opted_out: bool, *, now: datetime | None = None) -> None:
        """Record the member's ``/nudges off`` (True) or ``/nudges on`` (False)."""
        await self._db.execute(
            "INSERT INTO nudge_member (user_id, opted_out, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET opted_out = excluded.opted_out,"
            " updated_at = excluded.updated_at",
            (user_id, int(opted_out), to_iso(now or utc_now())),
        )

    async def needs_intro(self, user_id: int) -> bool:
        """Return whether the member has never been shown the introduction to Heard's nudges."""
        row = await self._db.fetch_one("SELECT intro_sent_at FROM nudge_member WHERE user_id = ?", (user_id,))
        return row is None or row["intro_sent_at"] is None

    async def mark_intro_sent(self, user_id: int, *, now: datetime | None = None) -> None:
        """Remember that the member has seen the introduction (kept if already set)."""
        stamp = to_iso(now or utc_now())
        await self._db.execute(
            "INSERT INTO nudge_member (user_id, intro_sent_at, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET"
            " intro_sent_at = COALESCE(intro_sent_at, excluded.intro_sent_at),"
            " updated_at = excluded.updated_at",
            (user_id, stamp, stamp),
        )

    async def claim(
        self,
        *,
        guild_id: int,
        member_id: int,
        channel_id: int,
        message_id: int,
        codes: tuple[str, ...],
        settings: NudgeSettings,
        source: NudgeSource = "auto",
        now: datetime | None = None,
    ) -> NudgeClaim:
        """Atomically check cooldown, daily cap and duplicates, and write a ``pending`` nudge row.

        Automatic nudges respect the guild's cooldown (minutes since this member's last automatic nudge)
        and daily cap (automatic nudges in the last 24 hours). A moderator's nudge skips both, but a
        message is nudged at most once per source (a failed moderator nudge may be tried again).
        """
        moment = now or utc_now()
        stamp = to_iso(moment)
        async with self._db.transaction() as connection:
            existing = await _fetch_one(
                connection,
                "SELECT id, result FROM nudge WHERE guild_id = ? AND message_id = ? AND source = ?",
                (guild_id, message_id, source),
            )
            if existing is not None:
                if source == "moderator" and existing["result"] not in DELIVERED_RESULTS | {PENDING}:
                    await connection.execute(
                        "UPDATE nudge SET result = ?, codes = ?, updated_at = ? WHERE id = ?",
                        (PENDING, ",".join(codes), stamp, existing["id"]),
                    )
                    return NudgeClaim("claimed", int(existing["id"]))
                return NudgeClaim("already_nudged")
            if source == "auto":
                status = await _limit_reached(connection, guild_id, member_id, settings, moment)
                if status is not None:
                    return NudgeClaim(status)
            cursor = await connection.execute(
                "INSERT INTO nudge (guild_id, member_id, channel_id, message_id, codes, source, result,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (guild_id, member_id, channel_id, message_id, ",".join(codes), source, PENDING, stamp, stamp),
            )
            nudge_id = cursor.lastrowid
        if nudge_id is None:  # pragma: no cover - SQLite always reports the row id of an INSERT
            raise RuntimeError("SQLite did not return the new nudge id")
        return NudgeClaim("claimed", int(nudge_id))

    async def set_result(self, nudge_id: int, result: str, *, now: datetime | None = None) -> None:
        """Record how a nudge was delivered (or why it was not)."""
        await self._db.execute(
            "UPDATE nudge SET result = ?, updated_at = ? WHERE id = ?",
            (result, to_iso(now or utc_now()), nudge_id),
        )

    async def settle_interrupted(self, *, started_before: datetime, now: datetime | None = None) -> int:
        """Mark nudges still ``pending`` since before ``started_before`` as ``interrupted``; return how many.

        A nudge stays pending only if Heard stopped while delivering it, so on start-up these are settled
        (whether the DM went out is unknown, which is what ``interrupted`` says).
        """
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                "UPDATE nudge SET result = ?, updated_at = ? WHERE result = ? AND created_at < ?",
                (RESULT_INTERRUPTED, to_iso(now or utc_now()), PENDING, to_iso(started_before)),
            )
            return cursor.rowcount

    async def get(self, nudge_id: int) -> NudgeRecord | None:
        """Return one nudge record, or None."""
        row = await self._db.fetch_one("SELECT * FROM nudge WHERE id = ?", (nudge_id,))
        return None if row is None else _record(row)

    async def for_member(self, guild_id: int, member_id: int, *, limit: int = 50) -> list[NudgeRecord]:
        """Return this member's nudges in this guild, newest first."""
        rows = await self._db.fetch_all(
            "SELECT * FROM nudge WHERE guild_id = ? AND member_id = ? ORDER BY id DESC LIMIT ?",
            (guild_id, member_id, limit),
        )
        return [_record(row) for row in rows]

    async def for_message(self, guild_id: int, message_id: int) -> list[NudgeRecord]:
        """Return the nudges recorded for one message in this guild, oldest first."""
        rows = await self._db.fetch_all(
            "SELECT * FROM nudge WHERE guild_id = ? AND message_id = ? ORDER BY id",
            (guild_id, message_id),
        )
        return [_record(row) for row in rows]

    async def result_counts(self, guild_id: int, *, since: datetime) -> dict[str, int]:
        """Return how many nudges in this guild since ``since`` ended with each result."""
        rows = await self._db.fetch_all(
            "SELECT result, COUNT(*) AS n FROM nudge WHERE guild_id = ? AND created_at >= ? GROUP BY result",
            (guild_id, to_iso(since)),
        )
        return {str(row["result"]): int(row["n"]) for row in rows}


async def _fetch_one(
    connection: aiosqlite.Connection, sql: str, params: tuple[Any, ...]
) -> aiosqlite.Row | None:
    """Run a query on ``connection`` inside an open transaction and return its first row."""
    cursor = await connection.execute(sql, params)
    try:
        row: aiosqlite.Row | None = await cursor.fetchone()
        return row
    finally:
        await cursor.close()


async def _settings_in(connection: aiosqlite.Connection, guild_id: int) -> NudgeSettings:
    """Read the guild's settings inside an open transaction."""
    row = await _fetch_one(connection, "SELECT * FROM nudge_settings WHERE guild_id = ?", (guild_id,))
    return _settings_from_row(guild_id, row)


def _settings_from_row(guild_id: int, row: aiosqlite.Row | None) -> NudgeSettings:
    """Build the guild's settings from its row, or the defaults when there is none."""
    if row is None:
        return NudgeSettings(guild_id=guild_id)
    return NudgeSettings(
        guild_id=guild_id,
        dm_fallback="in_channel" if row["dm_fallback"] == "in_channel" else "nothing",
        exempt_role_id=row["exempt_role_id"],
        cooldown_minutes=int(row["cooldown_minutes"]),
        daily_cap=int(row["daily_cap"]),
    )


async def _limit_reached(
    connection: aiosqlite.Connection,
    guild_id: int,
    member_id: int,
    settings: NudgeSettings,
    moment: datetime,
) -> ClaimStatus | None:
    """Return "cooldown" or "daily_cap" if this member may not get an automatic nudge now, else None."""
    row = await _fetch_one(
        connection,
        "SELECT COUNT(*) AS n, MAX(created_at) AS latest FROM nudge"
        " WHERE guild_id = ? AND member_id = ? AND source = 'auto' AND created_at > ?",
        (guild_id, member_id, to_iso(moment - CAP_WINDOW)),
    )
    count = int(row["n"]) if row is not None else 0
    latest = row["latest"] if row is not None else None
    if count >= settings.daily_cap:
        return "daily_cap"
    cooldown = timedelta(minutes=settings.cooldown_minutes)
    if latest is not None and cooldown and datetime.fromisoformat(latest) > moment - cooldown:
        return "cooldown"
    return None


def _record(row: aiosqlite.Row) -> NudgeRecord:
    """Build a :class:`NudgeRecord` from a database row."""
    return NudgeRecord(
        id=int(row["id"]),
        guild_id=int(row["guild_id"]),
        member_id=int(row["member_id"]),
        channel_id=int(row["channel_id"]),
        message_id=int(row["message_id"]),
        codes=tuple(code for code in str(row["codes"]).split(",") if code),
        source="moderator" if row["source"] == "moderator" else "auto",
        result=str(row["result"]),
        created_at=str(row["created_at"]),
        updated_at=str(row["updated_at"]),
    )
