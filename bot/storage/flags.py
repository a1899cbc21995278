"""Moderation storage: per-guild alert options, flags of judgmental replies, and the decision audit trail.

A flag stores ids, codes, confidences and a status; the only text is an optional excerpt of the matched
spans (at most 200 characters). Recording a flag and queueing its alert happen in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

import aiosqlite

from bot.storage.alert_outbox import enqueue_edit, enqueue_send, iso, utc_now
from bot.storage.database import Database

Sensitivity = Literal["conservative", "balanced", "sensitive"]
SENSITIVITIES: tuple[str, ...] = ("conservative", "balanced", "sensitive")
FlagStatus = Literal["open", "resolved", "false_alarm", "nudged", "deleted"]
FLAG_STATUSES: tuple[str, ...] = ("open", "resolved", "false_alarm", "nudged", "deleted")
EXCERPT_LIMIT = 200


@dataclass(frozen=True, slots=True)
class ModerationSettings:
    """A guild's moderation options (defaults when the guild never changed them)."""

    guild_id: int
    sensitivity: str = "balanced"
    excerpts_enabled: bool = True
    dedup_window_minutes: int = 60
    crisis_message_window_minutes: int = 360
    disabled_codes: frozenset[str] = frozenset()
    permission_problem_reported_at: str | None = None

    def code_enabled(self, code: str) -> bool:
        """Return whether flags with ``code`` are raised in this guild."""
        return code not in self.disabled_codes


def _settings(row: aiosqlite.Row) -> ModerationSettings:
    """Build :class:`ModerationSettings` from a row."""
    codes = str(row["disabled_codes"] or "")
    return ModerationSettings(
        guild_id=int(row["guild_id"]),
        sensitivity=str(row["sensitivity"]),
        excerpts_enabled=bool(row["excerpts_enabled"]),
        dedup_window_minutes=int(row["dedup_window_minutes"]),
        crisis_message_window_minutes=int(row["crisis_message_window_minutes"]),
        disabled_codes=frozenset(code for code in codes.split(",") if code),
        permission_problem_reported_at=row["permission_problem_reported_at"],
    )


class ModerationSettingsRepository:
    """Reads and changes a guild's moderation options."""

    def __init__(self, db: Database) -> None:
        """Use ``db`` for every query."""
        self._db = db

    async def get(self, guild_id: int) -> ModerationSettings:
        """Return the guild's options, or the defaults."""
        row = await self._db.fetch_one("SELECT * FROM moderation_settings WHERE guild_id = ?", (guild_id,))
        return _settings(row) if row is not None else ModerationSettings(guild_id=guild_id)

    async def update(
        self,
        guild_id: int,
        *,
        sensitivity: str | None = None,
        excerpts_enabled: bool | None = None,
        dedup_window_minutes: int | None = None,
        crisis_message_window_minutes: int | None = None,
        enable_codes: Iterable[str] = (),
        disable_codes: Iterable[str] = (),
    ) -> ModerationSettings:
        """Change the given options (others stay) and return the result."""
        if sensitivity is not None and sensitivity not in SENSITIVITIES:
            raise ValueError(f"unknown sensitivity {sensitivity!r}")
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                "SELECT * FROM moderation_settings WHERE guild_id = ?", (guild_id,)
            )
            row = await cursor.fetchone()
            current = _settings(row) if row is not None else ModerationSettings(guild_id=guild_id)
            disabled = (set(current.disabled_codes) | set(disable_codes)) - set(enable_codes)
            updated = replace(
                current,
                sensitivity=sensitivity if sensitivity is not None else current.sensitivity,
                excerpts_enabled=current.excerpts_enabled if excerpts_enabled is None else excerpts_enabled,
                dedup_window_minutes=(
                    current.dedup_window_minutes if dedup_window_minutes is None else dedup_window_minutes
                ),
                crisis_message_window_minutes=(
                    current.crisis_message_window_minutes
                    if crisis_message_window_minutes is None
                    else crisis_message_window_minutes
                ),
                disabled_codes=frozenset(disabled),
            )
            await connection.execute(
                "INSERT INTO moderation_settings (guild_id, sensitivity, excerpts_enabled,"
                " dedup_window_minutes, crisis_message_window_minutes, disabled_codes, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (guild_id) DO UPDATE SET sensitivity = excluded.sensitivity,"
                " excerpts_enabled = excluded.excerpts_enabled,"
                " dedup_window_minutes = excluded.dedup_window_minutes,"
                " crisis_message_window_minutes = excluded.crisis_message_window_minutes,"
                " disabled_codes = excluded.disabled_codes, updated_at = excluded.updated_at",
                (
                    guild_id,
                    updated.sensitivity,
                    int(updated.excerpts_enabled),
                    updated.dedup_window_minutes,
                    updated.crisis_message_window_minutes,
                    ",".join(sorted(updated.disabled_codes)),
                    iso(utc_now()),
                ),
            )
        return updated

    async def claim_permission_report(self, guild_id: int) -> bool:
        """Return True exactly once per outage: the caller should tell the setup admin now."""
        async with self._db.transaction() as connection:
            await connection.execute(
                "INSERT INTO moderation_settings (guild_id, updated_at) VALUES (?, ?)"
                " ON CONFLICT (guild_id) DO NOTHING",
                (guild_id, iso(utc_now())),
            )
            cursor = await connection.execute(
                "UPDATE moderation_settings SET permission_problem_reported_at = ?"
                " WHERE guild_id = ? AND permission_problem_reported_at IS NULL",
                (iso(utc_now()), guild_id),
            )
            return cursor.rowcount == 1

    async def clear_permission_report(self, guild_id: int) -> None:
        """Forget a reported permission problem (an alert went through again)."""
        await self._db.execute(
            "UPDATE moderation_settings SET permission_problem_reported_at = NULL"
            " WHERE guild_id = ? AND permission_problem_reported_at IS NOT NULL",
            (guild_id,),
        )


