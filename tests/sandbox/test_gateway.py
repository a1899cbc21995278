"""Gateway fidelity: READY/GUILD_CREATE shapes, world changes as events, intents, RESUME and friends."""

from __future__ import annotations

import discord
import pytest

from bot.sandbox import Sandbox, SandboxEvent, Scene, running_client
from bot.sandbox import permissions as perms
from tests.sandbox.probe_bot import ProbeBot


async def test_guild_create_gives_discord_py_a_full_guild(scene: Scene, probe: ProbeBot) -> None:
    guild = probe.get_guild(scene.guild.id)
    assert guild is not None and not guild.unavailable
    assert guild.default_role.id == scene.guild.id
    assert guild.owner_id == scene.owner.id
    assert isinstance(guild.get_channel(scene.vent.id), discord.ForumChannel)
    assert isinstance(guild.get_channel(scene.support.id), discord.TextChannel)
    moderator = guild.get_member(scene.moderator.id)
    assert moderator is not None and moderator.guild_permissions.manage_messages
    assert guild.get_member(scene.admin.id).guild_permissions.manage_guild  # type: ignore[union-attr]
    assert not guild.get_member(scene.alex.id).guild_permissions.manage_guild  # type: ignore[union-attr]
    assert guild.member_count == len(guild.members) and guild.chunked
    # overwrites are honoured by discord.py exactly as by the sandbox
    alerts = guild.get_channel(scene.mod_alerts.id)
    assert alerts is not None
    assert not alerts.permissions_for(guild.get_member(scene.alex.id)).view_channel  # type: ignore[arg-type]
    assert alerts.permissions_for(moderator).view_channel
    assert alerts.permissions_for(guild.me).send_messages


async def test_world_changes_after_connect_become_events(
    sandbox: Sandbox, scene: Scene, probe: ProbeBot
) -> None:
    channel = sandbox.world.add_text_channel(scene.guild, "new-room")
    created = await probe.log.wait_for("channel_create", lambda c: c.id == channel.id)
    assert created.name == "new-room"
    sandbox.world.delete_channel(channel)
    await probe.log.wait_for("channel_delete", lambda c: c.id == channel.id)

    sandbox.world.update_member(scene.guild, scene.alex, roles=[scene.mod_role])
    updated = await probe.log.wait_for("member_update", lambda m: m.id == scene.alex.id)
    assert scene.mod_role.id in [role.id for role in updated.roles]

    sandbox.world.remove_bot(scene.guild)
    await probe.log.wait_for("guild_remove", lambda g: g.id == scene.guild.id)
    assert probe.get_guild(scene.guild.id) is None
    sandbox.world.add_bot(scene.guild)
    await probe.log.wait_for("guild_join", lambda g: g.id == scene.guild.id)
    assert probe.get_guild(scene.guild.id) is not None


async def test_member_role_and_channel_lifecycle_events(
    sandbox: Sandbox, scene: Scene, probe: ProbeBot
) -> None:
    newcomer = sandbox.world.add_member(scene.guild, "newcomer")
    joined = await probe.log.wait_for("member_join", lambda m: m.id == newcomer.id)
    assert joined.name == "newcomer"
    sandbox.world.remove_member(scene.guild, newcomer)
    await probe.log.wait_for("member_remove", lambda m: m.id == newcomer.id)
    sandbox.world.update_channel(scene.general, name="lounge", topic="Anything goes")
    renamed = await probe.log.wait_for("channel_update", lambda c: c.id == scene.general.id)
    assert renamed.name == "lounge" and renamed.topic == "Anything goes"
    sandbox.world.delete_role(scene.mod_role)
    await probe.log.wait_for("role_delete", lambda r: r.id == scene.mod_role.id)
    guild = probe.get_guild(scene.guild.id)
    assert guild is not None and guild.get_role(scene.mod_role.id) is None


async def test_request_guild_members_is_answered_with_a_chunk(scene: Scene, probe: ProbeBot) -> None:
    guild = probe.get_guild(scene.guild.id)
    assert guild is not None
    found = await guild.query_members("al", limit=5)
    assert [member.id for member in found] == [scene.alex.id]


async def test_events_sent_while_disconnected_arrive_after_resume(
    sandbox: Sandbox, scene: Scene, probe: ProbeBot
) -> None:
    await sandbox.drop_gateway(close_code=4000)
    sent = await sandbox.member_says(scene.alex, scene.support, "said while the bot was away")
    assert await sandbox.wait_until_reconnected() == "RESUME"
    seen = await probe.log.wait_for("message", lambda m: m.id == sent.id)
    assert seen.content == "said while the bot was away"
    await probe.log.wait_for("resumed")
    assert sandbox.hub.resume_count == 1 and sandbox.hub.identify_count == 1
    assert len([m for m in probe.log.of("message") if m.id == sent.id]) == 1


