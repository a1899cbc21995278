"""Private listening nudges through the sandbox with the real discord.py client, engine and SQLite file."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.bot import HeardBot
from tests.cogs.member_helpers import (
    ADVICE,
    ADVICE_WORDS,
    KIND,
    OTHER_ADVICE,
    POST,
    SOFTWARE_LINE,
    TIMEOUT,
    Decisions,
    answer,
    database_bytes,
    dms_to,
    expected_try_instead,
    nudge_rows,
    wait_for_dm,
)
from tests.conftest import configure_guild

StartHeard = Callable[..., Awaitable[HeardBot]]


def nudges_cog(bot: HeardBot) -> Any:
    """Return the loaded nudges cog (discord.py loads extensions as fresh modules, so no isinstance)."""
    cog = bot.get_cog("Nudges")
    assert cog is not None and type(cog).__name__ == "Nudges"
    return cog


@pytest.fixture
async def decisions() -> Decisions:
    """A fresh decision log (attach it to each bot you start)."""
    return Decisions()


@pytest.fixture
async def bot(sandbox: Any, start_heard: StartHeard, decisions: Decisions) -> HeardBot:
    """Heard, set up with #support and the vent forum watched, and its decisions recorded."""
    heard = await start_heard()
    decisions.attach(heard)
    await configure_guild(sandbox)
    return heard


async def post_and_reply(sandbox: Any, replier: Any, text: str = ADVICE) -> tuple[Any, Any]:
    """Alex posts in #support and ``replier`` answers with a Discord reply; return both records."""
    scene = sandbox.scene
    post = await sandbox.member_says(scene.alex, scene.support, POST)
    reply = await sandbox.member_says(replier, scene.support, text, reply_to=post.id)
    return post, reply


async def test_advice_reply_gets_a_private_dm_nudge_and_a_record_without_text(
    sandbox: Any, bot: HeardBot, decisions: Decisions, db_path: Path
) -> None:
    scene = sandbox.scene
    _, reply = await post_and_reply(sandbox, scene.sam)
    dm = await wait_for_dm(sandbox, scene.sam)
    assert await decisions.wait(reply.id) == "dm"
    text = dm.content
    assert "Hi, I'm **Heard**" in text  # the first nudge introduces Heard
    assert f"<#{scene.support.id}>" in text and "jumps to advice" in text
    assert expected_try_instead() in text
    assert "A reflection you could open with:" in text
    assert SOFTWARE_LINE in text
    assert "/nudges off" in text
    assert not [m for m in sandbox.messages_in(scene.support.id) if m.author_id == sandbox.bot_user.id]
    (row,) = nudge_rows(db_path)
    assert row["guild_id"] == scene.guild.id and row["member_id"] == scene.sam.id
    assert row["channel_id"] == scene.support.id and row["message_id"] == reply.id
    assert "advice_unasked" in row["codes"].split(",") and row["result"] == "dm"
    assert row["created_at"].endswith("+00:00")
    assert ADVICE_WORDS.encode() not in database_bytes(db_path)
    assert b"barely sleep" not in database_bytes(db_path)


async def test_only_the_first_nudge_introduces_heard(
    sandbox: Any, bot: HeardBot, decisions: Decisions
) -> None:
    scene = sandbox.scene
    await answer(sandbox, scene.admin, "heard nudges", cooldown_minutes=0)
    await post_and_reply(sandbox, scene.sam)
    first_dm = await wait_for_dm(sandbox, scene.sam)
    _, second = await post_and_reply(sandbox, scene.sam, OTHER_ADVICE)
    assert await decisions.wait(second.id) == "dm"
    second_dm = await wait_for_dm(sandbox, scene.sam, after=[first_dm.id])
    assert "Hi, I'm **Heard**" in first_dm.content
    assert "Hi, I'm **Heard**" not in second_dm.content
    assert "/nudges off" in second_dm.content


async def test_a_kind_reply_gets_nothing(
    sandbox: Any, bot: HeardBot, decisions: Decisions, db_path: Path
) -> None:
    _, reply = await post_and_reply(sandbox, sandbox.scene.sam, KIND)
    assert await decisions.wait(reply.id) == "nothing_to_nudge"
    assert dms_to(sandbox, sandbox.scene.sam) == []
    assert nudge_rows(db_path) == []


async def test_the_poster_is_never_nudged_about_their_own_post(
    sandbox: Any, bot: HeardBot, decisions: Decisions
) -> None:
    scene = sandbox.scene
    post = await sandbox.member_says(scene.alex, scene.support, POST)
    own_reply = await sandbox.member_says(scene.alex, scene.support, ADVICE, reply_to=post.id)
    assert await decisions.wait(own_reply.id) == "not_a_reply_to_someone_else"
    thread = await sandbox.start_thread(scene.alex, scene.vent, "so tired", POST)
    in_own_thread = await sandbox.member_says(scene.alex, thread, ADVICE)
    assert await decisions.wait(in_own_thread.id) in {"not_a_reply_to_someone_else", "own_post"}
    assert dms_to(sandbox, scene.alex) == []