@dataclass(frozen=True, slots=True)
class FlagCandidate:
    """A reply the engine flagged, after the guild's sensitivity and code switches were applied."""

    guild_id: int
    channel_id: int
    message_id: int
    author_id: int
    codes: tuple[tuple[str, float], ...]  # (code, confidence), strongest first
    post_channel_id: int | None = None
    post_message_id: int | None = None
    excerpt: str | None = None
    crisis_context: bool = False

    @property
    def confidence(self) -> float:
        """The highest confidence among the codes."""
        return max((confidence for _, confidence in self.codes), default=0.0)


@dataclass(frozen=True, slots=True)
class Flag:
    """A stored flag."""

    id: int
    guild_id: int
    channel_id: int
    message_id: int
    author_id: int
    post_channel_id: int | None
    post_message_id: int | None
    codes: tuple[str, ...]
    confidence: float
    excerpt: str | None
    crisis_context: bool
    status: str
    occurrences: int
    latest_channel_id: int
    latest_message_id: int
    decided_by: int | None
    decided_at: str | None
    created_at: str
    last_seen_at: str


def _flag(row: aiosqlite.Row) -> Flag:
    """Build a :class:`Flag` from a row."""
    return Flag(
        id=int(row["id"]),
        guild_id=int(row["guild_id"]),
        channel_id=int(row["channel_id"]),
        message_id=int(row["message_id"]),
        author_id=int(row["author_id"]),
        post_channel_id=row["post_channel_id"],
        post_message_id=row["post_message_id"],
        codes=tuple(code for code in str(row["codes"]).split(",") if code),
        confidence=float(row["confidence"]),
        excerpt=row["excerpt"],
        crisis_context=bool(row["crisis_context"]),
        status=str(row["status"]),
        occurrences=int(row["occurrences"]),
        latest_channel_id=int(row["latest_channel_id"]),
        latest_message_id=int(row["latest_message_id"]),
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
        created_at=str(row["created_at"]),
        last_seen_at=str(row["last_seen_at"]),
    )


