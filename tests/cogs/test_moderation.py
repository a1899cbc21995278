"""Flag alerts, review buttons, queue commands and the alert outbox — real discord.py against the sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import discord
import pytest

from bot.bot import HeardBot
from tests.cogs.moderation_helpers import (
    FLAG_REPLY,
    KIND_REPLY,
    POST,
    TIMEOUT,
    button_id,
    flag_alerts,
    moderation_cog,
    outbox_drained,
    post_and_flagged_reply,
    require_engine_reads,
    wait_for_flag_alert,
    wait_until,
)
from tests.conftest import StartHeard, configure_guild

MESSAGES_ROUTE = "/channels/{channel_id}/messages"


@pytest.fixture(autouse=True)
def engine_reads_the_test_texts() -> None:
    """Fail clearly (not by timeout) if the engine stops reading the test texts as these tests need."""
    require_engine_reads(POST, crisis="none")
    require_engine_reads(FLAG_REPLY, post=POST, action="flag", crisis="none")
    require_engine_reads(KIND_REPLY, post=POST, action="none")


async def test_flagged_reply_alerts_moderators_with_links_codes_and_excerpt(
    sandbox: Any, heard: HeardBot
) -> None:
    require_engine_reads(FLAG_REPLY, post=POST, action="flag")
    scene = sandbox.scene
    await configure_guild(sandbox)
    post, reply = await post_and_flagged_reply(sandbox)

    alert = await wait_for_flag_alert(sandbox)
    text = alert.text()
    guild = scene.guild.id
    assert f"<@{scene.sam.id}>" in text and str(scene.sam.id) in text
    assert f"https://discord.com/channels/{guild}/{scene.support.id}/{reply.id}" in text
    assert f"https://discord.com/channels/{guild}/{scene.support.id}/{post.id}" in text
    assert "judging" in text.lower() or "labeling" in text.lower() or "hostility" in text.lower()
    excerpt_fields = [f for f in alert.embeds[0]["fields"] if f["name"].startswith("Excerpt")]
    assert excerpt_fields and len(excerpt_fields[0]["value"]) <= 202  # "> " + at most 200 characters
    assert POST not in text  # never the post's text
    assert [cid.split(":")[2] for cid in alert.custom_ids()] == [
        "resolve",
        "false_alarm",
        "nudge",
        "delete",
        "history",
    ]
    assert not alert.payload.get("mentions") and "<@&" not in alert.content  # a flag pings nobody
    assert not reply.deleted  # Heard never deletes on its own

    flags, total = await moderation_cog(heard).flags.list_page(guild, status="open")
    assert total == 1 and flags[0].message_id == reply.id and flags[0].author_id == scene.sam.id
    assert flags[0].excerpt is not None and len(flags[0].excerpt) <= 200


async def test_kind_reply_and_unwatched_channel_raise_nothing(sandbox: Any, heard: HeardBot) -> None:
    require_engine_reads(KIND_REPLY, post=POST, action="none")
    scene = sandbox.scene
    await configure_guild(sandbox)
    post = await sandbox.member_says(scene.alex, scene.support, POST)
    await sandbox.member_says(scene.sam, scene.support, KIND_REPLY, reply_to=post)
    general_post = await sandbox.member_says(scene.alex, scene.general, POST)
    await sandbox.member_says(scene.sam, scene.general, FLAG_REPLY, reply_to=general_post)
    # a control message that is flagged proves the pipeline ran past the two above
    await post_and_flagged_reply(sandbox, replier=scene.jo)
    alert = await wait_for_flag_alert(sandbox)
    assert f"<@{scene.jo.id}>" in alert.text()
    assert len(flag_alerts(sandbox)) == 1


async def test_moderator_resolves_alert_edited_and_audited(sandbox: Any, heard: HeardBot) -> None:
    scene = sandbox.scene
    await configure_guild(sandbox)
    await post_and_flagged_reply(sandbox)
    alert = await wait_for_flag_alert(sandbox)

    click = await sandbox.click(scene.moderator, alert, button_id(alert, "resolve"))
    response = await click.response(timeout=TIMEOUT)
    assert response.type == 7  # the alert itself is updated
    edited = sandbox.world.message(alert.id)
    assert (
        "Resolved" in edited.text() and f"<@{scene.moderator.id}>" in edited.text() and "<t:" in edited.text()
    )

    cog = moderation_cog(heard)
    (flag,), _ = await cog.flags.list_page(scene.guild.id, status=None)
    assert flag.status == "resolved" and flag.decided_by == scene.moderator.id
    trail = await cog.flags.audit_trail(scene.guild.id, flag.id)
    assert [(e.action, e.previous_status, e.new_status, e.actor_id) for e in trail] == [
        ("resolve", "open", "resolved", scene.moderator.id)
    ]

    false_alarm = await sandbox.click(scene.moderator, alert, button_id(alert, "false_alarm"))
    await false_alarm.response(timeout=TIMEOUT)
    trail = await cog.flags.audit_trail(scene.guild.id, flag.id)
    assert [(e.previous_status, e.new_status) for e in trail] == [
        ("open", "resolved"),
        ("resolved", "false_alarm"),
    ]
    assert "False alarm" in sandbox.world.message(alert.id).text()


async def test_non_moderator_presses_every_button_and_nothing_changes(sandbox: Any, heard: HeardBot) -> None:
    scene = sandbox.scene
    # riley can read the moderator channel but is not a moderator
    channel = sandbox.world.channel(scene.mod_alerts)
    overwrites = list(channel.overwrites)
    overwrites.append({"id": str(scene.riley.id), "type": 1, "allow": str(1024 | 2048), "deny": "0"})
    sandbox.world.set_overwrites(scene.mod_alerts, overwrites)
    await configure_guild(sandbox)
    _, reply = await post_and_flagged_reply(sandbox)
    alert = await wait_for_flag_alert(sandbox)
    before = sandbox.world.message(alert.id).text()
    cog = moderation_cog(heard)

    for action in ("resolve", "false_alarm", "nudge", "delete", "history"):
        click = await sandbox.click(scene.riley, alert, button_id(alert, action))
        response = await click.response(timeout=TIMEOUT)
        assert response.ephemeral, action
        assert "Only this server's moderators" in response.content, action

    (flag,), _ = await cog.flags.list_page(scene.guild.id, status=None)
    assert flag.status == "open" and flag.decided_by is None
    assert await cog.flags.audit_trail(scene.guild.id, flag.id) == []
    assert sandbox.world.message(alert.id).text() == before
    assert not sandbox.world.message(reply.id).deleted
    assert len(sandbox.dms_to(scene.sam)) <= 1  # at most the automatic nudge; no moderator nudge went out


async def test_buttons_work_after_a_restart(sandbox: Any, start_heard: StartHeard, db_path: Path) -> None:
    scene = sandbox.scene
    bot = await start_heard(db_path=db_path)
    await configure_guild(sandbox)
    await post_and_flagged_reply(sandbox)
    alert = await wait_for_flag_alert(sandbox)
    await bot.close()

    bot = await start_heard(db_path=db_path)
    click = await sandbox.click(scene.moderator, alert, button_id(alert, "false_alarm"))
    response = await click.response(timeout=TIMEOUT)
    assert response.type == 7
    assert "False alarm" in sandbox.world.message(alert.id).text()
    (flag,), _ = await moderation_cog(bot).flags.list_page(scene.guild.id, status=None)
    assert flag.status == "false_alarm"


async def test_alert_survives_429s_500s_and_a_restart_and_arrives_exactly_once(
    sandbox: Any, start_heard: StartHeard, db_path: Path
) -> None:
    scene = sandbox.scene
    bot = await start_heard(db_path=db_path, alert_retry_base_seconds=0.05, alert_retry_max_seconds=0.5)
    await configure_guild(sandbox)
    mod_channel = scene.mod_alerts.id
    sandbox.faults.fail_next(
        "POST", MESSAGES_ROUTE, status=429, count=2, retry_after=0.05, channel_id=mod_channel
    )
    sandbox.faults.fail_next("POST", MESSAGES_ROUTE, status=500, count=2, channel_id=mod_channel)
    mark = sandbox.mark()
    await post_and_flagged_reply(sandbox)

    await sandbox.wait_for_call(
        lambda c: c.method == "POST" and c.status == 500 and c.params.get("channel_id") == str(mod_channel),
        timeout=TIMEOUT,
        since=mark,
    )
    await bot.close()  # a restart in the middle of the outage
    assert flag_alerts(sandbox) == []

    bot = await start_heard(db_path=db_path, alert_retry_base_seconds=0.05, alert_retry_max_seconds=0.5)
    await wait_for_flag_alert(sandbox, since=mark)
    await wait_until(lambda: outbox_drained(bot), what="the outbox to drain")
    assert sandbox.faults.pending == 0
    assert len(flag_alerts(sandbox)) == 1
    (item,) = await moderation_cog(bot).outbox.sends()
    assert item.state == "done" and item.message_id == flag_alerts(sandbox)[0].id


async def test_missing_permission_waits_reports_once_then_delivers(
    sandbox: Any, start_heard: StartHeard, db_path: Path
) -> None:
    scene = sandbox.scene
    bot = await start_heard(db_path=db_path, alert_retry_base_seconds=0.05, alert_retry_max_seconds=0.3)
    await configure_guild(sandbox)
    channel = sandbox.world.channel(scene.mod_alerts)
    saved = list(channel.overwrites)
    bot_role = str(scene.guild.bot_role_id)
    blocked = [o for o in saved if str(o["id"]) != bot_role]
    sandbox.world.set_overwrites(scene.mod_alerts, blocked)

    await post_and_flagged_reply(sandbox)
    await post_and_flagged_reply(sandbox, replier=scene.jo)
    report = await sandbox.wait_for_message(
        lambda m: m.guild_id is None and "couldn't post a moderator alert" in m.content, timeout=TIMEOUT
    )
    assert report.channel_id == sandbox.world.dm_channel_for(scene.admin).id
    # it keeps retrying (several 403s) but tells the admin only once
    await sandbox.wait_for_call(lambda c: c.method == "POST" and c.status == 403, timeout=TIMEOUT)
    cog = moderation_cog(bot)

    async def both_waiting() -> bool:
        return bool(await cog.outbox.pending_count() == 2)

    await wait_until(both_waiting, what="both alerts to be waiting")

    sandbox.world.set_overwrites(scene.mod_alerts, saved)
    await wait_until(lambda: outbox_drained(bot), what="the alerts to be delivered")
    assert len(flag_alerts(sandbox)) == 2
    reports = [m for m in sandbox.dms_to(scene.admin) if "couldn't post a moderator alert" in m.content]
    assert len(reports) == 1


async def test_same_member_and_code_within_window_updates_one_alert(sandbox: Any, heard: HeardBot) -> None:
    scene = sandbox.scene
    await configure_guild(sandbox)
    mark = sandbox.mark()
    await post_and_flagged_reply(sandbox)
    alert = await wait_for_flag_alert(sandbox)
    _, second_reply = await post_and_flagged_reply(sandbox)
    await sandbox.wait_for_message(
        lambda m: m.id == alert.id and "2 times" in m.text(), timeout=TIMEOUT, since=mark
    )
    assert len(flag_alerts(sandbox)) == 1
    edited = sandbox.world.message(alert.id)
    assert f"/{second_reply.id})" in edited.text()

    # with the window set to 0, every reply gets its own alert
    ix = await sandbox.slash(scene.admin, scene.guild, "heard alerts", dedup_minutes=0)
    assert (await ix.response(timeout=TIMEOUT)).ephemeral
    await post_and_flagged_reply(sandbox)
    await sandbox.wait_for_message(
        lambda m: m.channel_id == scene.mod_alerts.id and "Heard flag #" in m.text() and m.id != alert.id,
        timeout=TIMEOUT,
    )
    assert len(flag_alerts(sandbox)) == 2


async def test_excerpts_off_sensitivity_and_code_switches(sandbox: Any, heard: HeardBot) -> None:
    scene = sandbox.scene
    await configure_guild(sandbox)
    ix = await sandbox.slash(scene.admin, scene.guild, "heard alerts", excerpts=False)
    answer = await ix.response(timeout=TIMEOUT)
    assert answer.ephemeral and "Excerpts in alerts: **off**" in answer.content
    await post_and_flagged_reply(sandbox)
    alert = await wait_for_flag_alert(sandbox)
    assert "Excerpts are off" in alert.text()
    (flag,), _ = await moderation_cog(heard).flags.list_page(scene.guild.id)
    assert flag.excerpt is None

    for code in flag.codes:
        ix = await sandbox.slash(scene.admin, scene.guild, "heard alerts", code=code, code_enabled=False)
        assert "Codes switched off" in (await ix.response(timeout=TIMEOUT)).content
    ix = await sandbox.slash(scene.admin, scene.guild, "heard alerts", dedup_minutes=0)
    await ix.response(timeout=TIMEOUT)
    _, ignored = await post_and_flagged_reply(sandbox, replier=scene.jo)
    for code in flag.codes:  # switching the codes back on raises flags again, for later replies only
        ix = await sandbox.slash(scene.admin, scene.guild, "heard alerts", code=code, code_enabled=True)
        await ix.response(timeout=TIMEOUT)
    _, flagged = await post_and_flagged_reply(sandbox, replier=scene.riley)
    await sandbox.wait_for_message(
        lambda m: m.channel_id == scene.mod_alerts.id and f"<@{scene.riley.id}>" in m.text(), timeout=TIMEOUT
    )
    flags, total = await moderation_cog(heard).flags.list_page(scene.guild.id, status=None)
    assert total == 2 and {f.message_id for f in flags} == {flag.message_id, flagged.id}
    assert ignored.id not in {f.message_id for f in flags}


async def test_non_admin_cannot_change_alert_settings(sandbox: Any, heard: HeardBot) -> None:
    scene = sandbox.scene
    await configure_guild(sandbox)
    ix = await sandbox.slash(
        scene.moderator, scene.guild, "heard alerts", force=True, sensitivity="sensitive"
    )
    answer = await ix.response(timeout=TIMEOUT)
    assert answer.ephemeral and "Manage Server" in answer.content
    assert (await moderation_cog(heard).settings.get(scene.guild.id)).sensitivity == "balanced"


async def test_delete_button_needs_manage_messages_then_deletes(sandbox: Any, heard: HeardBot) -> None:
    scene = sandbox.scene
    await configure_guild(sandbox)
    _, reply = await post_and_flagged_reply(sandbox)
    alert = await wait_for_flag_alert(sandbox)

    click = await sandbox.click(scene.moderator, alert, button_id(alert, "delete"))
    refused = await click.response(timeout=TIMEOUT)
    assert refused.ephemeral and "Manage Messages" in refused.content
    assert not sandbox.world.message(reply.id).deleted

    permissions = discord.Permissions(sandbox.world.bot_permissions_in(scene.support))
    permissions.manage_messages = True
    sandbox.world.set_bot_permissions(scene.guild, permissions.value)
    click = await sandbox.click(scene.moderator, alert, button_id(alert, "delete"))
    (note,) = await click.followups(count=1, timeout=TIMEOUT)
    assert "Deleted 1 message" in note.content and note.ephemeral
    assert sandbox.world.message(reply.id).deleted
    assert "Message deleted" in sandbox.world.message(alert.id).text()


async def test_nudge_author_button_sends_private_nudge(sandbox: Any, heard: HeardBot) -> None:
    scene = sandbox.scene
    await configure_guild(sandbox)
    await post_and_flagged_reply(sandbox)
    alert = await wait_for_flag_alert(sandbox)
    click = await sandbox.click(scene.moderator, alert, button_id(alert, "nudge"))
    (note,) = await click.followups(count=1, timeout=TIMEOUT)
    assert note.ephemeral
    assert sandbox.dms_to(scene.sam), "the author got the private nudge"
    assert "Author nudged" in sandbox.world.message(alert.id).text()
    cog = moderation_cog(heard)
    (flag,), _ = await cog.flags.list_page(scene.guild.id, status=None)
    trail = await cog.flags.audit_trail(scene.guild.id, flag.id)
    assert trail[-1].action == "nudge" and trail[-1].detail == "dm"


async def test_history_lists_earlier_flags_ephemerally(sandbox: Any, heard: HeardBot) -> None:
    scene = sandbox.scene
    await configure_guild(sandbox)
    first = await post_and_flagged_reply(sandbox)
    first_alert = await wait_for_flag_alert(sandbox)
    click = await sandbox.click(scene.moderator, first_alert, button_id(first_alert, "resolve"))
    await click.response(timeout=TIMEOUT)
    await post_and_flagged_reply(sandbox)
    second_alert = await sandbox.wait_for_message(
        lambda m: (
            m.channel_id == scene.mod_alerts.id and "Heard flag #" in m.text() and m.id != first_alert.id
        ),
        timeout=TIMEOUT,
    )
    click = await sandbox.click(scene.moderator, second_alert, button_id(second_alert, "history"))
    response = await click.response(timeout=TIMEOUT)
    assert response.ephemeral
    assert "Resolved" in response.text() and f"/{first[1].id})" in response.text()


async def test_queue_commands_paginate_filter_and_count(sandbox: Any, heard: HeardBot) -> None:
    scene = sandbox.scene
    await configure_guild(sandbox)
    ix = await sandbox.slash(scene.admin, scene.guild, "heard alerts", dedup_minutes=0)
    await ix.response(timeout=TIMEOUT)
    cog = moderation_cog(heard)
    for _ in range(10):
        await post_and_flagged_reply(sandbox)
    await wait_until(lambda: _flag_total(cog, scene.guild.id, 10), what="ten flags")

    ix = await sandbox.slash(scene.moderator, scene.guild, "heard flags", force=True)
    page = await ix.response(timeout=TIMEOUT)
    assert page.ephemeral and "Page 1 of 2" in page.text()
    next_id = next(cid for cid in page.components[0]["components"] if "Next" in cid.get("label", ""))[
        "custom_id"
    ]
    page_message = ix.original_now()
    turn = await sandbox.click(scene.moderator, page_message, next_id)
    assert "Page 2 of 2" in (await turn.response(timeout=TIMEOUT)).text()

    ix = await sandbox.slash(scene.moderator, scene.guild, "heard flags", force=True, status="resolved")
    assert "No flags match" in (await ix.response(timeout=TIMEOUT)).content

    flags, _ = await cog.flags.list_page(scene.guild.id)
    ix = await sandbox.slash(scene.moderator, scene.guild, "heard flag", force=True, id=flags[0].id)
    detail = await ix.response(timeout=TIMEOUT)
    assert detail.ephemeral and f"Flag #{flags[0].id}" in detail.text() and "Decisions" in detail.text()

    ix = await sandbox.slash(scene.moderator, scene.guild, "heard stats", force=True)
    stats = await ix.response(timeout=TIMEOUT)
    assert stats.ephemeral and "30 days: **10**" in stats.text()

    ix = await sandbox.slash(scene.alex, scene.guild, "heard flags", force=True)
    refused = await ix.response(timeout=TIMEOUT)
    assert refused.ephemeral and "moderators" in refused.content and "Flag" not in refused.text()


async def test_flag_ids_of_another_guild_are_refused(sandbox: Any, heard: HeardBot) -> None:
    scene = sandbox.scene
    await configure_guild(sandbox)
    await post_and_flagged_reply(sandbox)
    await wait_for_flag_alert(sandbox)
    (flag,), _ = await moderation_cog(heard).flags.list_page(scene.guild.id)

    world = sandbox.world
    other_owner = world.add_user("quinn")
    other = world.add_guild("Other Server", owner=other_owner)
    other_channel = world.add_text_channel(other, "general")
    await _wait_for_guild(heard, other.id)
    ix = await sandbox.slash(
        other_owner, other, "heard flag", in_channel=other_channel, force=True, id=flag.id
    )
    answer = await ix.response(timeout=TIMEOUT)
    assert answer.ephemeral and f"couldn't find flag #{flag.id}" in answer.content
    assert str(scene.sam.id) not in answer.text()


async def _flag_total(cog: Any, guild_id: int, expected: int) -> bool:
    """Return whether the guild has ``expected`` flags stored."""
    _, total = await cog.flags.list_page(guild_id, status=None)
    return bool(total >= expected)


async def _wait_for_guild(bot: HeardBot, guild_id: int) -> None:
    """Wait until the bot received a guild's GUILD_CREATE."""

    async def present() -> bool:
        return bot.get_guild(guild_id) is not None

    await wait_until(present, what="the new guild to reach Heard")


