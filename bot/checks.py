"""Permission checks shared by every cog: admins (Manage Server) and moderators (Manage Messages or role).

Both are checked at run time on every use, whatever Discord's default permissions say.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

NOT_IN_SERVER = "This only works inside a server."
ADMIN_REFUSAL = (
    "Only people with the Manage Server permission can change Heard's setup, so nothing was changed."
)
MODERATOR_REFUSAL = "Only this server's moderators can do that, so nothing was changed."


class HeardCheckFailure(app_commands.CheckFailure):
    """A check failed; ``str(error)`` is the one sentence shown (ephemerally) to the member."""


class NotInGuild(HeardCheckFailure):
    """The interaction came from a DM but needs a server."""

    def __init__(self) -> None:
        """Carry the sentence shown to the member."""
        super().__init__(NOT_IN_SERVER)


class NotAdmin(HeardCheckFailure):
    """The member lacks Manage Server."""

    def __init__(self) -> None:
        """Carry the sentence shown to the member."""
        super().__init__(ADMIN_REFUSAL)


class NotModerator(HeardCheckFailure):
    """The member is not a moderator."""

    def __init__(self) -> None:
        """Carry the sentence shown to the member."""
        super().__init__(MODERATOR_REFUSAL)


def _permissions_of(interaction: discord.Interaction[Any]) -> discord.Permissions:
    """Return the member's permissions from the interaction payload merged with their cached roles."""
    permissions = discord.Permissions(interaction.permissions.value)
    if isinstance(interaction.user, discord.Member):
        permissions.value |= interaction.user.guild_permissions.value
    return permissions


def is_admin(interaction: discord.Interaction[Any]) -> bool:
    """Return whether the member may change Heard's setup here (Manage Server or Administrator)."""
    if interaction.guild is None:
        return False
    if interaction.guild.owner_id == interaction.user.id:
        return True
    permissions = _permissions_of(interaction)
    return permissions.administrator or permissions.manage_guild


def is_moderator(interaction: discord.Interaction[Any], mod_role_id: int | None) -> bool:
    """Return whether the member is a moderator: Manage Messages, Manage Server, or the moderator role."""
    if interaction.guild is None:
        return False
    if is_admin(interaction):
        return True
    if _permissions_of(interaction).manage_messages:
        return True
    if mod_role_id is None or not isinstance(interaction.user, discord.Member):
        return False
    return has_role(interaction.user, mod_role_id)


def has_role(member: discord.Member, role_id: int) -> bool:
    """Return whether ``member`` holds the role, going by the role ids Discord sent with the member.

    ``Member.roles`` and ``Member.get_role`` drop roles missing from the guild cache; the ids do not.
    """
    return role_id in member._roles or any(role.id == role_id for role in member.roles)


def require_admin(interaction: discord.Interaction[Any]) -> bool:
    """Return True for admins; otherwise raise the check failure whose sentence the tree sends."""
    if interaction.guild is None:
        raise NotInGuild()
    if not is_admin(interaction):
        raise NotAdmin()
    return True


def require_moderator(interaction: discord.Interaction[Any], mod_role_id: int | None) -> bool:
    """Return True for moderators; otherwise raise the check failure whose sentence the tree sends."""
    if interaction.guild is None:
        raise NotInGuild()
    if not is_moderator(interaction, mod_role_id):
        raise NotModerator()
    return True


admin_only = app_commands.check(require_admin)
"""Decorator for app commands that need Manage Server (``@admin_only`` under ``@group.command``)."""


def own_permissions(channel: discord.abc.GuildChannel | discord.Thread) -> discord.Permissions | None:
    """Return Heard's own permissions in ``channel``, or None when they are unknown.

    Without the members intent, Heard's own member may be missing from the cache (``guild.me`` is None);
    callers then go ahead and handle Discord's ``Forbidden`` instead of guessing.
    """
    me: discord.Member | None = channel.guild.me
    return None if me is None else channel.permissions_for(me)