async def test_op7_reconnect_resumes(sandbox: Sandbox, scene: Scene, probe: ProbeBot) -> None:
    sandbox.send_reconnect()
    await sandbox.wait_until_reconnected()
    await probe.log.wait_for("resumed")
    assert sandbox.hub.resume_count == 1


async def test_op9_invalid_session_makes_the_client_identify_again(
    sandbox: Sandbox, scene: Scene, probe: ProbeBot
) -> None:
    sandbox.invalidate_session(resumable=False)
    assert await sandbox.wait_until_reconnected() == "IDENTIFY"
    assert sandbox.hub.identify_count == 2
    await probe.log.wait_for("ready", lambda _: len(probe.log.of("ready")) >= 2)
    sent = await sandbox.member_says(scene.sam, scene.support, "still here")
    await probe.log.wait_for("message", lambda m: m.id == sent.id)


async def test_without_message_content_intent_content_is_empty(sandbox: Sandbox, scene: Scene) -> None:
    bot = ProbeBot(intents=discord.Intents.default())
    async with running_client(sandbox, bot):
        guild = bot.get_guild(scene.guild.id)
        assert guild is not None
        assert [m.id for m in guild.members] == [sandbox.bot_user.id]  # no GUILD_MEMBERS intent
        assert guild.member_count == len(scene.guild.members)
        plain = await sandbox.member_says(scene.alex, scene.support, "private words")
        seen = await bot.log.wait_for("message", lambda m: m.id == plain.id)
        assert seen.content == ""
        mention = await sandbox.member_says(scene.alex, scene.support, f"{sandbox.bot_user.mention} hello")
        seen = await bot.log.wait_for("message", lambda m: m.id == mention.id)
        assert seen.content.endswith("hello")
        dm = await sandbox.dm_bot(scene.alex, "a direct message")
        seen = await bot.log.wait_for("message", lambda m: m.id == dm.id)
        assert seen.content == "a direct message"
        # REST reads obey the intent too
        channel = guild.get_channel(scene.support.id)
        assert isinstance(channel, discord.TextChannel)
        fetched = await channel.fetch_message(plain.id)
        assert fetched.content == ""


async def test_without_guild_messages_intent_no_guild_messages(sandbox: Sandbox, scene: Scene) -> None:
    intents = discord.Intents.default()
    intents.guild_messages = False
    bot = ProbeBot(intents=intents)
    async with running_client(sandbox, bot):
        await sandbox.member_says(scene.alex, scene.support, "not for you")
        dm = await sandbox.dm_bot(scene.alex, "for you")
        await bot.log.wait_for("message", lambda m: m.id == dm.id)
        assert [m.id for m in bot.log.of("message")] == [dm.id]


async def test_bot_gets_no_messages_from_channels_it_cannot_see(
    sandbox: Sandbox, scene: Scene, probe: ProbeBot
) -> None:
    hidden = sandbox.world.add_text_channel(
        scene.guild,
        "staff-only",
        overwrites=[{"id": scene.guild.bot_role_id, "type": 0, "allow": 0, "deny": perms.VIEW_CHANNEL}],
    )
    await sandbox.member_says(scene.owner, hidden, "secret")
    visible = await sandbox.member_says(scene.alex, scene.support, "visible")
    await probe.log.wait_for("message", lambda m: m.id == visible.id)
    assert all(m.channel.id != hidden.id for m in probe.log.of("message"))


async def test_wrong_token_is_refused(sandbox: Sandbox, scene: Scene) -> None:
    bot = ProbeBot()
    with pytest.raises(discord.LoginFailure):
        async with running_client(sandbox, bot, token="not-the-token"):
            pass
    assert sandbox.calls[-1].status == 401


async def test_observer_sees_rest_and_gateway(sandbox: Sandbox, scene: Scene) -> None:
    events: list[SandboxEvent] = []
    unsubscribe = sandbox.on_event(events.append)
    bot = ProbeBot()
    async with running_client(sandbox, bot):
        await sandbox.member_says(scene.alex, scene.support, "ping")
        await sandbox.wait_for_message(lambda m: m.content == "pong")
    unsubscribe()
    kinds = {event.kind for event in events}
    assert {"rest", "gateway-out", "gateway-in", "note"} <= kinds
    assert any("READY" in event.summary for event in events)
    assert all(sandbox.token not in str(event.detail) for event in events if event.kind == "gateway-in")


async def test_env_and_url_overrides(sandbox: Sandbox) -> None:
    import discord.gateway
    import discord.http

    from bot.sandbox import point_discord_py_at

    env = sandbox.env_for_subprocess(prefix="APP_")
    assert env == {
        "APP_DISCORD_TOKEN": sandbox.token,
        "APP_DISCORD_API_BASE": sandbox.api_base,
        "APP_DISCORD_GATEWAY_URL": sandbox.gateway_url,
    }
    before = discord.http.Route.BASE
    with point_discord_py_at(sandbox):
        assert sandbox.api_base == discord.http.Route.BASE
        assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == sandbox.gateway_url
    assert before == discord.http.Route.BASE