async def test_two_workers_on_one_database_post_each_alert_once(
    sandbox: Any, start_heard: StartHeard, db_path: Path
) -> None:
    scene = sandbox.scene
    first = await start_heard(db_path=db_path)
    second = await start_heard(db_path=db_path)
    await configure_guild(sandbox)
    ix = await sandbox.slash(scene.admin, scene.guild, "heard alerts", dedup_minutes=0)
    await ix.response(timeout=TIMEOUT)
    for replier in (scene.sam, scene.jo, scene.riley, scene.sam, scene.jo):
        await post_and_flagged_reply(sandbox, replier=replier)
    await wait_until(lambda: _flag_total(moderation_cog(first), scene.guild.id, 5), what="five flags")
    await wait_until(lambda: outbox_drained(first), what="the outbox to drain")
    markers = [message.text().split("Heard flag #")[1].split()[0] for message in flag_alerts(sandbox)]
    assert len(markers) == 5 and len(set(markers)) == 5
    assert moderation_cog(first).dispatcher.worker != moderation_cog(second).dispatcher.worker


async def test_send_whose_confirmation_was_lost_is_found_not_repeated(sandbox: Any, heard: HeardBot) -> None:
    """A crash after Discord accepted the alert but before the commit: the next attempt finds the alert."""
    scene = sandbox.scene
    await configure_guild(sandbox)
    await post_and_flagged_reply(sandbox)
    alert = await wait_for_flag_alert(sandbox)
    cog = moderation_cog(heard)
    await wait_until(lambda: outbox_drained(heard), what="the first delivery")
    (item,) = await cog.outbox.sends()
    await heard.db.execute(
        "UPDATE alert_outbox SET state = 'pending', in_flight = 1, message_id = NULL, done_at = NULL"
        " WHERE id = ?",
        (item.id,),
    )
    mark = sandbox.mark()
    cog.dispatcher.wake()
    await sandbox.wait_for_call(
        lambda c: c.method == "GET" and c.params.get("channel_id") == str(scene.mod_alerts.id),
        timeout=TIMEOUT,
        since=mark,
    )
    await wait_until(lambda: outbox_drained(heard), what="the reconciled delivery")
    (again,) = await cog.outbox.sends()
    assert again.state == "done" and again.message_id == alert.id
    assert len(flag_alerts(sandbox)) == 1
    assert not [c for c in sandbox.calls[mark.call_serial :] if c.method == "POST" and "messages" in c.path]