@dataclass(frozen=True, slots=True)
class RecordedFlag:
    """The outcome of recording a candidate: the flag and whether it is new, merged, or a repeat."""

    flag: Flag
    outcome: Literal["created", "merged", "already_recorded"]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One moderator decision on a flag."""

    id: int
    guild_id: int
    flag_id: int
    actor_id: int
    action: str
    previous_status: str
    new_status: str
    detail: str
    created_at: str


def _audit(row: aiosqlite.Row) -> AuditEntry:
    """Build an :class:`AuditEntry` from a row."""
    return AuditEntry(
        id=int(row["id"]),
        guild_id=int(row["guild_id"]),
        flag_id=int(row["flag_id"]),
        actor_id=int(row["actor_id"]),
        action=str(row["action"]),
        previous_status=str(row["previous_status"]),
        new_status=str(row["new_status"]),
        detail=str(row["detail"]),
        created_at=str(row["created_at"]),
    )


@dataclass(frozen=True, slots=True)
class Decision:
    """A decision that was committed: the flag before and after, and its audit row."""

    before: Flag
    after: Flag
    audit: AuditEntry


@dataclass(frozen=True, slots=True)
class CodeStats:
    """Counts for one code over a period: flags in total and by outcome."""

    code: str
    total: int
    by_status: dict[str, int]

    @property
    def false_alarm_rate(self) -> float | None:
        """Share of decided flags that moderators called a false alarm (None when none was decided)."""
        decided = self.total - self.by_status.get("open", 0)
        if decided <= 0:
            return None
        return self.by_status.get("false_alarm", 0) / decided


class FlagRepository:
    """Stores flags, merges repeats within the dedup window, and records decisions with an audit row."""

    def __init__(self, db: Database) -> None:
        """Use ``db`` for every query."""
        self._db = db

    async def record(
        self, candidate: FlagCandidate, *, dedup_window_minutes: int, now: datetime | None = None
    ) -> RecordedFlag:
        """Store a flag (or merge it into this member's open flag with a shared code) and queue its alert.

        The flag row and the alert delivery are committed together. A message already recorded (a
        gateway replay) changes nothing.
        """
        moment = now or utc_now()
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                "SELECT f.* FROM flag_message m JOIN flag f ON f.id = m.flag_id"
                " WHERE m.message_id = ? AND f.guild_id = ?",
                (candidate.message_id, candidate.guild_id),
            )
            row = await cursor.fetchone()
            if row is not None:
                return RecordedFlag(flag=_flag(row), outcome="already_recorded")
            existing = await self._open_flag_to_merge(connection, candidate, dedup_window_minutes, moment)
            if existing is not None:
                flag_id = existing
                await self._merge(connection, flag_id, candidate, moment)
                await enqueue_edit(
                    connection, guild_id=candidate.guild_id, kind="flag", ref_id=flag_id, now=moment
                )
                outcome: Literal["created", "merged"] = "merged"
            else:
                flag_id = await self._insert(connection, candidate, moment)
                await enqueue_send(
                    connection, guild_id=candidate.guild_id, kind="flag", ref_id=flag_id, now=moment
                )
                outcome = "created"
            await connection.execute(
                "INSERT INTO flag_message (flag_id, channel_id, message_id, seen_at) VALUES (?, ?, ?, ?)",
                (flag_id, candidate.channel_id, candidate.message_id, iso(moment)),
            )
            cursor = await connection.execute("SELECT * FROM flag WHERE id = ?", (flag_id,))
            stored = await cursor.fetchone()
        assert stored is not None
        return RecordedFlag(flag=_flag(stored), outcome=outcome)

    async def _open_flag_to_merge(
        self,
        connection: aiosqlite.Connection,
        candidate: FlagCandidate,
        dedup_window_minutes: int,
        moment: datetime,
    ) -> int | None:
        """Return the id of this member's open flag sharing a code, seen within the window, or None."""
        if dedup_window_minutes <= 0:
            return None
        codes = [code for code, _ in candidate.codes]
        placeholders = ",".join("?" for _ in codes)
        cursor = await connection.execute(
            "SELECT f.id FROM flag f JOIN flag_code c ON c.flag_id = f.id"
            " WHERE f.guild_id = ? AND f.author_id = ? AND f.status = 'open' AND f.last_seen_at >= ?"
            f" AND c.code IN ({placeholders}) ORDER BY f.id DESC LIMIT 1",
            (
                candidate.guild_id,
                candidate.author_id,
                iso(moment - timedelta(minutes=dedup_window_minutes)),
                *codes,
            ),
        )
        row = await cursor.fetchone()
        return int(row["id"]) if row is not None else None

    async def _insert(
        self, connection: aiosqlite.Connection, candidate: FlagCandidate, moment: datetime
    ) -> int:
        """Insert a new flag row and its code rows; return the id."""
        cursor = await connection.execute(
            "INSERT INTO flag (guild_id, channel_id, message_id, author_id, post_channel_id, post_message_id,"
            " codes, confidence, excerpt, crisis_context, latest_channel_id, latest_message_id,"
            " created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                candidate.guild_id,
                candidate.channel_id,
                candidate.message_id,
                candidate.author_id,
                candidate.post_channel_id,
                candidate.post_message_id,
                ",".join(code for code, _ in candidate.codes),
                candidate.confidence,
                _clip_excerpt(candidate.excerpt),
                int(candidate.crisis_context),
                candidate.channel_id,
                candidate.message_id,
                iso(moment),
                iso(moment),
            ),
        )
        flag_id = int(cursor.lastrowid or 0)
        await connection.executemany(
            "INSERT INTO flag_code (flag_id, code, confidence) VALUES (?, ?, ?)",
            [(flag_id, code, confidence) for code, confidence in candidate.codes],
        )
        return flag_id

    async def _merge(
        self, connection: aiosqlite.Connection, flag_id: int, candidate: FlagCandidate, moment: datetime
    ) -> None:
        """Fold a repeat into an open flag: count, latest link, new codes, highest confidence."""
        for code, confidence in candidate.codes:
            await connection.execute(
                "INSERT INTO flag_code (flag_id, code, confidence) VALUES (?, ?, ?)"
                " ON CONFLICT (flag_id, code) DO UPDATE"
                " SET confidence = MAX(confidence, excluded.confidence)",
                (flag_id, code, confidence),
            )
        cursor = await connection.execute(
            "SELECT code, confidence FROM flag_code WHERE flag_id = ? ORDER BY confidence DESC, code",
            (flag_id,),
        )
        code_rows = list(await cursor.fetchall())
        await connection.execute(
            "UPDATE flag SET occurrences = occurrences + 1, latest_channel_id = ?, latest_message_id = ?,"
            " last_seen_at = ?, codes = ?, confidence = ?, crisis_context = MAX(crisis_context, ?),"
            " excerpt = CASE WHEN ? IS NULL THEN excerpt ELSE ? END WHERE id = ?",
            (
                candidate.channel_id,
                candidate.message_id,
                iso(moment),
                ",".join(str(row["code"]) for row in code_rows),
                max(float(row["confidence"]) for row in code_rows),
                int(candidate.crisis_context),
                _clip_excerpt(candidate.excerpt),
                _clip_excerpt(candidate.excerpt),
                flag_id,
            ),
        )

    async def get(self, guild_id: int, flag_id: int) -> Flag | None:
        """Return the flag with ``flag_id`` if it belongs to ``guild_id`` (never another guild's)."""
        row = await self._db.fetch_one(
            "SELECT * FROM flag WHERE id = ? AND guild_id = ?", (flag_id, guild_id)
        )
        return _flag(row) if row is not None else None

    async def get_any_guild(self, flag_id: int) -> Flag | None:
        """Return a flag by id whatever its guild (for the alert renderer, which knows the guild already)."""
        row = await self._db.fetch_one("SELECT * FROM flag WHERE id = ?", (flag_id,))
        return _flag(row) if row is not None else None

    async def code_confidences(self, flag_id: int) -> list[tuple[str, float]]:
        """Return (code, confidence) pairs of a flag, strongest first."""
        rows = await self._db.fetch_all(
            "SELECT code, confidence FROM flag_code WHERE flag_id = ? ORDER BY confidence DESC, code",
            (flag_id,),
        )
        return [(str(row["code"]), float(row["confidence"])) for row in rows]

    async def messages(self, flag_id: int) -> list[tuple[int, int]]:
        """Return (channel_id, message_id) of every message the flag covers, oldest first."""
        rows = await self._db.fetch_all(
            "SELECT channel_id, message_id FROM flag_message WHERE flag_id = ? ORDER BY seen_at, message_id",
            (flag_id,),
        )
        return [(int(row["channel_id"]), int(row["message_id"])) for row in rows]

    async def mark_message_deleted(
        self, guild_id: int, message_id: int, *, now: datetime | None = None
    ) -> int | None:
        """Note a flagged message was deleted on Discord, queue an alert refresh; return the flag id."""
        moment = now or utc_now()
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                "SELECT m.flag_id FROM flag_message m JOIN flag f ON f.id = m.flag_id"
                " WHERE m.message_id = ? AND f.guild_id = ? AND m.deleted_at IS NULL",
                (message_id, guild_id),
            )
            row = await cursor.fetchone()
            if row is None:
                return None
            flag_id = int(row["flag_id"])
            await connection.execute(
                "UPDATE flag_message SET deleted_at = ? WHERE flag_id = ? AND message_id = ?",
                (iso(moment), flag_id, message_id),
            )
            await enqueue_edit(connection, guild_id=guild_id, kind="flag", ref_id=flag_id, now=moment)
        return flag_id

    async def deleted_message_count(self, flag_id: int) -> tuple[int, int]:
        """Return (deleted, total) messages of a flag."""
        row = await self._db.fetch_one(
            "SELECT COUNT(deleted_at) AS deleted, COUNT(*) AS total FROM flag_message WHERE flag_id = ?",
            (flag_id,),
        )
        return (int(row["deleted"]), int(row["total"])) if row is not None else (0, 0)

    async def list_page(
        self,
        guild_id: int,
        *,
        status: str | None = "open",
        code: str | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> tuple[list[Flag], int]:
        """Return one page of the guild's flags (newest first) and the total matching the filters."""
        conditions = ["f.guild_id = ?"]
        params: list[object] = [guild_id]
        if status is not None:
            conditions.append("f.status = ?")
            params.append(status)
        if code is not None:
            conditions.append("EXISTS (SELECT 1 FROM flag_code c WHERE c.flag_id = f.id AND c.code = ?)")
            params.append(code)
        where = " AND ".join(conditions)
        total_row = await self._db.fetch_one(f"SELECT COUNT(*) AS n FROM flag f WHERE {where}", params)
        rows = await self._db.fetch_all(
            f"SELECT f.* FROM flag f WHERE {where} ORDER BY f.id DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [_flag(row) for row in rows], int(total_row["n"]) if total_row is not None else 0

    async def history(
        self, guild_id: int, author_id: int, *, before_flag_id: int | None, limit: int = 10
    ) -> list[Flag]:
        """Return this member's earlier flags in this guild (newest first)."""
        rows = await self._db.fetch_all(
            "SELECT * FROM flag WHERE guild_id = ? AND author_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
            (guild_id, author_id, before_flag_id if before_flag_id is not None else 2**63 - 1, limit),
        )
        return [_flag(row) for row in rows]

    async def decide(
        self,
        guild_id: int,
        flag_id: int,
        *,
        actor_id: int,
        action: str,
        new_status: str,
        detail: str = "",
        now: datetime | None = None,
    ) -> Decision | None:
        """Commit a moderator decision: the new status and an append-only audit row, together.

        Returns None if the flag does not exist in this guild.
        """
        if new_status not in FLAG_STATUSES:
            raise ValueError(f"unknown flag status {new_status!r}")
        moment = iso(now or utc_now())
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                "SELECT * FROM flag WHERE id = ? AND guild_id = ?", (flag_id, guild_id)
            )
            row = await cursor.fetchone()
            if row is None:
                return None
            before = _flag(row)
            cursor = await connection.execute(
                "INSERT INTO flag_audit (guild_id, flag_id, actor_id, action, previous_status, new_status,"
                " detail, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (guild_id, flag_id, actor_id, action, before.status, new_status, detail[:200], moment),
            )
            audit_id = int(cursor.lastrowid or 0)
            await connection.execute(
                "UPDATE flag SET status = ?, decided_by = ?, decided_at = ? WHERE id = ?",
                (new_status, actor_id, moment, flag_id),
            )
            cursor = await connection.execute("SELECT * FROM flag WHERE id = ?", (flag_id,))
            after_row = await cursor.fetchone()
            cursor = await connection.execute("SELECT * FROM flag_audit WHERE id = ?", (audit_id,))
            audit_row = await cursor.fetchone()
        assert after_row is not None and audit_row is not None
        return Decision(before=before, after=_flag(after_row), audit=_audit(audit_row))

    async def request_alert_refresh(self, flag: Flag, *, now: datetime | None = None) -> None:
        """Queue an edit of the flag's posted alert (used when editing it directly failed)."""
        async with self._db.transaction() as connection:
            await enqueue_edit(
                connection, guild_id=flag.guild_id, kind="flag", ref_id=flag.id, now=now or utc_now()
            )

    async def audit_trail(self, guild_id: int, flag_id: int) -> list[AuditEntry]:
        """Return the decisions on a flag, oldest first (only within ``guild_id``)."""
        rows = await self._db.fetch_all(
            "SELECT * FROM flag_audit WHERE flag_id = ? AND guild_id = ? ORDER BY id", (flag_id, guild_id)
        )
        return [_audit(row) for row in rows]

    async def stats(self, guild_id: int, *, since: datetime) -> list[CodeStats]:
        """Return per-code counts of flags raised since ``since``, split by outcome (status)."""
        rows = await self._db.fetch_all(
            "SELECT c.code AS code, f.status AS status, COUNT(*) AS n FROM flag f"
            " JOIN flag_code c ON c.flag_id = f.id WHERE f.guild_id = ? AND f.created_at >= ?"
            " GROUP BY c.code, f.status ORDER BY c.code",
            (guild_id, iso(since)),
        )
        by_code: dict[str, dict[str, int]] = {}
        for row in rows:
            by_code.setdefault(str(row["code"]), {})[str(row["status"])] = int(row["n"])
        return [
            CodeStats(code=code, total=sum(counts.values()), by_status=counts)
            for code, counts in by_code.items()
        ]

    async def counts_by_status(self, guild_id: int, *, since: datetime) -> dict[str, int]:
        """Return how many flags were raised since ``since`` per status."""
        rows = await self._db.fetch_all(
            "SELECT status, COUNT(*) AS n FROM flag WHERE guild_id = ? AND created_at >= ? GROUP BY status",
            (guild_id, iso(since)),
        )
        return {str(row["status"]): int(row["n"]) for row in rows}

    async def clear_excerpts(self, guild_id: int, *, now: datetime | None = None) -> int:
        """Remove the guild's stored excerpts and queue edits of their posted alerts; return how many."""
        moment = now or utc_now()
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                "SELECT id FROM flag WHERE guild_id = ? AND excerpt IS NOT NULL", (guild_id,)
            )
            flag_ids = [int(row["id"]) for row in await cursor.fetchall()]
            await connection.execute("UPDATE flag SET excerpt = NULL WHERE guild_id = ?", (guild_id,))
            for flag_id in flag_ids:
                await enqueue_edit(connection, guild_id=guild_id, kind="flag", ref_id=flag_id, now=moment)
        return len(flag_ids)


def _clip_excerpt(excerpt: str | None) -> str | None:
    """Return the excerpt limited to :data:`EXCERPT_LIMIT` characters (None stays None)."""
    if excerpt is None:
        return None
    excerpt = excerpt.strip()
    if not excerpt:
        return None
    return excerpt if len(excerpt) <= EXCERPT_LIMIT else excerpt[: EXCERPT_LIMIT - 1] + "…"