async def test_a_reply_in_someone_elses_forum_thread_is_nudged(
    sandbox: Any, bot: HeardBot, decisions: Decisions
) -> None:
    scene = sandbox.scene
    thread = await sandbox.start_thread(scene.alex, scene.vent, "so tired", POST)
    reply = await sandbox.member_says(scene.sam, thread, ADVICE)
    dm = await wait_for_dm(sandbox, scene.sam)
    assert await decisions.wait(reply.id) == "dm"
    assert f"<#{thread.id}>" in dm.content


async def test_unwatched_channels_are_ignored(sandbox: Any, bot: HeardBot, decisions: Decisions) -> None:
    scene = sandbox.scene
    post = await sandbox.member_says(scene.alex, scene.general, POST)
    reply = await sandbox.member_says(scene.sam, scene.general, ADVICE, reply_to=post.id)
    assert await decisions.wait(reply.id) == "ignored:not_a_support_space"
    assert dms_to(sandbox, scene.sam) == []


async def test_nudges_pause_where_there_are_crisis_signals(
    sandbox: Any, bot: HeardBot, decisions: Decisions, db_path: Path
) -> None:
    scene = sandbox.scene
    post = await sandbox.member_says(
        scene.alex, scene.support, "i don't want to be here anymore. everyone would be better off without me"
    )
    reply = await sandbox.member_says(scene.sam, scene.support, ADVICE, reply_to=post.id)
    assert await decisions.wait(reply.id) == "paused_for_crisis"
    assert dms_to(sandbox, scene.sam) == []
    assert nudge_rows(db_path) == []


async def test_exempt_role_is_never_nudged(sandbox: Any, bot: HeardBot, decisions: Decisions) -> None:
    scene = sandbox.scene
    response = await answer(sandbox, scene.admin, "heard nudges", exempt_role=scene.mod_role)
    assert response.ephemeral and "Saved" in response.content
    _, reply = await post_and_reply(sandbox, scene.moderator)
    assert await decisions.wait(reply.id) == "skipped_exempt"
    assert dms_to(sandbox, scene.moderator) == []
    cleared = await answer(sandbox, scene.admin, "heard nudges", clear_exempt_role=True)
    assert cleared.ephemeral and "Exempt role: none" in cleared.content
    _, after = await post_and_reply(sandbox, scene.moderator)
    assert await decisions.wait(after.id) == "dm"


async def test_cooldown_then_daily_cap(sandbox: Any, bot: HeardBot, decisions: Decisions) -> None:
    scene = sandbox.scene
    cog = nudges_cog(bot)
    start = cog.clock()
    cog.clock = lambda: start
    _, first = await post_and_reply(sandbox, scene.sam)
    assert await decisions.wait(first.id) == "dm"
    _, second = await post_and_reply(sandbox, scene.sam, OTHER_ADVICE)
    assert await decisions.wait(second.id) == "skipped_cooldown"
    results = []
    for minutes in (10, 20, 30, 40, 50):
        cog.clock = lambda minutes=minutes: start + timedelta(minutes=minutes)
        _, reply = await post_and_reply(sandbox, scene.sam)
        results.append(await decisions.wait(reply.id))
    assert results == ["dm", "dm", "dm", "dm", "skipped_daily_cap"]
    assert len(dms_to(sandbox, scene.sam)) == 5
    cog.clock = lambda: start + timedelta(hours=24, minutes=1)
    _, next_day = await post_and_reply(sandbox, scene.sam)
    assert await decisions.wait(next_day.id) == "dm"


async def test_cap_and_cooldown_follow_the_guild_settings(
    sandbox: Any, bot: HeardBot, decisions: Decisions, db_path: Path
) -> None:
    scene = sandbox.scene
    response = await answer(sandbox, scene.admin, "heard nudges", cooldown_minutes=0, daily_cap=2)
    assert response.ephemeral and "0 minutes" in response.content and "2 per member" in response.content
    results = []
    for _ in range(3):
        _, reply = await post_and_reply(sandbox, scene.sam)
        results.append(await decisions.wait(reply.id))
    assert results == ["dm", "dm", "skipped_daily_cap"]
    assert [row["result"] for row in nudge_rows(db_path)] == ["dm", "dm"]


