"""Heard's command tree: merges same-named command groups from several cogs and answers every error."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import discord
from discord import app_commands
from discord.utils import MISSING

from bot.checks import HeardCheckFailure
from bot.replies import SORRY, try_send_private

log = logging.getLogger(__name__)

SOMETHING_WENT_WRONG = SORRY
ERROR_SENTENCES: dict[type[app_commands.AppCommandError], str] = {
    app_commands.NoPrivateMessage: "This only works inside a server.",
    app_commands.MissingPermissions: "You need the Manage Server permission for that; nothing was changed.",
    app_commands.BotMissingPermissions: (
        "I don't have the permissions I need for that here; a server admin can check my role."
    ),
    app_commands.TransformerError: "I couldn't understand one of the options; please pick it from the list.",
    app_commands.CommandNotFound: "That command is out of date; please try again in a minute.",
    app_commands.CommandSignatureMismatch: "That command is out of date; please try again in a minute.",
}


def heard_group() -> app_commands.Group:
    """Return a fresh ``/heard`` group for one cog (the tree merges every cog's ``/heard`` into one)."""
    return app_commands.Group(
        name="heard",
        description="Heard setup and moderation",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )


class HeardTree(app_commands.CommandTree[Any]):
    """A command tree where several cogs can each declare the same top-level group (like ``/heard``).

    Adding a group whose name is already registered in the same scope merges its subcommands into
    the existing group; removing it (when its cog unloads) takes away only that cog's subcommands.
    """

    def add_command(
        self,
        command: app_commands.Command[Any, ..., Any] | app_commands.ContextMenu | app_commands.Group,
        /,
        *,
        guild: discord.abc.Snowflake | None = MISSING,
        guilds: Sequence[discord.abc.Snowflake] = MISSING,
        override: bool = False,
    ) -> None:
        """Add a command; a group named like an existing group in the same scope is merged into it."""
        if isinstance(command, app_commands.Group) and command.parent is None and not override:
            is_single_scope, scope = _single_scope(command, guild, guilds)
            if is_single_scope:
                existing = self.get_command(command.name, guild=scope)
                if isinstance(existing, app_commands.Group) and existing is not command:
                    _merge_group(existing, command)
                    return
        super().add_command(command, guild=guild, guilds=guilds, override=override)

    def remove_command(  # type: ignore[override]
        self,
        command: str,
        /,
        *,
        guild: discord.abc.Snowflake | None = None,
        type: discord.AppCommandType = discord.AppCommandType.chat_input,
    ) -> app_commands.Command[Any, ..., Any] | app_commands.ContextMenu | app_commands.Group | None:
        """Remove a command; for a merged group only the subcommands of unloaded cogs are removed."""
        if type is discord.AppCommandType.chat_input:
            existing = self.get_command(command, guild=guild)
            if isinstance(existing, app_commands.Group):
                live_cogs = {id(cog) for cog in getattr(self.client, "cogs", {}).values()}
                children = list(existing.commands)
                stale = [child for child in children if _bound_to_unloaded_cog(child, live_cogs)]
                if stale and len(stale) < len(children):
                    for child in stale:
                        existing.remove_command(child.name)
                    return None
        return super().remove_command(command, guild=guild, type=type)

    async def on_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        """Answer the member with one readable ephemeral sentence, and log unexpected errors in full."""
        command_name = interaction.command.qualified_name if interaction.command else "?"
        if isinstance(error, HeardCheckFailure):
            log.info("/%s refused for user %s: %s", command_name, interaction.user.id, type(error).__name__)
            await try_send_private(interaction, str(error))
            return
        if isinstance(error, app_commands.CommandOnCooldown):
            await try_send_private(
                interaction, f"Let's pause a moment; you can try again in {error.retry_after:.0f} seconds."
            )
            return
        sentence = next(
            (text for kind, text in ERROR_SENTENCES.items() if isinstance(error, kind)), SOMETHING_WENT_WRONG
        )
        original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        log.error(
            "error in /%s (guild %s, user %s)",
            command_name,
            interaction.guild_id,
            interaction.user.id,
            exc_info=(type(original), original, original.__traceback__),
        )
        await try_send_private(interaction, sentence)


def _single_scope(
    command: app_commands.Group,
    guild: discord.abc.Snowflake | None,
    guilds: Sequence[discord.abc.Snowflake],
) -> tuple[bool, discord.abc.Snowflake | None]:
    """Return ``(True, scope)`` when a group goes to exactly one scope (None = global, or a guild)."""
    if guild is not MISSING and guilds is not MISSING:
        return False, None
    if guilds is not MISSING:
        return (True, guilds[0]) if len(guilds) == 1 else (False, None)
    if guild is not MISSING:
        return True, guild
    guild_ids = getattr(command, "_guild_ids", None)
    if guild_ids is None:
        return True, None
    return (True, discord.Object(id=guild_ids[0])) if len(guild_ids) == 1 else (False, None)


def _merge_group(existing: app_commands.Group, incoming: app_commands.Group) -> None:
    """Move every subcommand of ``incoming`` into ``existing``; refuse duplicates before changing anything."""
    clashes = sorted(set(existing._children) & set(incoming._children))
    if clashes:
        raise app_commands.CommandAlreadyRegistered(f"{existing.name} {clashes[0]}", None)
    for child in list(incoming.commands):
        existing.add_command(child)


def _bound_to_unloaded_cog(
    command: app_commands.Command[Any, ..., Any] | app_commands.Group, live_cogs: set[int]
) -> bool:
    """Return whether ``command`` belongs to a cog that is no longer loaded."""
    binding = getattr(command, "binding", None)
    if binding is None:
        return False
    return id(binding) not in live_cogs
