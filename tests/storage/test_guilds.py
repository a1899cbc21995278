"""Guild configuration: moderation settings, watched channels, isolation between guilds, persistence."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage.database import Database
from bot.storage.guilds import GuildConfig, GuildConfigRepository, WatchedChannel

GUILD = 111
OTHER_GUILD = 222


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[GuildConfigRepository]:
    db = await Database.open(tmp_path / "heard.sqlite3")
    try:
        yield GuildConfigRepository(db)
    finally:
        await db.close()


async def test_unknown_guild_has_an_empty_config(repo: GuildConfigRepository) -> None:
    config = await repo.get(GUILD)
    assert config == GuildConfig(guild_id=GUILD)
    assert not config.is_set_up and config.watched_channel_ids == frozenset()


async def test_set_moderation_then_update(repo: GuildConfigRepository) -> None:
    config = await repo.set_moderation(GUILD, channel_id=10, role_id=20, by_user_id=30)
    assert (config.mod_channel_id, config.mod_role_id, config.setup_by_user_id) == (10, 20, 30)
    config = await repo.set_moderation(GUILD, channel_id=11, role_id=None, by_user_id=31)
    assert (config.mod_channel_id, config.mod_role_id, config.setup_by_user_id) == (11, None, 31)
    assert config.is_set_up


async def test_watch_and_unwatch(repo: GuildConfigRepository) -> None:
    assert await repo.watch(GUILD, 100, "text") is True
    assert await repo.watch(GUILD, 200, "forum") is True
    assert await repo.watch(GUILD, 100, "text") is False
    assert await repo.is_watched(GUILD, 100)
    assert (await repo.get(GUILD)).watched == (WatchedChannel(100, "text"), WatchedChannel(200, "forum"))
    assert await repo.unwatch(GUILD, 100) is True
    assert await repo.unwatch(GUILD, 100) is False
    assert not await repo.is_watched(GUILD, 100)
    assert await repo.watched_channel_ids(GUILD) == frozenset({200})


async def test_bad_kind_is_refused(repo: GuildConfigRepository) -> None:
    with pytest.raises(ValueError):
        await repo.watch(GUILD, 100, "voice")  # type: ignore[arg-type]


async def test_guilds_are_isolated(repo: GuildConfigRepository) -> None:
    await repo.set_moderation(GUILD, 10, 20, 30)
    await repo.watch(GUILD, 100, "text")
    assert await repo.get(OTHER_GUILD) == GuildConfig(guild_id=OTHER_GUILD)
    assert not await repo.is_watched(OTHER_GUILD, 100)
    assert await repo.unwatch(OTHER_GUILD, 100) is False
    assert await repo.is_watched(GUILD, 100)


async def test_config_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "heard.sqlite3"
    db = await Database.open(path)
    repo = GuildConfigRepository(db)
    await repo.set_moderation(GUILD, 10, 20, 30)
    await repo.watch(GUILD, 100, "forum")
    await db.close()

    db = await Database.open(path)
    try:
        config = await GuildConfigRepository(db).get(GUILD)
        assert config.mod_channel_id == 10 and config.watched == (WatchedChannel(100, "forum"),)
    finally:
        await db.close()


async def test_forget_guild(repo: GuildConfigRepository) -> None:
    await repo.set_moderation(GUILD, 10, 20, 30)
    await repo.watch(GUILD, 100, "text")
    await repo.forget_guild(GUILD)
    assert await repo.get(GUILD) == GuildConfig(guild_id=GUILD)