async def test_opt_out_is_ephemeral_and_survives_a_restart(
    sandbox: Any, start_heard: StartHeard, bot: HeardBot, decisions: Decisions, db_path: Path
) -> None:
    scene = sandbox.scene
    off = await answer(sandbox, scene.sam, "nudges off")
    assert off.ephemeral and "won't send you listening tips" in off.content
    status = await answer(sandbox, scene.sam, "nudges status")
    assert status.ephemeral and "**off**" in status.content
    _, reply = await post_and_reply(sandbox, scene.sam)
    assert await decisions.wait(reply.id) == "skipped_opted_out"

    await bot.close()
    restarted = await start_heard(db_path=db_path)
    decisions.attach(restarted)
    _, after_restart = await post_and_reply(sandbox, scene.sam)
    assert await decisions.wait(after_restart.id) == "skipped_opted_out"
    assert dms_to(sandbox, scene.sam) == []

    on = await answer(sandbox, scene.sam, "nudges on")
    assert on.ephemeral and "again" in on.content
    _, back_on = await post_and_reply(sandbox, scene.sam)
    assert await decisions.wait(back_on.id) == "dm"
    assert len(dms_to(sandbox, scene.sam)) == 1


async def test_closed_dms_with_fallback_nothing_posts_nothing(
    sandbox: Any, bot: HeardBot, decisions: Decisions, db_path: Path
) -> None:
    scene = sandbox.scene
    sandbox.world.set_dms_closed(scene.sam)
    _, reply = await post_and_reply(sandbox, scene.sam)
    assert await decisions.wait(reply.id) == "dms_closed"
    assert not [m for m in sandbox.messages_in(scene.support.id) if m.author_id == sandbox.bot_user.id]
    assert [row["result"] for row in nudge_rows(db_path)] == ["dms_closed"]


async def test_closed_dms_with_in_channel_fallback_shows_a_tip_only_the_replier_can_open_even_after_restart(
    sandbox: Any, start_heard: StartHeard, bot: HeardBot, decisions: Decisions, db_path: Path
) -> None:
    scene = sandbox.scene
    response = await answer(sandbox, scene.admin, "heard nudges", dm_fallback="in_channel")
    assert response.ephemeral and "tip button" in response.content
    sandbox.world.set_dms_closed(scene.sam)
    _, reply = await post_and_reply(sandbox, scene.sam)
    note = await sandbox.wait_for_message(
        lambda m: m.channel_id == scene.support.id and m.author_id == sandbox.bot_user.id, timeout=TIMEOUT
    )
    assert await decisions.wait(reply.id) == "in_channel"
    assert "private listening tip" in note.content and ADVICE_WORDS not in note.content
    (sent,) = [
        call
        for call in sandbox.calls
        if call.method == "POST" and call.path.endswith(f"/channels/{scene.support.id}/messages")
    ]
    assert sent.json["allowed_mentions"]["parse"] == []  # pings nobody
    assert not sent.json["allowed_mentions"].get("users")
    (custom_id,) = note.custom_ids()
    assert custom_id.startswith(f"heard:tip:{scene.sam.id}:")

    await bot.close()
    restarted = await start_heard(db_path=db_path)
    decisions.attach(restarted)

    someone_else = await sandbox.click(scene.jo, note, custom_id)
    refusal = await someone_else.response(timeout=TIMEOUT)
    assert refusal.ephemeral and "for someone else" in refusal.content

    own = await sandbox.click(scene.sam, note, custom_id)
    first = await own.response(timeout=TIMEOUT)
    assert first.ephemeral
    tip = await own.original(timeout=TIMEOUT)
    assert "jumps to advice" in tip.content and expected_try_instead() in tip.content
    assert "Hi, I'm **Heard**" in tip.content and SOFTWARE_LINE in tip.content
    await sandbox.wait_for_call(
        lambda call: call.method == "DELETE" and call.path.endswith(f"/messages/{note.id}"), timeout=TIMEOUT
    )
    assert note.id not in [m.id for m in sandbox.messages_in(scene.support.id)]  # the opened note is gone
    assert [row["result"] for row in nudge_rows(db_path)] == ["in_channel"]


async def test_discord_errors_while_nudging_are_retried_or_recorded_and_never_stop_the_listener(
    sandbox: Any, bot: HeardBot, decisions: Decisions, db_path: Path
) -> None:
    scene = sandbox.scene
    await answer(sandbox, scene.admin, "heard nudges", cooldown_minutes=0)
    dm_channel = sandbox.world.dm_channel_for(scene.sam)
    sandbox.faults.fail_next(
        "POST", "/channels/{channel_id}/messages", status=503, count=3, channel_id=dm_channel.id
    )
    _, failed = await post_and_reply(sandbox, scene.sam)
    assert await decisions.wait(failed.id, within=60) == "failed"

    sandbox.faults.fail_next(
        "POST",
        "/channels/{channel_id}/messages",
        status=429,
        retry_after=0.05,
        count=1,
        channel_id=dm_channel.id,
    )
    _, rate_limited = await post_and_reply(sandbox, scene.sam, OTHER_ADVICE)
    assert await decisions.wait(rate_limited.id) == "dm"

    sandbox.faults.fail_next(
        "POST", "/channels/{channel_id}/messages", status=503, count=1, channel_id=dm_channel.id
    )
    _, retried = await post_and_reply(sandbox, scene.sam)
    assert await decisions.wait(retried.id) == "dm"
    assert [row["result"] for row in nudge_rows(db_path)] == ["failed", "dm", "dm"]
    assert len(dms_to(sandbox, scene.sam)) == 2