async def test_deleted_mod_channel_waits_until_setup_names_a_new_one(sandbox: Any, heard: HeardBot) -> None:
    scene = sandbox.scene
    await configure_guild(sandbox)
    sandbox.world.delete_channel(scene.mod_alerts)
    _, reply = await post_and_flagged_reply(sandbox)
    report = await sandbox.wait_for_message(
        lambda m: m.guild_id is None and "moderator channel was deleted" in m.content, timeout=TIMEOUT
    )
    assert report.channel_id == sandbox.world.dm_channel_for(scene.admin).id
    assert await moderation_cog(heard).outbox.pending_count() == 1

    hidden = discord.Permissions(view_channel=True).value  # private, as /heard setup requires
    can_post = discord.Permissions(view_channel=True, send_messages=True, embed_links=True).value
    new_channel = sandbox.world.add_text_channel(
        scene.guild,
        "mod-alerts-2",
        overwrites=[
            {"id": scene.guild.id, "deny": hidden},
            {"id": sandbox.world.bot_role(scene.guild).id, "allow": can_post},
        ],
    )
    await _wait_for_channel(heard, new_channel.id)
    ix = await sandbox.slash(
        scene.admin, scene.guild, "heard setup", mod_channel=new_channel, role=scene.mod_role
    )
    await ix.response(timeout=TIMEOUT)
    alert = await sandbox.wait_for_message(
        lambda m: m.channel_id == new_channel.id and "Heard flag #" in m.text(), timeout=TIMEOUT
    )
    assert f"/{reply.id})" in alert.text()
    await wait_until(lambda: outbox_drained(heard), what="the outbox to drain")
    assert len([m for m in sandbox.messages_in(new_channel) if "Heard flag #" in m.text()]) == 1


