"""The nudge repository: settings, member choices, cooldown, daily cap, and records without text."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.storage.database import Database
from bot.storage.nudges import (
    NudgeRepository,
    NudgeSettings,
)

GUILD = 1001
OTHER_GUILD = 1002
MEMBER = 2001
START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[NudgeRepository]:
    """A repository on a fresh database file."""
    db = await Database.open(tmp_path / "heard.sqlite3")
    try:
        yield NudgeRepository(db)
    finally:
        await db.close()


async def claim(
    repo: NudgeRepository,
    message_id: int,
    at: datetime,
    settings: NudgeSettings | None = None,
    *,
    guild_id: int = GUILD,
    source: str = "auto",
) -> str:
    """Try to claim a nudge for MEMBER and return the claim status."""
    result = await repo.claim(
        guild_id=guild_id,
        member_id=MEMBER,
        channel_id=3001,
        message_id=message_id,
        codes=("advice_unasked",),
        settings=settings or NudgeSettings(guild_id=guild_id),
        source="moderator" if source == "moderator" else "auto",
        now=at,
    )
    return result.status


async def test_settings_default_then_update_and_clear(repo: NudgeRepository) -> None:
    assert await repo.settings(GUILD) == NudgeSettings(guild_id=GUILD)
    updated = await repo.update_settings(
        GUILD, by_user_id=1, dm_fallback="in_channel", exempt_role_id=77, cooldown_minutes=3
    )
    assert updated == NudgeSettings(GUILD, "in_channel", 77, 3, 5)
    assert await repo.settings(GUILD) == updated
    cleared = await repo.update_settings(GUILD, by_user_id=1, exempt_role_id=None, daily_cap=2)
    assert cleared == NudgeSettings(GUILD, "in_channel", None, 3, 2)
    assert await repo.settings(OTHER_GUILD) == NudgeSettings(guild_id=OTHER_GUILD)


async def test_settings_reject_out_of_range_values(repo: NudgeRepository) -> None:
    with pytest.raises(ValueError, match="cooldown_minutes"):
        await repo.update_settings(GUILD, by_user_id=1, cooldown_minutes=-1)
    with pytest.raises(ValueError, match="daily_cap"):
        await repo.update_settings(GUILD, by_user_id=1, daily_cap=10_000)
    assert await repo.settings(GUILD) == NudgeSettings(guild_id=GUILD)


async def test_cooldown_blocks_until_it_has_passed(repo: NudgeRepository) -> None:
    assert await claim(repo, 1, START) == "claimed"
    assert await claim(repo, 2, START + timedelta(minutes=9)) == "cooldown"
    assert await claim(repo, 3, START + timedelta(minutes=10)) == "claimed"


async def test_daily_cap_counts_the_last_24_hours(repo: NudgeRepository) -> None:
    settings = NudgeSettings(guild_id=GUILD, cooldown_minutes=0, daily_cap=3)
    statuses = [await claim(repo, n, START + timedelta(minutes=n), settings) for n in range(1, 6)]
    assert statuses == ["claimed", "claimed", "claimed", "daily_cap", "daily_cap"]
    assert await claim(repo, 9, START + timedelta(hours=24, minutes=2), settings) == "claimed"


async def test_cap_and_cooldown_are_per_guild(repo: NudgeRepository) -> None:
    assert await claim(repo, 1, START) == "claimed"
    assert await claim(repo, 2, START, guild_id=OTHER_GUILD) == "claimed"


async def test_a_message_is_nudged_once_per_source(repo: NudgeRepository) -> None:
    settings = NudgeSettings(guild_id=GUILD, cooldown_minutes=0)
    assert await claim(repo, 1, START, settings) == "claimed"
    assert await claim(repo, 1, START + timedelta(hours=1), settings) == "already_nudged"
    assert await claim(repo, 1, START, settings, source="moderator") == "claimed"


async def test_moderator_nudges_skip_cooldown_and_may_retry_after_failure(repo: NudgeRepository) -> None:
    assert await claim(repo, 1, START) == "claimed"
    first = await repo.claim(
        guild_id=GUILD,
        member_id=MEMBER,
        channel_id=3001,
        message_id=2,
        codes=("directing",),
        settings=NudgeSettings(guild_id=GUILD),
        source="moderator",
        now=START,
    )
    assert first.granted and first.nudge_id is not None
    await repo.set_result(first.nudge_id, "failed", now=START)
    assert await claim(repo, 2, START, source="moderator") == "claimed"
    await repo.set_result(first.nudge_id, "dm", now=START)
    assert await claim(repo, 2, START, source="moderator") == "already_nudged"


async def test_record_holds_ids_codes_result_and_time_only(repo: NudgeRepository) -> None:
    result = await repo.claim(
        guild_id=GUILD,
        member_id=MEMBER,
        channel_id=3001,
        message_id=42,
        codes=("advice_unasked", "minimizing"),
        settings=NudgeSettings(guild_id=GUILD),
        now=START,
    )
    assert result.nudge_id is not None
    record = await repo.get(result.nudge_id)
    assert record is not None
    assert (record.guild_id, record.member_id, record.channel_id, record.message_id) == (
        GUILD,
        MEMBER,
        3001,
        42,
    )
    assert record.codes == ("advice_unasked", "minimizing")
    assert record.result == "pending"
    assert record.created_at == "2026-11-26T09:00:00+00:00"
    await repo.set_result(result.nudge_id, "dm", now=START + timedelta(seconds=2))
    updated = await repo.get(result.nudge_id)
    assert updated is not None and updated.result == "dm"
    assert await repo.result_counts(GUILD, since=START - timedelta(days=7)) == {"dm": 1}
    assert await repo.result_counts(OTHER_GUILD, since=START - timedelta(days=7)) == {}
    assert [r.id for r in await repo.for_message(GUILD, 42)] == [result.nudge_id]
    assert [r.id for r in await repo.for_member(GUILD, MEMBER)] == [result.nudge_id]


async def test_opt_out_and_intro_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "heard.sqlite3"
    db = await Database.open(path)
    repo = NudgeRepository(db)
    assert not await repo.is_opted_out(MEMBER)
    assert await repo.needs_intro(MEMBER)
    await repo.set_opted_out(MEMBER, True)
    await repo.mark_intro_sent(MEMBER)
    await db.close()

    db = await Database.open(path)
    repo = NudgeRepository(db)
    assert await repo.is_opted_out(MEMBER)
    assert not await repo.needs_intro(MEMBER)
    await repo.set_opted_out(MEMBER, False)
    assert not await repo.is_opted_out(MEMBER)
    assert not await repo.needs_intro(MEMBER)
    await db.close()


async def test_cooldown_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "heard.sqlite3"
    db = await Database.open(path)
    assert await claim(NudgeRepository(db), 1, START) == "claimed"
    await db.close()
    db = await Database.open(path)
    assert await claim(NudgeRepository(db), 2, START + timedelta(minutes=1)) == "cooldown"
    await db.close()


async def test_pending_nudges_left_by_a_crash_are_settled_as_interrupted(repo: NudgeRepository) -> None:
    settings = NudgeSettings(guild_id=GUILD, cooldown_minutes=0)
    old = await repo.claim(
        guild_id=GUILD,
        member_id=MEMBER,
        channel_id=1,
        message_id=1,
        codes=("directing",),
        settings=settings,
        now=START,
    )
    delivered = await repo.claim(
        guild_id=GUILD,
        member_id=MEMBER,
        channel_id=1,
        message_id=2,
        codes=("directing",),
        settings=settings,
        now=START,
    )
    recent = await repo.claim(
        guild_id=GUILD,
        member_id=MEMBER,
        channel_id=1,
        message_id=3,
        codes=("directing",),
        settings=settings,
        now=START + timedelta(minutes=5),
    )
    assert old.nudge_id and delivered.nudge_id and recent.nudge_id
    await repo.set_result(delivered.nudge_id, "dm", now=START)
    settled = await repo.settle_interrupted(started_before=START + timedelta(minutes=1))
    assert settled == 1
    results = {r.message_id: r.result for r in await repo.for_member(GUILD, MEMBER)}
    assert results == {1: "interrupted", 2: "dm", 3: "pending"}
    assert await repo.settle_interrupted(started_before=START + timedelta(minutes=1)) == 0
