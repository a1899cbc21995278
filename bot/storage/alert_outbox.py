"""The alert outbox: stored alert posts and edits, claimed with a lease and retried until delivered.

A row is written in the same transaction as the flag or crisis row it announces, so nothing accepted is
lost. A worker *claims* a due row (a lease with an expiry), marks it ``in_flight`` just before calling
Discord, and records the delivered message id when Discord answers. A row whose lease expired while
``in_flight`` may or may not have reached Discord; the worker reconciles it (looks for the alert in the
channel) before sending again, so every alert is delivered exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import aiosqlite

from bot.storage.database import Database

AlertKind = Literal["flag", "crisis"]
Operation = Literal["send", "edit"]


def iso(moment: datetime) -> str:
    """Return ``moment`` as fixed-width UTC ISO-8601 text with microseconds (sortable as text)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def utc_now() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One stored alert delivery: post a new alert (``send``) or refresh a posted one (``edit``)."""

    id: int
    guild_id: int
    kind: AlertKind
    ref_id: int
    operation: Operation
    state: str
    attempts: int
    in_flight: bool
    channel_id: int | None
    message_id: int | None
    last_error: str | None
    created_at: str
    done_at: str | None


def _item(row: aiosqlite.Row) -> OutboxItem:
    """Build an :class:`OutboxItem` from a row."""
    return OutboxItem(
        id=int(row["id"]),
        guild_id=int(row["guild_id"]),
        kind=row["kind"],
        ref_id=int(row["ref_id"]),
        operation=row["operation"],
        state=str(row["state"]),
        attempts=int(row["attempts"]),
        in_flight=bool(row["in_flight"]),
        channel_id=row["channel_id"],
        message_id=row["message_id"],
        last_error=row["last_error"],
        created_at=str(row["created_at"]),
        done_at=row["done_at"],
    )


async def enqueue_send(
    connection: aiosqlite.Connection, *, guild_id: int, kind: AlertKind, ref_id: int, now: datetime
) -> int:
    """Inside an open transaction, store the delivery of a new alert; return the outbox id."""
    cursor = await connection.execute(
        "INSERT INTO alert_outbox (guild_id, kind, ref_id, operation, next_attempt_at, created_at)"
        " VALUES (?, ?, ?, 'send', ?, ?)",
        (guild_id, kind, ref_id, iso(now), iso(now)),
    )
    return int(cursor.lastrowid or 0)


async def enqueue_edit(
    connection: aiosqlite.Connection, *, guild_id: int, kind: AlertKind, ref_id: int, now: datetime
) -> int | None:
    """Inside an open transaction, store a refresh of an alert; return the outbox id or None.

    Alerts are rendered from the database when they are sent, so nothing is stored while a post or edit
    of the same alert is waiting and not yet taken by a worker (it will show the latest state). If one is
    being delivered right now (its render may predate this change), a new edit is queued after it; an
    edit queued before the post is confirmed waits for it.
    """
    cursor = await connection.execute(
        "SELECT 1 FROM alert_outbox WHERE kind = ? AND ref_id = ? AND state = 'pending'"
        " AND (lease_until IS NULL OR lease_until <= ?)",
        (kind, ref_id, iso(now)),
    )
    if await cursor.fetchone() is not None:
        return None
    cursor = await connection.execute(
        "SELECT 1 FROM alert_outbox WHERE kind = ? AND ref_id = ? AND operation = 'send'"
        " AND state != 'dropped'",
        (kind, ref_id),
    )
    if await cursor.fetchone() is None:
        return None
    cursor = await connection.execute(
        "INSERT INTO alert_outbox (guild_id, kind, ref_id, operation, next_attempt_at, created_at)"
        " VALUES (?, ?, ?, 'edit', ?, ?)",
        (guild_id, kind, ref_id, iso(now), iso(now)),
    )
    return int(cursor.lastrowid or 0)


class AlertOutboxRepository:
    """Claims, completes and reschedules stored alert deliveries."""

    def __init__(self, db: Database) -> None:
        """Use ``db`` for every query."""
        self._db = db

    async def due_ids(self, *, now: datetime | None = None, limit: int = 20) -> list[int]:
        """Return ids of pending rows whose next attempt is due and whose lease (if any) has expired."""
        moment = iso(now or utc_now())
        rows = await self._db.fetch_all(
            "SELECT id FROM alert_outbox WHERE state = 'pending' AND next_attempt_at <= ?"
            " AND (lease_until IS NULL OR lease_until <= ?) ORDER BY next_attempt_at, id LIMIT ?",
            (moment, moment, limit),
        )
        return [int(row["id"]) for row in rows]

    async def next_due_at(self) -> datetime | None:
        """Return when the earliest pending row becomes due (its retry time or lease expiry), or None."""
        row = await self._db.fetch_one(
            "SELECT MIN(CASE WHEN lease_until IS NOT NULL AND lease_until > next_attempt_at"
            " THEN lease_until ELSE next_attempt_at END) AS due FROM alert_outbox WHERE state = 'pending'"
        )
        if row is None or row["due"] is None:
            return None
        return datetime.fromisoformat(str(row["due"]))

    async def claim(
        self, outbox_id: int, *, worker: str, lease_seconds: float, now: datetime | None = None
    ) -> OutboxItem | None:
        """Take the lease on one due row for ``worker``; return it, or None if someone else holds it."""
        moment = now or utc_now()
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                "UPDATE alert_outbox SET lease_owner = ?, lease_until = ?, attempts = attempts + 1"
                " WHERE id = ? AND state = 'pending' AND next_attempt_at <= ?"
                " AND (lease_until IS NULL OR lease_until <= ?)",
                (worker, iso(moment + timedelta(seconds=lease_seconds)), outbox_id, iso(moment), iso(moment)),
            )
            if cursor.rowcount != 1:
                return None
            cursor = await connection.execute("SELECT * FROM alert_outbox WHERE id = ?", (outbox_id,))
            row = await cursor.fetchone()
        return _item(row) if row is not None else None

    async def mark_in_flight(self, outbox_id: int, *, worker: str) -> bool:
        """Record that a send is about to reach Discord; False if the lease was lost meanwhile."""
        result = await self._db.execute(
            "UPDATE alert_outbox SET in_flight = 1 WHERE id = ? AND lease_owner = ? AND state = 'pending'",
            (outbox_id, worker),
        )
        return result.rowcount == 1

    async def complete(
        self, outbox_id: int, *, worker: str, channel_id: int, message_id: int, now: datetime | None = None
    ) -> bool:
        """Record a confirmed delivery; return False if this worker no longer held the lease."""
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                "UPDATE alert_outbox SET state = 'done', in_flight = 0, channel_id = ?, message_id = ?,"
                " done_at = ?, lease_owner = NULL, lease_until = NULL, last_error = NULL"
                " WHERE id = ? AND lease_owner = ? AND state = 'pending'",
                (channel_id, message_id, iso(now or utc_now()), outbox_id, worker),
            )
            return cursor.rowcount == 1

    async def reschedule(
        self,
        outbox_id: int,
        *,
        worker: str,
        retry_in_seconds: float,
        error: str,
        delivered_unknown: bool = False,
        now: datetime | None = None,
    ) -> None:
        """Release the lease after a failed attempt and set the next attempt time.

        ``delivered_unknown`` keeps ``in_flight`` set: the send may have reached Discord.
        """
        moment = now or utc_now()
        await self._db.execute(
            "UPDATE alert_outbox SET lease_owner = NULL, lease_until = NULL, next_attempt_at = ?,"
            " in_flight = ?, last_error = ? WHERE id = ? AND lease_owner = ? AND state = 'pending'",
            (
                iso(moment + timedelta(seconds=retry_in_seconds)),
                1 if delivered_unknown else 0,
                error[:200],
                outbox_id,
                worker,
            ),
        )

    async def drop(self, outbox_id: int, *, worker: str, reason: str, now: datetime | None = None) -> None:
        """Give up on a row that can never succeed (e.g. its flag was deleted on request)."""
        await self._db.execute(
            "UPDATE alert_outbox SET state = 'dropped', lease_owner = NULL, lease_until = NULL,"
            " in_flight = 0, last_error = ?, done_at = ? WHERE id = ? AND lease_owner = ?",
            (reason[:200], iso(now or utc_now()), outbox_id, worker),
        )

    async def retry_now(self, guild_id: int, *, now: datetime | None = None) -> int:
        """Make the guild's waiting deliveries due at once (e.g. after a new moderator channel was set)."""
        result = await self._db.execute(
            "UPDATE alert_outbox SET next_attempt_at = ? WHERE guild_id = ? AND state = 'pending'"
            " AND next_attempt_at > ?",
            (iso(now or utc_now()), guild_id, iso(now or utc_now())),
        )
        return result.rowcount

    async def edits_due_now(self, kind: AlertKind, ref_id: int, *, now: datetime | None = None) -> None:
        """Make the waiting edits of an alert due at once (its post was just confirmed)."""
        moment = iso(now or utc_now())
        await self._db.execute(
            "UPDATE alert_outbox SET next_attempt_at = ? WHERE kind = ? AND ref_id = ? AND operation = 'edit'"
            " AND state = 'pending' AND next_attempt_at > ?",
            (moment, kind, ref_id, moment),
        )

    async def release_all(self, *, worker: str) -> None:
        """Give back every lease ``worker`` holds (clean shutdown), keeping ``in_flight`` as it is."""
        await self._db.execute(
            "UPDATE alert_outbox SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?"
            " AND state = 'pending'",
            (worker,),
        )

    async def delivered(self, kind: AlertKind, ref_id: int) -> OutboxItem | None:
        """Return the completed ``send`` of an alert (with its channel and message id), or None."""
        row = await self._db.fetch_one(
            "SELECT * FROM alert_outbox WHERE kind = ? AND ref_id = ? AND operation = 'send'"
            " AND state = 'done'",
            (kind, ref_id),
        )
        return _item(row) if row is not None else None

    async def send_state(self, kind: AlertKind, ref_id: int) -> str | None:
        """Return the state of an alert's post (``pending``, ``done``, ``dropped``), or None if none."""
        row = await self._db.fetch_one(
            "SELECT state FROM alert_outbox WHERE kind = ? AND ref_id = ? AND operation = 'send'",
            (kind, ref_id),
        )
        return str(row["state"]) if row is not None else None

    async def get(self, outbox_id: int) -> OutboxItem | None:
        """Return one outbox row."""
        row = await self._db.fetch_one("SELECT * FROM alert_outbox WHERE id = ?", (outbox_id,))
        return _item(row) if row is not None else None

    async def pending_count(self, guild_id: int | None = None) -> int:
        """Return how many deliveries are still waiting (for one guild, or all)."""
        if guild_id is None:
            row = await self._db.fetch_one("SELECT COUNT(*) AS n FROM alert_outbox WHERE state = 'pending'")
        else:
            row = await self._db.fetch_one(
                "SELECT COUNT(*) AS n FROM alert_outbox WHERE state = 'pending' AND guild_id = ?", (guild_id,)
            )
        return int(row["n"]) if row is not None else 0

    async def sends(self) -> list[OutboxItem]:
        """Return every ``send`` row, oldest first (for benchmarks and tests)."""
        rows = await self._db.fetch_all("SELECT * FROM alert_outbox WHERE operation = 'send' ORDER BY id")
        return [_item(row) for row in rows]
