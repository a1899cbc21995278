"""Trust features through the sandbox with real discord.py and a real SQLite file: /privacy, /forget-me,
/heard about, /heard export, the retention task, and leaving / re-joining a guild."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.bot import HeardBot
from bot.storage.database import Database
from bot.storage.flags import ModerationSettingsRepository
from bot.storage.nudges import NudgeRepository
from bot.storage.privacy import iso, utc_now
from cogs.privacy import Privacy
from tests.conftest import configure_guild

TIMEOUT = 30.0
EXCERPT = "you should just get over it"


def expect(bot: HeardBot, event: str, guild_id: int) -> asyncio.Future[Any]:
    """Start waiting for ``event`` about ``guild_id`` (call before causing it; await the result after)."""
    return asyncio.ensure_future(
        bot.wait_for(event, check=lambda *args: _guild_id_of(args[0]) == guild_id, timeout=TIMEOUT)
    )


def _guild_id_of(value: Any) -> int:
    """Return the guild id an event carries (a guild, a channel or a bare id)."""
    if isinstance(value, int):
        return value
    guild = getattr(value, "guild", None)
    return int(guild.id if guild is not None else value.id)


async def count(db: Database, sql: str, *params: object) -> int:
    """Return the number a COUNT query gives."""
    row = await db.fetch_one(sql, params)
    assert row is not None
    return int(row[0])


async def store_member_data(db: Database, guild_id: int, user_id: int, *, age_days: float = 0) -> int:
    """Store a nudge, a flag with an excerpt (plus code, message and audit rows) and a check-in for a member.

    Returns the flag id. Written straight to storage: the arrangement, not what is under test.
    """
    stamp = iso(utc_now() - timedelta(days=age_days))
    await db.execute(
        "INSERT INTO nudge (guild_id, member_id, channel_id, message_id, codes, result, created_at,"
        " updated_at) VALUES (?, ?, 10, ?, 'advising', 'dm', ?, ?)",
        (guild_id, user_id, user_id + 1, stamp, stamp),
    )
    flag = await db.execute(
        "INSERT INTO flag (guild_id, channel_id, message_id, author_id, codes, confidence, excerpt,"
        " latest_channel_id, latest_message_id, created_at, last_seen_at)"
        " VALUES (?, 10, ?, ?, 'judging', 0.9, ?, 10, ?, ?, ?)",
        (guild_id, user_id + 2, user_id, EXCERPT, user_id + 2, stamp, stamp),
    )
    assert flag.lastrowid is not None
    await db.execute(
        "INSERT INTO flag_code (flag_id, code, confidence) VALUES (?, 'judging', 0.9)", (flag.lastrowid,)
    )
    await db.execute(
        "INSERT INTO flag_message (flag_id, channel_id, message_id, seen_at) VALUES (?, 10, ?, ?)",
        (flag.lastrowid, user_id + 2, stamp),
    )
    await db.execute(
        "INSERT INTO flag_audit (guild_id, flag_id, actor_id, action, previous_status, new_status,"
        " created_at) VALUES (?, ?, 42, 'resolve', 'open', 'resolved', ?)",
        (guild_id, flag.lastrowid, stamp),
    )
    await db.execute(
        "INSERT INTO crisis_checkin (guild_id, user_id, level, result, sent_at)"
        " VALUES (?, ?, 'concern', 'dm', ?)",
        (guild_id, user_id, stamp),
    )
    return flag.lastrowid


def privacy_cog(bot: HeardBot) -> Any:
    """Return the loaded privacy cog (discord.py loads extensions as fresh modules, so no isinstance)."""
    cog = bot.get_cog("Privacy")
    assert cog is not None and type(cog).__name__ == Privacy.__name__
    return cog


# ----- /privacy -------------------------------------------------------------------------------------------


async def test_privacy_is_private_and_describes_this_servers_actual_settings(
    sandbox: Any, heard: HeardBot
) -> None:
    scene = sandbox.scene
    await configure_guild(sandbox)

    response = await (await sandbox.slash(scene.alex, scene.guild, "privacy")).response(timeout=TIMEOUT)

    assert response.ephemeral
    text = response.text()
    assert f"<#{scene.support.id}>" in text and f"<#{scene.vent.id}> (forum)" in text
    assert f"<#{scene.general.id}>" not in text
    assert f"<#{scene.mod_alerts.id}>" in text and f"<@&{scene.mod_role.id}>" in text
    assert "at most 200 characters" in text and "may quote a few of the matched words" in text
    assert "30 days" in text and "90 days" in text and "after 7 days" in text
    assert "tips are **on** for you" in text and "/nudges off" in text and "/forget-me" in text
    assert "software" in text


async def test_privacy_follows_changes_to_settings_and_the_callers_opt_out(
    sandbox: Any, start_heard: Any
) -> None:
    scene = sandbox.scene
    heard = await start_heard(retention_days=12, guild_data_grace_days=3)
    await configure_guild(sandbox, watch=[scene.support])
    await ModerationSettingsRepository(heard.db).update(scene.guild.id, excerpts_enabled=False)
    await NudgeRepository(heard.db).set_opted_out(scene.alex.id, True)

    text = (await (await sandbox.slash(scene.alex, scene.guild, "privacy")).response(timeout=TIMEOUT)).text()

    assert "excerpts switched off" in text and "at most 200 characters" not in text
    assert "rather than copying it" in text
    assert "12 days" in text and "after 3 days" in text
    assert "tips are **off** for you" in text and "/nudges on" in text
    assert f"<#{scene.vent.id}>" not in text
    # Someone else in the same server still sees their own state.
    other = (await (await sandbox.slash(scene.sam, scene.guild, "privacy")).response(timeout=TIMEOUT)).text()
    assert "tips are **on** for you" in other


async def test_privacy_before_setup_says_nothing_is_read_and_nobody_gets_alerts(
    sandbox: Any, heard: HeardBot
) -> None:
    scene = sandbox.scene
    response = await (await sandbox.slash(scene.jo, scene.guild, "privacy")).response(timeout=TIMEOUT)
    assert response.ephemeral
    assert "no channel here has been chosen" in response.text()
    assert "moderator alerts aren't set up" in response.text()


async def test_privacy_in_a_dm_points_to_the_server(sandbox: Any, heard: HeardBot) -> None:
    response = await (await sandbox.slash(sandbox.scene.alex, None, "privacy")).response(timeout=TIMEOUT)
    assert response.ephemeral
    assert "run `/privacy` inside a server" in response.text()


# ----- /forget-me -----------------------------------------------------------------------------------------


async def test_forget_me_needs_the_callers_confirmation_and_leaves_other_guilds_alone(
    sandbox: Any, heard: HeardBot
) -> None:
    scene = sandbox.scene
    world = sandbox.world
    other_guild = world.add_guild("Second Space")
    await expect(heard, "heard_guild_removal_cancelled", other_guild.id)  # the join was handled
    flag_here = await store_member_data(heard.db, scene.guild.id, scene.alex.id)
    flag_there = await store_member_data(heard.db, other_guild.id, scene.alex.id)
    sam_flag = await store_member_data(heard.db, scene.guild.id, scene.sam.id)
    await NudgeRepository(heard.db).set_opted_out(scene.alex.id, True)

    ask = await (await sandbox.slash(scene.alex, scene.guild, "forget-me")).response(timeout=TIMEOUT)
    assert ask.ephemeral
    assert "deleted member" in ask.text() and "keep it" in ask.text()
    keep_id = f"heard:forget:{scene.alex.id}:keep"
    assert keep_id in ask.message.custom_ids()

    # Someone else pressing the button changes nothing.
    refusal = await (await sandbox.click(scene.sam, ask.message, keep_id)).response(timeout=TIMEOUT)
    assert refusal.ephemeral and "belongs to someone else" in refusal.text()
    assert await count(heard.db, "SELECT COUNT(*) FROM nudge WHERE member_id = ?", scene.alex.id) == 2

    done = await (await sandbox.click(scene.alex, ask.message, keep_id)).response(timeout=TIMEOUT)

    assert done.type == 7 and done.ephemeral  # the confirmation message is updated in place
    assert done.components == []
    answer = done.text()
    assert (
        "1 nudge record" in answer and "1 check-in record" in answer and "1 message link on flags" in answer
    )
    assert "deleted member on: 1 flag" in answer and "Your tips stay off." in answer
    db = heard.db
    here = await db.fetch_one("SELECT author_id, excerpt, codes FROM flag WHERE id = ?", (flag_here,))
    assert here is not None and (here["author_id"], here["excerpt"], here["codes"]) == (0, None, "judging")
    assert (
        await count(
            db,
            "SELECT COUNT(*) FROM nudge WHERE guild_id = ? AND member_id = ?",
            scene.guild.id,
            scene.alex.id,
        )
        == 0
    )
    assert await count(db, "SELECT COUNT(*) FROM flag_audit WHERE flag_id = ?", flag_here) == 1
    assert await NudgeRepository(db).is_opted_out(scene.alex.id)
    # The other guild and the other member are untouched.
    there = await db.fetch_one("SELECT author_id, excerpt FROM flag WHERE id = ?", (flag_there,))
    assert there is not None and (there["author_id"], there["excerpt"]) == (scene.alex.id, EXCERPT)
    assert (
        await count(
            db,
            "SELECT COUNT(*) FROM nudge WHERE guild_id = ? AND member_id = ?",
            other_guild.id,
            scene.alex.id,
        )
        == 1
    )
    assert await count(db, "SELECT COUNT(*) FROM crisis_checkin WHERE guild_id = ?", other_guild.id) == 1
    sams = await db.fetch_one("SELECT author_id, excerpt FROM flag WHERE id = ?", (sam_flag,))
    assert sams is not None and (sams["author_id"], sams["excerpt"]) == (scene.sam.id, EXCERPT)


async def test_forget_me_also_takes_the_member_out_of_the_posted_alert(sandbox: Any, heard: HeardBot) -> None:
    scene = sandbox.scene
    await configure_guild(sandbox)
    post = await sandbox.member_says(
        scene.alex, scene.support, "I failed my exam again and I feel worthless."
    )
    await sandbox.member_says(
        scene.jo,
        scene.support,
        "Honestly you are pathetic and dramatic, stop whining about it.",
        reply_to=post,
    )
    alert = await sandbox.wait_for_message(
        lambda m: m.channel_id == scene.mod_alerts.id and str(scene.jo.id) in m.text(), timeout=TIMEOUT
    )
    flag = await heard.db.fetch_one("SELECT id, excerpt FROM flag WHERE author_id = ?", (scene.jo.id,))
    assert flag is not None and flag["excerpt"] and flag["excerpt"] in alert.text()

    ask = await (await sandbox.slash(scene.jo, scene.guild, "forget-me")).response(timeout=TIMEOUT)
    done = await (await sandbox.click(scene.jo, ask.message, f"heard:forget:{scene.jo.id}:delete")).response(
        timeout=TIMEOUT
    )
    assert "deleted member on: 1 flag" in done.text()
    await sandbox.wait_for_call(
        lambda call: call.method == "PATCH" and call.path.endswith(f"/messages/{alert.id}"), timeout=TIMEOUT
    )

    edited = next(m for m in sandbox.messages_in(scene.mod_alerts) if m.id == alert.id)
    assert str(scene.jo.id) not in edited.text()
    assert flag["excerpt"] not in edited.text()


async def test_forget_me_can_delete_the_opt_out_too(sandbox: Any, heard: HeardBot) -> None:
    scene = sandbox.scene
    await NudgeRepository(heard.db).set_opted_out(scene.jo.id, True)
    ask = await (await sandbox.slash(scene.jo, scene.guild, "forget-me")).response(timeout=TIMEOUT)
    done = await (await sandbox.click(scene.jo, ask.message, f"heard:forget:{scene.jo.id}:delete")).response(
        timeout=TIMEOUT
    )
    assert "1 tips preference record" in done.text() and "tips are on again" in done.text()
    assert not await NudgeRepository(heard.db).is_opted_out(scene.jo.id)


async def test_forget_me_with_nothing_stored_or_cancelled_says_so(sandbox: Any, heard: HeardBot) -> None:
    scene = sandbox.scene
    await store_member_data(heard.db, scene.guild.id, scene.riley.id)
    ask = await (await sandbox.slash(scene.riley, scene.guild, "forget-me")).response(timeout=TIMEOUT)
    assert [row["label"] for row in ask.components[0]["components"]] == ["Delete", "Cancel"]
    cancelled = await (
        await sandbox.click(scene.riley, ask.message, f"heard:forget:{scene.riley.id}:cancel")
    ).response(timeout=TIMEOUT)
    assert "nothing was deleted" in cancelled.text()
    assert await count(heard.db, "SELECT COUNT(*) FROM nudge WHERE member_id = ?", scene.riley.id) == 1

    ask = await (await sandbox.slash(scene.jo, scene.guild, "forget-me")).response(timeout=TIMEOUT)
    done = await (await sandbox.click(scene.jo, ask.message, f"heard:forget:{scene.jo.id}:delete")).response(
        timeout=TIMEOUT
    )
    assert "had nothing stored about you" in done.text()


async def test_forget_me_buttons_still_work_after_a_restart(
    sandbox: Any, start_heard: Any, db_path: Path
) -> None:
    scene = sandbox.scene
    bot = await start_heard(db_path=db_path)
    await store_member_data(bot.db, scene.guild.id, scene.alex.id)
    ask = await (await sandbox.slash(scene.alex, scene.guild, "forget-me")).response(timeout=TIMEOUT)
    await bot.close()
    bot = await start_heard(db_path=db_path)

    done = await (
        await sandbox.click(scene.alex, ask.message, f"heard:forget:{scene.alex.id}:delete")
    ).response(timeout=TIMEOUT)

    assert "1 nudge record" in done.text()
    assert await count(bot.db, "SELECT COUNT(*) FROM nudge") == 0


# ----- /heard about ---------------------------------------------------------------------------------------


async def test_heard_about_posts_a_plain_announcement_built_from_the_settings(
    sandbox: Any, heard: HeardBot
) -> None:
    scene = sandbox.scene
    await configure_guild(sandbox)

    response = await (
        await sandbox.slash(scene.admin, scene.guild, "heard about", channel=scene.general)
    ).response(timeout=TIMEOUT)

    assert response.ephemeral and "Posted the announcement" in response.text()
    posted = [m for m in sandbox.messages_in(scene.general) if m.author_id == sandbox.bot_user.id]
    assert len(posted) == 1
    text = posted[0].content
    assert posted[0].id and str(posted[0].id) in response.text()  # the admin gets a link to it
    assert "software" in text and f"<#{scene.support.id}>" in text
    assert "private and optional" in text and "/nudges off" in text
    assert "/privacy" in text and "/forget-me" in text and "30 days" in text
    assert "isn't a crisis service" in text
    assert posted[0].payload.get("mention_everyone") in (None, False)


async def test_heard_about_is_refused_for_non_admins_at_run_time(sandbox: Any, heard: HeardBot) -> None:
    scene = sandbox.scene
    response = await (
        await sandbox.slash(scene.alex, scene.guild, "heard about", channel=scene.general, force=True)
    ).response(timeout=TIMEOUT)
    assert response.ephemeral and "Manage Server" in response.text()
    assert [m for m in sandbox.messages_in(scene.general) if m.author_id == sandbox.bot_user.id] == []


async def test_heard_about_says_clearly_when_it_cannot_post_there(sandbox: Any, heard: HeardBot) -> None:
    from bot.sandbox import Overwrite
    from bot.sandbox.permissions import SEND_MESSAGES

    scene = sandbox.scene
    bot_role = scene.guild.roles[scene.guild.bot_role_id]
    updated = expect(heard, "guild_channel_update", scene.guild.id)
    sandbox.world.set_overwrites(scene.general, [Overwrite(bot_role, deny=SEND_MESSAGES)])
    await updated
    response = await (
        await sandbox.slash(scene.admin, scene.guild, "heard about", channel=scene.general)
    ).response(timeout=TIMEOUT)
    assert (
        response.ephemeral and "couldn't post" in response.text() and "Nothing was posted" in response.text()
    )


async def test_heard_about_stays_within_discords_limit_with_many_watched_channels(
    sandbox: Any, heard: HeardBot
) -> None:
    scene = sandbox.scene
    await configure_guild(sandbox, watch=[])
    for number in range(50):
        channel = sandbox.world.add_text_channel(scene.guild, f"support-room-{number}")
        await heard.guild_configs.watch(scene.guild.id, channel.id, "text")
    response = await (
        await sandbox.slash(scene.admin, scene.guild, "heard about", channel=scene.general)
    ).response(timeout=TIMEOUT)
    assert "Posted the announcement" in response.text()
    (posted,) = [m for m in sandbox.messages_in(scene.general) if m.author_id == sandbox.bot_user.id]
    assert len(posted.content) <= 2000 and "the 50 channels chosen for support" in posted.content
    text = (await (await sandbox.slash(scene.alex, scene.guild, "privacy")).response(timeout=TIMEOUT)).text()
    assert "New messages in the 50 channels chosen for support" in text


async def test_heard_status_has_a_privacy_section(sandbox: Any, heard: HeardBot) -> None:
    scene = sandbox.scene
    await asyncio.wait_for(privacy_cog(heard).first_maintenance_done.wait(), TIMEOUT)
    response = await (await sandbox.slash(scene.admin, scene.guild, "heard status")).response(timeout=TIMEOUT)
    field = next(field for field in response.embeds[0]["fields"] if field["name"] == "Privacy")
    assert "kept 30 days" in field["value"] and "after 7 days" in field["value"]
    assert "Last clean-up: <t:" in field["value"]


# ----- /heard export --------------------------------------------------------------------------------------


async def test_heard_export_is_a_json_file_without_message_text(sandbox: Any, heard: HeardBot) -> None:
    scene = sandbox.scene
    await configure_guild(sandbox)
    flag_id = await store_member_data(heard.db, scene.guild.id, scene.alex.id)

    response = await (await sandbox.slash(scene.admin, scene.guild, "heard export")).response(timeout=TIMEOUT)

    assert response.ephemeral and "never message text" in response.text()
    assert len(response.files) == 1 and response.files[0].filename.endswith(".json")
    raw = response.files[0].data.decode("utf-8")
    assert EXCERPT not in raw and '"excerpt"' not in raw
    exported = json.loads(raw)
    tables = exported["tables"]
    assert exported["guild_id"] == str(scene.guild.id)
    assert tables["guild_config"][0]["mod_channel_id"] == str(scene.mod_alerts.id)
    assert {row["channel_id"] for row in tables["watched_channel"]} == {
        str(scene.support.id),
        str(scene.vent.id),
    }
    assert [row["id"] for row in tables["flag"]] == [flag_id]
    assert tables["flag_audit"][0]["action"] == "resolve"


async def test_heard_export_is_refused_for_non_admins(sandbox: Any, heard: HeardBot) -> None:
    scene = sandbox.scene
    response = await (await sandbox.slash(scene.moderator, scene.guild, "heard export", force=True)).response(
        timeout=TIMEOUT
    )
    assert response.ephemeral and "Manage Server" in response.text() and response.files == []


# ----- retention and leaving a guild ----------------------------------------------------------------------


async def test_retention_runs_at_start_up_and_purges_only_expired_rows(
    sandbox: Any, start_heard: Any, db_path: Path
) -> None:
    scene = sandbox.scene
    db = await Database.open(db_path)
    old_flag = await store_member_data(db, scene.guild.id, scene.alex.id, age_days=31)
    new_flag = await store_member_data(db, scene.guild.id, scene.sam.id, age_days=29)
    await db.close()

    bot = await start_heard(db_path=db_path)
    await asyncio.wait_for(privacy_cog(bot).first_maintenance_done.wait(), TIMEOUT)

    excerpts = {row["id"]: row["excerpt"] for row in await bot.db.fetch_all("SELECT id, excerpt FROM flag")}
    assert excerpts == {old_flag: None, new_flag: EXCERPT}
    assert await count(bot.db, "SELECT COUNT(*) FROM flag_message") == 1
    assert await count(bot.db, "SELECT COUNT(*) FROM nudge") == 2  # nudges are kept 90 days
    run = await bot.db.fetch_one("SELECT rows_purged FROM retention_run ORDER BY id DESC LIMIT 1")
    assert run is not None and run["rows_purged"] == 3  # one excerpt, one message link, one check-in


async def test_removal_deletes_the_guilds_data_only_after_the_grace_period(
    sandbox: Any, heard: HeardBot
) -> None:
    scene = sandbox.scene
    world = sandbox.world
    other = world.add_guild("Second Space")
    await expect(heard, "heard_guild_removal_cancelled", other.id)
    await configure_guild(sandbox)
    await store_member_data(heard.db, scene.guild.id, scene.alex.id)
    await store_member_data(heard.db, other.id, scene.alex.id)
    cog = privacy_cog(heard)

    scheduled = expect(heard, "heard_guild_removal_scheduled", scene.guild.id)
    world.remove_bot(scene.guild)
    await scheduled
    assert await _scheduled(heard, scene.guild.id)
    await cog.run_maintenance(now=utc_now() + timedelta(days=6))
    assert await count(heard.db, "SELECT COUNT(*) FROM flag WHERE guild_id = ?", scene.guild.id) == 1
    assert await heard.guild_configs.is_watched(scene.guild.id, scene.support.id)

    counts = await cog.run_maintenance(now=utc_now() + timedelta(days=7, minutes=1))

    assert counts["guilds_deleted"] == 1
    for table in ("flag", "nudge", "flag_audit", "guild_config", "watched_channel", "guild_removal"):
        assert await count(heard.db, f"SELECT COUNT(*) FROM {table} WHERE guild_id = ?", scene.guild.id) == 0
    assert not await heard.guild_configs.is_watched(scene.guild.id, scene.support.id)
    assert await count(heard.db, "SELECT COUNT(*) FROM flag WHERE guild_id = ?", other.id) == 1


async def test_adding_heard_back_within_the_grace_period_keeps_the_data(
    sandbox: Any, heard: HeardBot
) -> None:
    scene = sandbox.scene
    await configure_guild(sandbox)
    await store_member_data(heard.db, scene.guild.id, scene.alex.id)
    scheduled = expect(heard, "heard_guild_removal_scheduled", scene.guild.id)
    sandbox.world.remove_bot(scene.guild)
    await scheduled
    assert await _scheduled(heard, scene.guild.id)

    cancelled = expect(heard, "heard_guild_removal_cancelled", scene.guild.id)
    sandbox.world.add_bot(scene.guild)
    await cancelled
    assert not await _scheduled(heard, scene.guild.id)
    await privacy_cog(heard).run_maintenance(now=utc_now() + timedelta(days=30))

    assert await count(heard.db, "SELECT COUNT(*) FROM flag WHERE guild_id = ?", scene.guild.id) == 1
    assert await heard.guild_configs.is_watched(scene.guild.id, scene.support.id)


async def test_with_no_grace_period_the_data_goes_as_soon_as_heard_is_removed(
    sandbox: Any, start_heard: Any
) -> None:
    scene = sandbox.scene
    heard = await start_heard(guild_data_grace_days=0)
    await configure_guild(sandbox)
    await store_member_data(heard.db, scene.guild.id, scene.alex.id)
    scheduled = expect(heard, "heard_guild_removal_scheduled", scene.guild.id)
    sandbox.world.remove_bot(scene.guild)
    await scheduled
    assert await count(heard.db, "SELECT COUNT(*) FROM flag WHERE guild_id = ?", scene.guild.id) == 0
    assert await count(heard.db, "SELECT COUNT(*) FROM guild_config WHERE guild_id = ?", scene.guild.id) == 0
    assert not await _scheduled(heard, scene.guild.id)


async def test_a_guild_left_while_offline_is_scheduled_at_start_up(
    sandbox: Any, start_heard: Any, db_path: Path
) -> None:
    db = await Database.open(db_path)
    await store_member_data(db, 4242, 77)
    await db.close()
    bot = await start_heard(db_path=db_path)
    await asyncio.wait_for(privacy_cog(bot).first_maintenance_done.wait(), TIMEOUT)
    assert await _scheduled(bot, 4242)
    assert not await _scheduled(bot, sandbox.scene.guild.id)


# ----- helpers ----------------------------------------------------------------------------------------------


async def _scheduled(bot: HeardBot, guild_id: int) -> bool:
    """Return whether the guild's data is scheduled for deletion."""
    return await count(bot.db, "SELECT COUNT(*) FROM guild_removal WHERE guild_id = ?", guild_id) == 1