async def _wait_for_channel(bot: HeardBot, channel_id: int) -> None:
    """Wait until the bot knows a newly created channel."""

    async def known() -> bool:
        return bot.get_channel(channel_id) is not None

    await wait_until(known, what="the new channel to reach Heard")


async def test_long_reply_with_mentions_markdown_code_and_links_alerts_safely(
    sandbox: Any, heard: HeardBot
) -> None:
    scene = sandbox.scene
    await configure_guild(sandbox)
    noisy = (
        f"@everyone {scene.alex.mention} <@&{scene.mod_role.id}> **listen** ```rm``` https://a.example/x "
        + "ü̈ 🙃 " * 400
        + " honestly that's your own fault, you're so lazy and pathetic "
        + "ok " * 150
    )[:4000]
    await post_and_flagged_reply(sandbox, reply=noisy)
    alert = await wait_for_flag_alert(sandbox)
    excerpt = next(f["value"] for f in alert.embeds[0]["fields"] if f["name"].startswith("Excerpt"))
    assert len(excerpt) <= 202 and "@everyone" not in excerpt and "https://" not in excerpt
    assert "<@&" not in alert.text() and "@everyone" not in alert.text()
    call = await sandbox.wait_for_call(
        lambda c: c.method == "POST" and c.params.get("channel_id") == str(scene.mod_alerts.id),
        timeout=TIMEOUT,
    )
    assert call.json["allowed_mentions"]["parse"] == []  # nothing in a flag alert can ping


