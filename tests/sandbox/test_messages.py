"""Message fidelity: MESSAGE_CREATE shapes, bot sends/edits/deletes, Discord errors and faults."""

from __future__ import annotations

import io

import discord
import pytest
from discord.http import Route

from bot.sandbox import Overwrite, Sandbox, Scene
from bot.sandbox import permissions as perms
from tests.sandbox.probe_bot import ProbeBot


def text_channel(probe: ProbeBot, channel_id: int) -> discord.TextChannel:
    channel = probe.get_channel(channel_id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def test_reply_carries_reference_and_resolved_message(
    sandbox: Sandbox, scene: Scene, probe: ProbeBot
) -> None:
    first = await sandbox.member_says(scene.alex, scene.support, "I had a rough week")
    reply = await sandbox.member_says(scene.sam, scene.support, "You should just relax", reply_to=first)
    seen = await probe.log.wait_for("message", lambda m: m.id == reply.id)
    assert seen.reference is not None and seen.reference.message_id == first.id
    assert isinstance(seen.reference.resolved, discord.Message)
    assert seen.reference.resolved.content == "I had a rough week"
    assert seen.reference.resolved.author.id == scene.alex.id
    assert seen.type is discord.MessageType.reply
    assert isinstance(seen.author, discord.Member) and seen.author.id == scene.sam.id
    assert seen.guild is not None and seen.guild.id == scene.guild.id


async def test_forum_post_and_thread_messages(sandbox: Sandbox, scene: Scene, probe: ProbeBot) -> None:
    thread = await sandbox.start_thread(scene.alex, scene.vent, "Hard day", "Everything went wrong")
    created = await probe.log.wait_for("thread_create", lambda t: t.id == thread.id)
    assert created.parent_id == scene.vent.id and created.name == "Hard day"
    starter = await probe.log.wait_for("message", lambda m: m.channel.id == thread.id)
    assert starter.id == thread.id  # a forum post's first message shares the thread id
    assert isinstance(starter.channel, discord.Thread)
    answer = await sandbox.member_says(
        scene.sam, scene.vent, "That sounds exhausting", thread=thread, reply_to=starter.id
    )
    seen = await probe.log.wait_for("message", lambda m: m.id == answer.id)
    assert isinstance(seen.channel, discord.Thread) and seen.channel.parent_id == scene.vent.id
    assert seen.reference is not None and seen.reference.resolved is not None
    # the bot can answer inside the thread
    await seen.channel.send("thread reply")
    echoed = await sandbox.wait_for_message(lambda m: m.channel_id == thread.id)
    assert echoed.content == "thread reply"
    text_thread = await sandbox.start_thread(scene.jo, scene.support, "side chat", "hello")
    assert (
        await probe.log.wait_for("thread_create", lambda t: t.id == text_thread.id)
    ).parent_id == scene.support.id


async def test_direct_messages_both_ways(sandbox: Sandbox, scene: Scene, probe: ProbeBot) -> None:
    dm = await sandbox.dm_bot(scene.alex, "can I talk to someone?")
    seen = await probe.log.wait_for("message", lambda m: m.id == dm.id)
    assert isinstance(seen.channel, discord.DMChannel) and seen.guild is None
    await seen.channel.send("I'm a bot, but I'm listening.")
    sent = await sandbox.wait_for_message(lambda m: m.channel_id == dm.channel_id)
    assert [m.content for m in sandbox.dms_to(scene.alex)] == ["I'm a bot, but I'm listening."]
    user = await probe.fetch_user(scene.sam.id)
    await user.send("hello sam")
    assert [m.content for m in sandbox.dms_to(scene.sam)] == ["hello sam"]
    assert sent.guild_id is None


async def test_member_edits_and_deletes_reach_the_bot(
    sandbox: Sandbox, scene: Scene, probe: ProbeBot
) -> None:
    message = await sandbox.member_says(scene.alex, scene.support, "typo")
    await probe.log.wait_for("message", lambda m: m.id == message.id)
    await sandbox.edit_message(message, "fixed")
    edited = await probe.log.wait_for("message_edit", lambda m: m.id == message.id)
    assert edited.content == "fixed" and edited.edited_at is not None
    await sandbox.delete_message(message)
    deleted = await probe.log.wait_for("raw_message_delete", lambda p: p.message_id == message.id)
    assert deleted.channel_id == scene.support.id and deleted.guild_id == scene.guild.id
    assert message.id not in [m.id for m in sandbox.messages_in(scene.support)]


async def test_bot_send_edit_delete_are_echoed(sandbox: Sandbox, scene: Scene, probe: ProbeBot) -> None:
    channel = text_channel(probe, scene.support.id)
    embed = discord.Embed(title="Heads up", description="A gentle note")
    sent = await channel.send("hello", embed=embed)
    echo = await probe.log.wait_for("message", lambda m: m.id == sent.id)
    assert echo.author.id == sandbox.bot_user.id and echo.embeds[0].title == "Heads up"
    await sent.edit(content="hello again")
    await probe.log.wait_for("raw_message_edit", lambda p: p.message_id == sent.id)
    assert sandbox.world.message(sent.id).content == "hello again"
    await sent.delete()
    await probe.log.wait_for("raw_message_delete", lambda p: p.message_id == sent.id)
    assert sandbox.messages_in(scene.support) == []


async def test_multipart_files_keep_bytes_name_and_type(
    sandbox: Sandbox, scene: Scene, probe: ProbeBot
) -> None:
    channel = text_channel(probe, scene.support.id)
    sent = await channel.send(
        "two files",
        files=[
            discord.File(io.BytesIO(b"hello,world\n"), filename="data.csv", description="a table"),
            discord.File(io.BytesIO(b"\x89PNG fake"), filename="pic.png"),
        ],
    )
    record = sandbox.world.message(sent.id)
    assert [(f.filename, f.data) for f in record.files] == [
        ("data.csv", b"hello,world\n"),
        ("pic.png", b"\x89PNG fake"),
    ]
    assert record.files[0].content_type == "text/csv" and record.files[0].description == "a table"
    assert [a.filename for a in sent.attachments] == ["data.csv", "pic.png"]
    assert await sent.attachments[0].read() == b"hello,world\n"
    call = next(
        c for c in sandbox.calls if c.method == "POST" and c.route == "/channels/{channel_id}/messages"
    )
    assert call.json["content"] == "two files" and len(call.files) == 2


async def test_fetch_message_and_history(sandbox: Sandbox, scene: Scene, probe: ProbeBot) -> None:
    first = await sandbox.member_says(scene.alex, scene.general, "one")
    second = await sandbox.member_says(scene.sam, scene.general, "two", reply_to=first)
    channel = text_channel(probe, scene.general.id)
    fetched = await channel.fetch_message(second.id)
    assert fetched.content == "two" and fetched.reference is not None
    history = [m.content async for m in channel.history(limit=10)]
    assert history == ["two", "one"]
    with pytest.raises(discord.NotFound) as error:
        await channel.fetch_message(12345678901234567)
    assert error.value.code == 10008


async def test_server_error_is_retried_by_discord_py(sandbox: Sandbox, scene: Scene, probe: ProbeBot) -> None:
    sandbox.faults.fail_next(
        "POST", "/channels/{channel_id}/messages", status=500, count=1, channel_id=scene.support.id
    )
    sent = await text_channel(probe, scene.support.id).send("eventually")
    statuses = [
        c.status for c in sandbox.calls if c.route == "/channels/{channel_id}/messages" and c.method == "POST"
    ]
    assert statuses == [500, 200]
    assert sandbox.world.message(sent.id).content == "eventually"


async def test_rate_limit_retry_after_is_honoured(sandbox: Sandbox, scene: Scene, probe: ProbeBot) -> None:
    sandbox.faults.fail_next("POST", "/channels/{channel_id}/messages", status=429, retry_after=0.05)
    await text_channel(probe, scene.support.id).send("after the limit")
    calls = [c for c in sandbox.calls if c.route == "/channels/{channel_id}/messages" and c.method == "POST"]
    assert [c.status for c in calls] == [429, 200]
    assert calls[0].response["retry_after"] == 0.05
    assert calls[1].time >= calls[0].time  # retried after the 429, not dropped


async def test_closed_dms_raise_forbidden_50007(sandbox: Sandbox, scene: Scene, probe: ProbeBot) -> None:
    sandbox.world.set_dms_closed(scene.riley)
    user = await probe.fetch_user(scene.riley.id)
    with pytest.raises(discord.Forbidden) as error:
        await user.send("are you ok?")
    assert error.value.code == 50007
    assert sandbox.dms_to(scene.riley) == []


async def test_missing_permissions_raise_50013(sandbox: Sandbox, scene: Scene, probe: ProbeBot) -> None:
    bot_role = sandbox.world.bot_role(scene.guild)
    sandbox.world.set_overwrites(scene.support, [Overwrite(bot_role, deny=perms.SEND_MESSAGES)])
    with pytest.raises(discord.Forbidden) as error:
        await text_channel(probe, scene.support.id).send("hi")
    assert error.value.code == 50013
    member_message = await sandbox.member_says(scene.alex, scene.support, "mine")
    fetched = await text_channel(probe, scene.support.id).fetch_message(member_message.id)
    with pytest.raises(discord.Forbidden) as error:
        await fetched.delete()
    assert error.value.code == 50013
    sandbox.world.set_bot_permissions(scene.guild, perms.DEFAULT_BOT_PERMISSIONS | perms.MANAGE_MESSAGES)
    await fetched.delete()
    assert sandbox.world.message(member_message.id).deleted
    sandbox.world.set_overwrites(scene.general, [Overwrite(bot_role, deny=perms.VIEW_CHANNEL)])
    with pytest.raises(discord.Forbidden) as error:
        await text_channel(probe, scene.general.id).send("into a hidden channel")
    assert error.value.code == 50013


async def test_unknown_channel_and_route_answer_404(sandbox: Sandbox, scene: Scene, probe: ProbeBot) -> None:
    with pytest.raises(discord.NotFound) as error:
        await probe.http.send_message(
            999999999999999999, params=discord.http.handle_message_parameters(content="x")
        )
    assert error.value.code == 10003
    with pytest.raises(discord.NotFound) as error:
        await probe.http.request(Route("GET", "/this/route/does/not/exist"))
    assert error.value.code == 0
    recorded = sandbox.calls[-1]
    assert recorded.route is None and recorded.status == 404 and recorded.path == "/this/route/does/not/exist"


async def test_discord_limits_are_enforced(sandbox: Sandbox, scene: Scene, probe: ProbeBot) -> None:
    channel = text_channel(probe, scene.support.id)
    with pytest.raises(discord.HTTPException) as error:
        await channel.send("x" * 2001)
    assert error.value.code == 50035 and "2000" in str(error.value)
    with pytest.raises(discord.HTTPException) as error:
        await probe.http.send_message(
            scene.support.id, params=discord.http.handle_message_parameters(content="")
        )
    assert error.value.code == 50006
    with pytest.raises(discord.HTTPException) as error:
        await channel.send(embed=discord.Embed(description="y" * 4097))
    assert error.value.code == 50035


async def test_timeout_member_patches_and_updates(sandbox: Sandbox, scene: Scene, probe: ProbeBot) -> None:
    import datetime as dt

    guild = probe.get_guild(scene.guild.id)
    assert guild is not None
    member = guild.get_member(scene.sam.id)
    assert member is not None
    with pytest.raises(discord.Forbidden):
        await member.timeout(dt.timedelta(minutes=5), reason="cool down")
    sandbox.world.set_bot_permissions(scene.guild, perms.DEFAULT_BOT_PERMISSIONS | perms.MODERATE_MEMBERS)
    await member.timeout(dt.timedelta(minutes=5), reason="cool down")
    updated = await probe.log.wait_for("member_update", lambda m: m.id == scene.sam.id and m.is_timed_out())
    assert updated.timed_out_until is not None
    assert sandbox.world.member(scene.guild, scene.sam).communication_disabled_until is not None  # type: ignore[union-attr]


async def test_bot_leaving_a_guild(sandbox: Sandbox, scene: Scene, probe: ProbeBot) -> None:
    guild = probe.get_guild(scene.guild.id)
    assert guild is not None
    await guild.leave()
    await probe.log.wait_for("guild_remove", lambda g: g.id == scene.guild.id)
    assert not scene.guild.bot_present


async def test_guild_and_channel_rest_reads(sandbox: Sandbox, scene: Scene, probe: ProbeBot) -> None:
    guild = await probe.fetch_guild(scene.guild.id)
    assert guild.name == "Peer Support" and guild.approximate_member_count == len(scene.guild.members)
    channels = await guild.fetch_channels()
    assert {c.id for c in channels} == {
        scene.support.id,
        scene.mod_alerts.id,
        scene.general.id,
        scene.vent.id,
    }
    member = await guild.fetch_member(scene.moderator.id)
    assert scene.mod_role.id in [role.id for role in member.roles]
    roles = await guild.fetch_roles()
    assert scene.guild.id in [role.id for role in roles]
    channel = await probe.fetch_channel(scene.vent.id)
    assert isinstance(channel, discord.ForumChannel)
    with pytest.raises(discord.NotFound) as error:
        await guild.fetch_member(42424242424242424)
    assert error.value.code == 10007


async def test_member_files_arrive_as_attachments(sandbox: Sandbox, scene: Scene, probe: ProbeBot) -> None:
    sent = await sandbox.member_says(scene.alex, scene.support, "look", files=[("note.txt", b"hello")])
    seen = await probe.log.wait_for("message", lambda m: m.id == sent.id)
    assert [a.filename for a in seen.attachments] == ["note.txt"]
    assert await seen.attachments[0].read() == b"hello"


async def test_bot_creates_threads_and_forum_posts(sandbox: Sandbox, scene: Scene, probe: ProbeBot) -> None:
    support = text_channel(probe, scene.support.id)
    thread = await support.create_thread(name="check-in", type=discord.ChannelType.public_thread)
    assert sandbox.world.channel(thread.id).parent_id == scene.support.id
    await probe.log.wait_for("thread_create", lambda t: t.id == thread.id)
    starter = await support.send("starter")
    from_message = await starter.create_thread(name="about this")
    assert from_message.id == starter.id
    forum = probe.get_channel(scene.vent.id)
    assert isinstance(forum, discord.ForumChannel)
    post = await forum.create_thread(name="weekly thread", content="How is everyone?")
    assert post.message.id == post.thread.id and post.message.content == "How is everyone?"
    assert [m.content for m in sandbox.messages_in(post.thread.id)] == ["How is everyone?"]
    guild = probe.get_guild(scene.guild.id)
    assert guild is not None
    members = [m.id async for m in guild.fetch_members(limit=None)]
    assert sorted(members) == sorted(scene.guild.members)


async def test_a_timed_out_wait_explains_what_happened(
    sandbox: Sandbox, scene: Scene, probe: ProbeBot
) -> None:
    from bot.sandbox import SandboxTimeout

    await sandbox.member_says(scene.alex, scene.support, "ping")
    await sandbox.wait_for_message(lambda m: m.content == "pong")
    with pytest.raises(SandboxTimeout) as error:
        await sandbox.wait_for_message(lambda m: m.content == "never", timeout=0.2)
    assert "POST /channels/{channel_id}/messages -> 200" in str(error.value)
    assert "#support: 'pong'" in str(error.value)


async def test_mentions_follow_permissions_and_allowed_mentions(
    sandbox: Sandbox, scene: Scene, probe: ProbeBot
) -> None:
    member_ping = await sandbox.member_says(scene.alex, scene.support, f"@everyone look {scene.sam.mention}")
    assert member_ping.payload["mention_everyone"] is True  # @everyone may mention everyone by default
    seen = await probe.log.wait_for("message", lambda m: m.id == member_ping.id)
    assert [u.id for u in seen.mentions] == [scene.sam.id]
    channel = text_channel(probe, scene.support.id)
    quiet = await channel.send("@everyone hello", allowed_mentions=discord.AllowedMentions.none())
    assert sandbox.world.message(quiet.id).payload["mention_everyone"] is False
    reply = await seen.reply("noted", mention_author=False)
    assert sandbox.world.message(reply.id).payload["mentions"] == []
    pinged = await seen.reply("noted", mention_author=True)
    assert [m["id"] for m in sandbox.world.message(pinged.id).payload["mentions"]] == [str(scene.alex.id)]
