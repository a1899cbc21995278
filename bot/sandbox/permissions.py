"""Discord permission bits and the permission computation Discord performs for a member in a channel.

The algorithm follows Discord's documentation ("Permission Hierarchy"): owner and administrator get
everything; otherwise base permissions are @everyone plus the member's roles, then channel overwrites are
applied in the order @everyone, roles (all denies then all allows), member.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

CREATE_INSTANT_INVITE = 1 << 0
KICK_MEMBERS = 1 << 1
BAN_MEMBERS = 1 << 2
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_EXTERNAL_EMOJIS = 1 << 18
CONNECT = 1 << 20
SPEAK = 1 << 21
CHANGE_NICKNAME = 1 << 26
MANAGE_ROLES = 1 << 28
USE_APPLICATION_COMMANDS = 1 << 31
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
SEND_MESSAGES_IN_THREADS = 1 << 38
MODERATE_MEMBERS = 1 << 40

SEND_TTS_MESSAGES = 1 << 12

ALL_PERMISSIONS = (1 << 53) - 1
ALL_CHANNEL_PERMISSIONS = 8555290110197585
"""Every permission that can be set per channel (``discord.Permissions.all_channel()``)."""
TIMEOUT_KEPT_PERMISSIONS = VIEW_CHANNEL | READ_MESSAGE_HISTORY
"""A timed-out member keeps only these (in channels), as Discord and discord.py compute."""

DEFAULT_EVERYONE_PERMISSIONS = (
    CREATE_INSTANT_INVITE
    | ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | MENTION_EVERYONE
    | USE_EXTERNAL_EMOJIS
    | CONNECT
    | SPEAK
    | CHANGE_NICKNAME
    | USE_APPLICATION_COMMANDS
    | CREATE_PUBLIC_THREADS
    | SEND_MESSAGES_IN_THREADS
)
"""Roughly what Discord gives @everyone in a new server."""

DEFAULT_BOT_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | ADD_REACTIONS
    | SEND_MESSAGES_IN_THREADS
    | CREATE_PUBLIC_THREADS
    | USE_APPLICATION_COMMANDS
)
"""The permissions the bot's managed role gets unless a test says otherwise."""

OVERWRITE_ROLE = 0
OVERWRITE_MEMBER = 1


def compute_base_permissions(
    *,
    user_id: int,
    owner_id: int,
    everyone_permissions: int,
    role_permissions: Iterable[int],
) -> int:
    """Return a member's guild-wide permissions from @everyone and their roles (owner/admin = all)."""
    if user_id == owner_id:
        return ALL_PERMISSIONS
    permissions = everyone_permissions
    for value in role_permissions:
        permissions |= value
    if permissions & ADMINISTRATOR:
        return ALL_PERMISSIONS
    return permissions


def apply_overwrites(
    base: int,
    *,
    guild_id: int,
    user_id: int,
    member_role_ids: Iterable[int],
    overwrites: Iterable[Mapping[str, Any]],
) -> int:
    """Apply a channel's permission overwrites (Discord payload dicts) to base permissions."""
    if base & ADMINISTRATOR or base == ALL_PERMISSIONS:
        return ALL_PERMISSIONS
    by_id = {int(item["id"]): item for item in overwrites}
    permissions = base
    everyone = by_id.get(guild_id)
    if everyone is not None:
        permissions &= ~int(everyone.get("deny", 0))
        permissions |= int(everyone.get("allow", 0))
    role_ids = {int(role_id) for role_id in member_role_ids}
    allow = deny = 0
    for overwrite_id, overwrite in by_id.items():
        if overwrite_id in role_ids and int(overwrite.get("type", OVERWRITE_ROLE)) == OVERWRITE_ROLE:
            allow |= int(overwrite.get("allow", 0))
            deny |= int(overwrite.get("deny", 0))
    permissions &= ~deny
    permissions |= allow
    member = by_id.get(user_id)
    if member is not None and int(member.get("type", OVERWRITE_MEMBER)) == OVERWRITE_MEMBER:
        permissions &= ~int(member.get("deny", 0))
        permissions |= int(member.get("allow", 0))
    return permissions


def apply_implicit(permissions: int, *, in_thread: bool = False) -> int:
    """Apply Discord's implicit rules.

    No Send Messages (in a thread: Send Messages in Threads) means no TTS, @everyone, embeds or files; no
    View Channel means no channel rights.
    """
    if permissions == ALL_PERMISSIONS:
        return permissions
    if not permissions & (SEND_MESSAGES_IN_THREADS if in_thread else SEND_MESSAGES):
        permissions &= ~(SEND_TTS_MESSAGES | MENTION_EVERYONE | EMBED_LINKS | ATTACH_FILES)
    if not permissions & VIEW_CHANNEL:
        permissions &= ~ALL_CHANNEL_PERMISSIONS
    return permissions