async def test_reply_in_someone_elses_forum_thread_links_the_thread_starter(
    sandbox: Any, heard: HeardBot
) -> None:
    scene = sandbox.scene
    await configure_guild(sandbox)
    thread = await sandbox.start_thread(scene.alex, scene.vent, "rough week", POST)
    reply = await sandbox.member_says(scene.sam, thread, FLAG_REPLY, thread=thread)
    alert = await wait_for_flag_alert(sandbox)
    guild = scene.guild.id
    assert f"https://discord.com/channels/{guild}/{thread.id}/{reply.id}" in alert.text()
    assert f"https://discord.com/channels/{guild}/{thread.id}/{thread.id}" in alert.text()


async def test_turning_excerpts_off_deletes_stored_ones_and_updates_alerts(
    sandbox: Any, heard: HeardBot
) -> None:
    scene = sandbox.scene
    await configure_guild(sandbox)
    mark = sandbox.mark()
    await post_and_flagged_reply(sandbox)
    alert = await wait_for_flag_alert(sandbox)
    assert "Excerpt (matched words only)" in alert.text() and "fault" in alert.text()

    ix = await sandbox.slash(scene.admin, scene.guild, "heard alerts", excerpts=False)
    answer = await ix.response(timeout=TIMEOUT)
    assert answer.ephemeral and "Stored excerpts were deleted" in answer.content
    edited = await sandbox.wait_for_message(
        lambda m: m.id == alert.id and "Excerpts are off" in m.text(), timeout=TIMEOUT, since=mark
    )
    assert "fault" not in edited.text().split("Excerpt")[1]
    (flag,), _ = await moderation_cog(heard).flags.list_page(scene.guild.id)
    assert flag.excerpt is None


async def test_alert_shows_when_the_flagged_reply_was_deleted(sandbox: Any, heard: HeardBot) -> None:
    await configure_guild(sandbox)
    mark = sandbox.mark()
    _, reply = await post_and_flagged_reply(sandbox)
    alert = await wait_for_flag_alert(sandbox)
    await sandbox.delete_message(reply)  # the author deletes it
    await sandbox.wait_for_message(
        lambda m: m.id == alert.id and "has since been deleted" in m.text(), timeout=TIMEOUT, since=mark
    )
    (flag,), _ = await moderation_cog(heard).flags.list_page(sandbox.scene.guild.id)
    assert flag.status == "open"  # moderators still decide
