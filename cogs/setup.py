"""Guild setup: ``/heard setup``, ``/heard watch``, ``/heard unwatch`` and ``/heard status`` (admins only).

Every answer is ephemeral; Manage Server is required by default and checked again on every use.
Other cogs add sections to ``/heard status`` by defining ``describe_guild(guild_id) -> [(name, value)]``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import own_permissions, require_admin
from bot.replies import send_private
from bot.storage.guilds import GuildConfig, WatchKind
from bot.tree import heard_group

if TYPE_CHECKING:
    from bot.bot import HeardBot

log = logging.getLogger(__name__)

MAX_WATCHED_CHANNELS = 50
EMBED_FIELD_LIMIT = 1024
EMBED_MAX_FIELDS = 25
SupportChannel = discord.TextChannel | discord.ForumChannel


class Setup(commands.Cog):
    """Admin commands that choose the moderator channel, the moderator role and the watched channels."""

    heard = heard_group()

    def __init__(self, bot: HeardBot) -> None:
        """Keep the bot for its repositories."""
        self.bot = bot

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        """Allow only members with Manage Server (checked at run time, whatever Discord's defaults say)."""
        return require_admin(interaction)

    @heard.command(
        name="setup", description="Choose where Heard sends moderator alerts, and the moderator role"
    )
    @app_commands.describe(
        mod_channel="The private channel where moderators should get Heard's alerts",
        role="The role your moderators have (pinged for urgent crisis alerts)",
    )
    async def setup_command(
        self,
        interaction: discord.Interaction[Any],
        mod_channel: discord.TextChannel,
        role: discord.Role | None = None,
    ) -> None:
        """Store the moderator channel and role, then confirm (with a warning if Heard can't post there)."""
        assert interaction.guild is not None
        refusal = await self._setup_refusal(interaction.guild, mod_channel, role)
        if refusal:
            await send_private(interaction, f"{refusal} Nothing was changed.")
            return
        await self.bot.guild_configs.set_moderation(
            interaction.guild.id, mod_channel.id, role.id if role else None, interaction.user.id
        )
        who = (
            f"moderators are people with {role.mention} or Manage Messages"
            if role
            else "with no moderator role set, moderators are people with Manage Messages"
        )
        answer = f"Done: Heard will send moderator alerts to {mod_channel.mention}, and {who}."
        problem = _posting_problem(mod_channel)
        next_step = (
            f"Heads up: {problem}" if problem else "Next, pick the support channels with `/heard watch`."
        )
        await send_private(interaction, f"{answer}\n{next_step}")

    async def _setup_refusal(
        self, guild: discord.Guild, mod_channel: discord.TextChannel, role: discord.Role | None
    ) -> str | None:
        """Return why this moderator channel/role can't be used, or None if they can."""
        if role is not None and (role.is_default() or role.managed):
            return (
                f"The role {role.name!r} can't be the moderator role; please pick one only moderators have."
            )
        if mod_channel.permissions_for(guild.default_role).view_channel:
            return (
                f"Everyone in the server can see {mod_channel.mention}, so alerts about members would be "
                "public there; please pick a channel only moderators can see."
            )
        if await self.bot.guild_configs.is_watched(guild.id, mod_channel.id):
            return (
                f"{mod_channel.mention} is a watched support channel, so alerts about members would be "
                "visible there; please pick a private moderators' channel."
            )
        return None

    @heard.command(name="watch", description="Have Heard listen in a support channel or forum")
    @app_commands.describe(channel="A text channel, or a forum whose threads are support threads")
    async def watch_command(self, interaction: discord.Interaction[Any], channel: SupportChannel) -> None:
        """Start watching a text or forum channel."""
        assert interaction.guild is not None
        config = await self.bot.guild_configs.get(interaction.guild.id)
        refusal = _watch_refusal(config, channel)
        if refusal:
            await send_private(interaction, refusal)
            return
        kind: WatchKind = "forum" if isinstance(channel, discord.ForumChannel) else "text"
        await self.bot.guild_configs.watch(
            interaction.guild.id, channel.id, kind, by_user_id=interaction.user.id
        )
        where = f"new threads in {channel.mention}" if kind == "forum" else channel.mention
        lines = [f"Heard is now listening in {where}."]
        problem = _reading_problem(channel)
        if problem:
            lines.append(f"Heads up: {problem}")
        if not config.is_set_up:
            lines.append("Moderator alerts need a channel too: run `/heard setup` when you're ready.")
        await send_private(interaction, "\n".join(lines))

    @heard.command(name="unwatch", description="Stop Heard listening in a channel or forum")
    @app_commands.describe(channel="A channel Heard is watching")
    async def unwatch_command(self, interaction: discord.Interaction[Any], channel: SupportChannel) -> None:
        """Stop watching a channel."""
        assert interaction.guild is not None
        if await self.bot.guild_configs.unwatch(interaction.guild.id, channel.id):
            await send_private(interaction, f"Heard has stopped listening in {channel.mention}.")
        else:
            await send_private(
                interaction, f"Heard wasn't listening in {channel.mention}, so nothing changed."
            )

    @heard.command(name="status", description="Show how Heard is set up in this server")
    async def status_command(self, interaction: discord.Interaction[Any]) -> None:
        """Show the configuration, plus the sections other cogs contribute."""
        assert interaction.guild is not None
        embed = await self.status_embed(interaction.guild)
        await send_private(interaction, embed=embed)

    async def status_embed(self, guild: discord.Guild) -> discord.Embed:
        """Build the ``/heard status`` embed for ``guild``."""
        config = await self.bot.guild_configs.get(guild.id)
        embed = discord.Embed(title="Heard in this server", colour=discord.Colour.teal())
        embed.add_field(
            name="Moderator channel",
            value=f"<#{config.mod_channel_id}>"
            if config.mod_channel_id
            else "Not set yet: use `/heard setup`",
            inline=False,
        )
        embed.add_field(
            name="Moderator role",
            value=f"<@&{config.mod_role_id}>" if config.mod_role_id else "Not set (Manage Messages counts)",
            inline=False,
        )
        watched = [
            f"<#{channel.channel_id}>" + (" (forum)" if channel.kind == "forum" else "")
            for channel in config.watched
        ]
        embed.add_field(
            name=f"Watched channels ({len(watched)})",
            value=_clip(", ".join(watched)) if watched else "None yet: use `/heard watch`",
            inline=False,
        )
        if config.setup_by_user_id:
            embed.add_field(name="Set up by", value=f"<@{config.setup_by_user_id}>", inline=False)
        for name, value in await self._contributed_sections(guild.id):
            if len(embed.fields) >= EMBED_MAX_FIELDS:
                break
            embed.add_field(name=_clip(name, 256), value=_clip(value), inline=False)
        embed.set_footer(text="Heard is software that suggests; people decide.")
        return embed

    async def _contributed_sections(self, guild_id: int) -> list[tuple[str, str]]:
        """Collect ``describe_guild`` sections from other cogs; a failing one is noted, not fatal."""
        sections: list[tuple[str, str]] = []
        for cog_name, cog in sorted(self.bot.cogs.items()):
            describe = getattr(cog, "describe_guild", None)
            if cog is self or describe is None:
                continue
            try:
                sections.extend(await describe(guild_id))
            except Exception:
                log.exception("describe_guild failed in cog %s", cog_name)
                sections.append((cog_name, "Couldn't load this section right now."))
        return sections


def _watch_refusal(config: GuildConfig, channel: SupportChannel) -> str | None:
    """Return why ``channel`` can't (or needn't) be watched, or None if it can."""
    if channel.id == config.mod_channel_id:
        return f"{channel.mention} is the moderator channel, so Heard won't watch it. Nothing was changed."
    if channel.id in config.watched_channel_ids:
        return f"Heard is already listening in {channel.mention}."
    if len(config.watched) >= MAX_WATCHED_CHANNELS:
        return (
            f"Heard can watch up to {MAX_WATCHED_CHANNELS} channels; "
            "please `/heard unwatch` one first. Nothing was changed."
        )
    return None


def _posting_problem(channel: discord.TextChannel) -> str | None:
    """Return a sentence about permissions Heard lacks to post alerts in ``channel``, or None."""
    permissions = own_permissions(channel)
    if permissions is None:
        return None  # unknown here: delivery reports a refusal to the admin if there is one
    missing = [
        label
        for label, granted in (
            ("View Channel", permissions.view_channel),
            ("Send Messages", permissions.send_messages),
            ("Embed Links", permissions.embed_links),
        )
        if not granted
    ]
    if not missing:
        return None
    return f"Heard can't post there yet; please give its role {', '.join(missing)} in {channel.mention}."


def _reading_problem(channel: SupportChannel) -> str | None:
    """Return a sentence about permissions Heard lacks to read ``channel``, or None."""
    permissions = own_permissions(channel)
    if permissions is None:
        return None  # unknown here: Heard simply sees no messages there until it can
    missing = [
        label
        for label, granted in (
            ("View Channel", permissions.view_channel),
            ("Read Message History", permissions.read_message_history),
        )
        if not granted
    ]
    if not missing:
        return None
    return f"Heard can't read there yet; please give its role {', '.join(missing)} in {channel.mention}."


def _clip(text: str, limit: int = EMBED_FIELD_LIMIT) -> str:
    """Shorten ``text`` to fit an embed field."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def setup(bot: HeardBot) -> None:
    """Load the setup cog."""
    await bot.add_cog(Setup(bot))
