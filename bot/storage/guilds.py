"""Per-guild configuration: the moderator channel and role, who ran setup, and the watched channels."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bot.storage.database import Database, utc_now_iso

WatchKind = Literal["text", "forum"]
WATCH_KINDS: tuple[str, ...] = ("text", "forum")


@dataclass(frozen=True, slots=True)
class WatchedChannel:
    """A channel Heard listens in: a text channel, or a forum whose threads are support threads."""

    channel_id: int
    kind: WatchKind


@dataclass(frozen=True, slots=True)
class GuildConfig:
    """One guild's configuration as stored (unset values are None)."""

    guild_id: int
    mod_channel_id: int | None = None
    mod_role_id: int | None = None
    setup_by_user_id: int | None = None
    watched: tuple[WatchedChannel, ...] = field(default=())

    @property
    def watched_channel_ids(self) -> frozenset[int]:
        """The ids of every watched channel."""
        return frozenset(channel.channel_id for channel in self.watched)

    @property
    def is_set_up(self) -> bool:
        """Whether ``/heard setup`` has chosen a moderator channel."""
        return self.mod_channel_id is not None


class GuildConfigRepository:
    """Reads and writes guild configuration; keeps a small per-instance cache of watched channels."""

    def __init__(self, db: Database) -> None:
        """Use ``db`` for every read and write."""
        self._db = db
        self._watched_cache: dict[int, frozenset[int]] = {}

    async def get(self, guild_id: int) -> GuildConfig:
        """Return the guild's configuration (an empty one if it was never set up)."""
        row = await self._db.fetch_one(
            "SELECT mod_channel_id, mod_role_id, setup_by_user_id FROM guild_config WHERE guild_id = ?",
            (guild_id,),
        )
        watched = await self._watched(guild_id)
        if row is None:
            return GuildConfig(guild_id=guild_id, watched=watched)
        return GuildConfig(
            guild_id=guild_id,
            mod_channel_id=row["mod_channel_id"],
            mod_role_id=row["mod_role_id"],
            setup_by_user_id=row["setup_by_user_id"],
            watched=watched,
        )

    async def set_moderation(
        self, guild_id: int, channel_id: int, role_id: int | None, by_user_id: int
    ) -> GuildConfig:
        """Store the moderator channel and role chosen by ``by_user_id``; return the new configuration."""
        now = utc_now_iso()
        await self._db.execute(
            "INSERT INTO guild_config"
            " (guild_id, mod_channel_id, mod_role_id, setup_by_user_id, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (guild_id) DO UPDATE SET mod_channel_id = excluded.mod_channel_id,"
            " mod_role_id = excluded.mod_role_id, setup_by_user_id = excluded.setup_by_user_id,"
            " updated_at = excluded.updated_at",
            (guild_id, channel_id, role_id, by_user_id, now, now),
        )
        return await self.get(guild_id)

    async def watch(
        self, guild_id: int, channel_id: int, kind: WatchKind, by_user_id: int | None = None
    ) -> bool:
        """Start watching a channel; return False if it was already watched (its kind is updated)."""
        if kind not in WATCH_KINDS:
            raise ValueError(f"kind must be one of {WATCH_KINDS}, not {kind!r}")
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                "SELECT 1 FROM watched_channel WHERE guild_id = ? AND channel_id = ?", (guild_id, channel_id)
            )
            existed = await cursor.fetchone() is not None
            await cursor.close()
            await connection.execute(
                "INSERT INTO watched_channel (guild_id, channel_id, kind, added_by_user_id, added_at)"
                " VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (guild_id, channel_id) DO UPDATE SET kind = excluded.kind",
                (guild_id, channel_id, kind, by_user_id, utc_now_iso()),
            )
        self._watched_cache.pop(guild_id, None)
        return not existed

    async def unwatch(self, guild_id: int, channel_id: int) -> bool:
        """Stop watching a channel; return False if it was not watched."""
        result = await self._db.execute(
            "DELETE FROM watched_channel WHERE guild_id = ? AND channel_id = ?", (guild_id, channel_id)
        )
        self._watched_cache.pop(guild_id, None)
        return result.rowcount > 0

    async def watched_channel_ids(self, guild_id: int) -> frozenset[int]:
        """Return the ids of the guild's watched channels (cached until the next watch/unwatch)."""
        cached = self._watched_cache.get(guild_id)
        if cached is None:
            cached = frozenset(channel.channel_id for channel in await self._watched(guild_id))
            self._watched_cache[guild_id] = cached
        return cached

    async def is_watched(self, guild_id: int, channel_id: int) -> bool:
        """Return whether ``channel_id`` is one of the guild's watched channels."""
        return channel_id in await self.watched_channel_ids(guild_id)

    async def forget_guild(self, guild_id: int) -> None:
        """Delete everything stored about a guild's configuration."""
        async with self._db.transaction() as connection:
            await connection.execute("DELETE FROM watched_channel WHERE guild_id = ?", (guild_id,))
            await connection.execute("DELETE FROM guild_config WHERE guild_id = ?", (guild_id,))
        self._watched_cache.pop(guild_id, None)

    async def _watched(self, guild_id: int) -> tuple[WatchedChannel, ...]:
        """Return the guild's watched channels in the order they were added."""
        rows = await self._db.fetch_all(
            "SELECT channel_id, kind FROM watched_channel WHERE guild_id = ? ORDER BY added_at, channel_id",
            (guild_id,),
        )
        return tuple(WatchedChannel(channel_id=row["channel_id"], kind=row["kind"]) for row in rows)
