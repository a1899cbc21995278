"""``/heard setup``, ``/heard watch``, ``/heard unwatch``, ``/heard status`` through the sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import HeardBot
from bot.checks import ADMIN_REFUSAL
from bot.sandbox import Overwrite
from bot.sandbox import permissions as perms
from tests.conftest import ANSWER_TIMEOUT, StartHeard, configure_guild


async def run(sandbox: Any, user: Any, command: str, *, force: bool = False, **options: Any) -> Any:
    """Run a slash command as ``user`` and return Heard's first answer.

    ``force`` sends it even where Discord's default permissions would hide the command, as happens when
    a server overrides them in its Integrations settings: Heard must still check at run time.
    """
    interaction = await sandbox.slash(user, sandbox.scene.guild, command, force=force, **options)
    return await interaction.response(timeout=ANSWER_TIMEOUT)


async def test_admin_sets_up_watches_and_sees_status(sandbox: Any, heard: HeardBot) -> None:
    scene = sandbox.scene
    setup, watch_support, watch_vent = await configure_guild(sandbox)

    assert setup.ephemeral and watch_support.ephemeral and watch_vent.ephemeral
    assert setup.content.startswith(
        f"Done: Heard will send moderator alerts to <#{scene.mod_alerts.id}>, and moderators are people with "
        f"<@&{scene.mod_role.id}> or Manage Messages."
    )
    assert "Heads up" not in setup.content  # the seeded bot can post in the mod channel
    assert watch_support.content == f"Heard is now listening in <#{scene.support.id}>."
    assert watch_vent.content == f"Heard is now listening in new threads in <#{scene.vent.id}>."

    config = await heard.guild_configs.get(scene.guild.id)
    assert config.mod_channel_id == scene.mod_alerts.id
    assert config.mod_role_id == scene.mod_role.id
    assert config.setup_by_user_id == scene.admin.id
    assert {(channel.channel_id, channel.kind) for channel in config.watched} == {
        (scene.support.id, "text"),
        (scene.vent.id, "forum"),
    }

    status = await run(sandbox, scene.admin, "heard status")
    assert status.ephemeral
    text = status.text()
    assert f"<#{scene.mod_alerts.id}>" in text and f"<@&{scene.mod_role.id}>" in text
    assert f"<#{scene.support.id}>" in text and f"<#{scene.vent.id}> (forum)" in text
    assert "Watched channels (2)" in text


async def test_status_before_setup_says_what_to_do(sandbox: Any, heard: HeardBot) -> None:
    status = await run(sandbox, sandbox.scene.admin, "heard status")
    assert status.ephemeral
    assert "Not set yet: use `/heard setup`" in status.text()
    assert "None yet: use `/heard watch`" in status.text()


async def test_unwatch(sandbox: Any, heard: HeardBot) -> None:
    scene = sandbox.scene
    await configure_guild(sandbox, watch=[scene.support])
    answer = await run(sandbox, scene.admin, "heard unwatch", channel=scene.support)
    assert answer.ephemeral and answer.content == f"Heard has stopped listening in <#{scene.support.id}>."
    assert not await heard.guild_configs.is_watched(scene.guild.id, scene.support.id)
    again = await run(sandbox, scene.admin, "heard unwatch", channel=scene.support)
    assert again.ephemeral and "wasn't listening" in again.content


async def test_watching_twice_and_watching_the_mod_channel_are_answered_clearly(
    sandbox: Any, heard: HeardBot
) -> None:
    scene = sandbox.scene
    await configure_guild(sandbox, watch=[scene.support])
    twice = await run(sandbox, scene.admin, "heard watch", channel=scene.support)
    assert twice.ephemeral and "already listening" in twice.content
    mod = await run(sandbox, scene.admin, "heard watch", channel=scene.mod_alerts)
    assert mod.ephemeral and "moderator channel" in mod.content and "Nothing was changed" in mod.content
    assert not await heard.guild_configs.is_watched(scene.guild.id, scene.mod_alerts.id)


async def test_setup_refuses_the_everyone_role_and_channels_everyone_can_see(
    sandbox: Any, heard: HeardBot
) -> None:
    scene = sandbox.scene
    everyone = await run(
        sandbox, scene.admin, "heard setup", mod_channel=scene.mod_alerts, role=scene.guild.everyone
    )
    assert everyone.ephemeral and "can't be the moderator role" in everyone.content
    assert "Nothing was changed." in everyone.content

    public = await run(sandbox, scene.admin, "heard setup", mod_channel=scene.general, role=scene.mod_role)
    assert public.ephemeral
    assert public.content == (
        f"Everyone in the server can see <#{scene.general.id}>, so alerts about members would be public "
        "there; please pick a channel only moderators can see. Nothing was changed."
    )
    assert not (await heard.guild_configs.get(scene.guild.id)).is_set_up


async def test_setup_refuses_a_watched_support_channel(sandbox: Any, heard: HeardBot) -> None:
    scene = sandbox.scene
    private_support = sandbox.world.add_text_channel(
        scene.guild, "peer-team", overwrites=[Overwrite(scene.guild, deny=perms.VIEW_CHANNEL)]
    )
    await run(sandbox, scene.admin, "heard watch", channel=private_support)
    answer = await run(sandbox, scene.admin, "heard setup", mod_channel=private_support)
    assert answer.ephemeral and "is a watched support channel" in answer.content
    assert not (await heard.guild_configs.get(scene.guild.id)).is_set_up


async def test_setup_without_a_role_says_who_counts_as_a_moderator(sandbox: Any, heard: HeardBot) -> None:
    scene = sandbox.scene
    answer = await run(sandbox, scene.admin, "heard setup", mod_channel=scene.mod_alerts)
    assert answer.ephemeral and "with no moderator role set, moderators are people with Manage Messages" in (
        answer.content
    )
    config = await heard.guild_configs.get(scene.guild.id)
    assert config.mod_channel_id == scene.mod_alerts.id and config.mod_role_id is None


async def test_setup_and_watch_warn_when_heard_lacks_permissions_there(sandbox: Any, heard: HeardBot) -> None:
    scene = sandbox.scene
    world = sandbox.world
    bot_role = world.bot_role(scene.guild)
    locked = world.add_text_channel(
        scene.guild,
        "locked-mods",
        overwrites=[
            Overwrite(scene.guild, deny=perms.VIEW_CHANNEL),
            Overwrite(bot_role, allow=perms.VIEW_CHANNEL, deny=perms.SEND_MESSAGES | perms.EMBED_LINKS),
        ],
    )
    hidden = world.add_text_channel(
        scene.guild, "hidden-support", overwrites=[Overwrite(bot_role, deny=perms.READ_MESSAGE_HISTORY)]
    )
    answer = await run(sandbox, scene.admin, "heard setup", mod_channel=locked, role=scene.mod_role)
    assert answer.ephemeral
    assert answer.content.startswith(f"Done: Heard will send moderator alerts to <#{locked.id}>, and")
    expected = "Heads up: Heard can't post there yet; please give its role Send Messages, Embed Links in "
    expected += f"<#{locked.id}>."
    assert expected in answer.content
    assert "Send Messages, Embed Links" in answer.content and "View Channel" not in answer.content
    assert (await heard.guild_configs.get(scene.guild.id)).mod_channel_id == locked.id  # stored all the same

    watched = await run(sandbox, scene.admin, "heard watch", channel=hidden)
    assert watched.ephemeral and "Heads up: Heard can't read there yet" in watched.content
    assert "Read Message History" in watched.content
    assert await heard.guild_configs.is_watched(scene.guild.id, hidden.id)


async def test_member_without_manage_server_is_refused_and_nothing_is_stored(
    sandbox: Any, heard: HeardBot
) -> None:
    scene = sandbox.scene
    for user in (scene.alex, scene.moderator):
        attempts = [
            ("heard setup", {"mod_channel": scene.general, "role": scene.mod_role}),
            ("heard watch", {"channel": scene.general}),
            ("heard unwatch", {"channel": scene.general}),
            ("heard status", {}),
        ]
        for command, options in attempts:
            answer = await run(sandbox, user, command, force=True, **options)
            assert answer.ephemeral, command
            assert answer.content == ADMIN_REFUSAL, command
    rows = await heard.db.fetch_all("SELECT * FROM guild_config")
    watched = await heard.db.fetch_all("SELECT * FROM watched_channel")
    assert rows == [] and watched == []


class ContributingCog(commands.Cog):
    """A cog that adds its own ``/heard`` subcommand and a status section, like the feature cogs do."""

    heard = app_commands.Group(
        name="heard",
        description="Heard setup and moderation",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    @heard.command(name="ping", description="Answer pong")
    async def ping(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_message("pong", ephemeral=True)

    async def describe_guild(self, guild_id: int) -> list[tuple[str, str]]:
        return [("Test section", f"guild {guild_id}")]


class BrokenSectionCog(commands.Cog):
    async def describe_guild(self, guild_id: int) -> list[tuple[str, str]]:
        raise RuntimeError("boom")


async def test_groups_from_two_cogs_merge_and_status_shows_their_sections(
    sandbox: Any, heard: HeardBot
) -> None:
    scene = sandbox.scene
    await heard.add_cog(ContributingCog())
    await heard.add_cog(BrokenSectionCog())
    heard.commands_synced.clear()
    await heard.sync_commands()
    assert heard.commands_synced.is_set()

    pong = await run(sandbox, scene.admin, "heard ping")
    assert pong.ephemeral and pong.content == "pong"
    status = await run(sandbox, scene.admin, "heard status")
    assert f"Test section\nguild {scene.guild.id}" in status.text()
    assert "Couldn't load this section right now." in status.text()


async def test_configuration_survives_a_restart(sandbox: Any, start_heard: StartHeard, db_path: Path) -> None:
    scene = sandbox.scene
    bot = await start_heard(db_path=db_path)
    await configure_guild(sandbox)
    await bot.close()

    restarted = await start_heard(db_path=db_path)
    assert restarted is not bot
    status = await run(sandbox, scene.admin, "heard status")
    assert f"<#{scene.mod_alerts.id}>" in status.text() and "Watched channels (2)" in status.text()
    assert await restarted.guild_configs.is_watched(scene.guild.id, scene.support.id)