async def test_heard_nudges_needs_manage_server_and_explains_bad_values(
    sandbox: Any, bot: HeardBot, db_path: Path
) -> None:
    scene = sandbox.scene
    refused = await answer(sandbox, scene.alex, "heard nudges", force=True, daily_cap=50)
    assert refused.ephemeral and "Manage Server" in refused.content
    too_big = await answer(sandbox, scene.admin, "heard nudges", daily_cap=1000)
    assert (
        too_big.ephemeral
        and "between 0 and 100" in too_big.content
        and "Nothing was changed" in too_big.content
    )
    everyone = await answer(sandbox, scene.admin, "heard nudges", exempt_role=scene.guild.everyone)
    assert everyone.ephemeral and "Nothing was changed" in everyone.content
    shown = await answer(sandbox, scene.admin, "heard nudges")
    assert shown.ephemeral and "5 per member" in shown.content and "10 minutes" in shown.content


async def test_nudges_status_shows_in_heard_status(sandbox: Any, bot: HeardBot) -> None:
    scene = sandbox.scene
    status = await answer(sandbox, scene.admin, "heard status")
    assert status.ephemeral and "Listening nudges" in status.text()


async def test_deliver_nudge_for_moderators(sandbox: Any, bot: HeardBot, decisions: Decisions) -> None:
    from bot.listening import analyze

    scene = sandbox.scene
    cog = nudges_cog(bot)
    guild = bot.get_guild(scene.guild.id)
    assert guild is not None
    member = guild.get_member(scene.jo.id) or await guild.fetch_member(scene.jo.id)
    analysis = analyze(ADVICE, post=POST)
    result = await cog.deliver_nudge(member, guild, scene.support.id, 4242, analysis, POST)
    assert result == "dm"
    dm = await wait_for_dm(sandbox, scene.jo)
    assert expected_try_instead() in dm.content
    assert "A moderator here asked Heard" in dm.content
    assert await cog.deliver_nudge(member, guild, scene.support.id, 4242, analysis, POST) == (
        "skipped_already_nudged"
    )
    await answer(sandbox, scene.jo, "nudges off")
    assert (
        await cog.deliver_nudge(member, guild, scene.support.id, 4343, analysis, POST) == "skipped_opted_out"
    )


async def test_a_nudge_left_pending_by_a_stop_is_recorded_as_interrupted_on_restart(
    sandbox: Any, start_heard: StartHeard, bot: HeardBot, db_path: Path
) -> None:
    from bot.storage.nudges import NudgeSettings

    scene = sandbox.scene
    cog = nudges_cog(bot)
    claim = await cog.repository.claim(
        guild_id=scene.guild.id,
        member_id=scene.sam.id,
        channel_id=scene.support.id,
        message_id=777,
        codes=("advice_unasked",),
        settings=NudgeSettings(guild_id=scene.guild.id),
        now=cog.clock() - timedelta(minutes=10),
    )
    assert claim.granted
    await bot.close()
    assert [row["result"] for row in nudge_rows(db_path)] == ["pending"]
    await start_heard(db_path=db_path)
    assert [row["result"] for row in nudge_rows(db_path)] == ["interrupted"]


async def test_a_tip_for_a_deleted_reply_still_opens_from_the_stored_codes(
    sandbox: Any, bot: HeardBot, decisions: Decisions
) -> None:
    scene = sandbox.scene
    await answer(sandbox, scene.admin, "heard nudges", dm_fallback="in_channel")
    sandbox.world.set_dms_closed(scene.sam)
    _, reply = await post_and_reply(sandbox, scene.sam)
    note = await sandbox.wait_for_message(
        lambda m: m.channel_id == scene.support.id and m.author_id == sandbox.bot_user.id, timeout=TIMEOUT
    )
    assert await decisions.wait(reply.id) == "in_channel"
    await sandbox.delete_message(reply)
    (custom_id,) = note.custom_ids()
    click = await sandbox.click(scene.sam, note, custom_id)
    assert (await click.response(timeout=TIMEOUT)).ephemeral
    tip = await click.original(timeout=TIMEOUT)
    assert "jumps to advice" in tip.content and "/nudges off" in tip.content
    assert ADVICE_WORDS not in tip.content
