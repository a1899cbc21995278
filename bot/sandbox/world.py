"""The sandbox's world: users, guilds, roles, channels, threads, members and messages.

Every record can render itself as the exact Discord API payload discord.py parses. Changes made after a
client connected are announced through the ``emit`` hook the :class:`~bot.sandbox.server.Sandbox` installs,
which turns them into gateway events (GUILD_CREATE, CHANNEL_CREATE, MESSAGE_CREATE, ...).
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from bot.sandbox import permissions as perms


class _HasId(Protocol):
    """Any world record: it has a snowflake id."""

    @property
    def id(self) -> int: ...


_Record = TypeVar("_Record", bound=_HasId)

DISCORD_EPOCH_MS = 1420070400000

GUILD_TEXT = 0
DM = 1
GUILD_CATEGORY = 4
PUBLIC_THREAD = 11
PRIVATE_THREAD = 12
GUILD_FORUM = 15
THREAD_TYPES = frozenset({10, PUBLIC_THREAD, PRIVATE_THREAD})

MESSAGE_DEFAULT = 0
MESSAGE_REPLY = 19
MESSAGE_CHAT_INPUT_COMMAND = 20
MESSAGE_CONTEXT_MENU_COMMAND = 23

TEXT_DISPLAY = 10

EPHEMERAL_FLAG = 1 << 6
LOADING_FLAG = 1 << 7

USER_MENTION = re.compile(r"<@!?(\d{15,21})>")
ROLE_MENTION = re.compile(r"<@&(\d{15,21})>")

Payload = dict[str, Any]
EmitHook = Callable[[str, Payload, "int | None", "int | None"], None]


class SandboxError(RuntimeError):
    """Raised when a test asks the sandbox for something impossible (unknown command, missing option...)."""


class HasPermissionValue(Protocol):
    """Anything with an integer ``value`` (``discord.Permissions`` qualifies)."""

    @property
    def value(self) -> int:
        """The permission bits."""
        ...


PermissionLike = int | HasPermissionValue


def permission_bits(value: PermissionLike) -> int:
    """Return the integer bits of an int or a ``discord.Permissions``-like object."""
    return value if isinstance(value, int) else int(value.value)


def iso_timestamp(moment: dt.datetime | None = None) -> str:
    """Return a Discord-style ISO-8601 timestamp for ``moment`` (now by default)."""
    return (moment or dt.datetime.now(dt.UTC)).isoformat()


def snowflake_time(snowflake: int) -> dt.datetime:
    """Return the creation time encoded in a snowflake."""
    return dt.datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, tz=dt.UTC)


class SnowflakeFactory:
    """Hands out increasing, time-based snowflakes (one factory per sandbox; no global state)."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        """Return a new snowflake greater than every one handed out before."""
        candidate = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last = max(candidate, self._last + 1)
        return self._last


@dataclass
class UserRecord:
    """A Discord user (a member, the bot, or the guild owner)."""

    id: int
    name: str
    bot: bool = False
    dms_closed: bool = False
    global_name: str | None = None

    @property
    def mention(self) -> str:
        """The ``<@id>`` mention string."""
        return f"<@{self.id}>"

    def payload(self) -> Payload:
        """Return the user object payload."""
        return {
            "id": str(self.id),
            "username": self.name,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }


@dataclass
class RoleRecord:
    """A guild role; the @everyone role has the guild's id."""

    id: int
    guild_id: int
    name: str
    permissions: int
    position: int = 0
    color: int = 0
    hoist: bool = False
    mentionable: bool = False
    managed: bool = False
    bot_id: int | None = None

    @property
    def mention(self) -> str:
        """The ``<@&id>`` mention string."""
        return f"<@&{self.id}>"

    def payload(self) -> Payload:
        """Return the role object payload."""
        data: Payload = {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": self.color,
            "colors": {"primary_color": self.color, "secondary_color": None, "tertiary_color": None},
            "hoist": self.hoist,
            "managed": self.managed,
            "mentionable": self.mentionable,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data


@dataclass
class MemberRecord:
    """A user's membership in one guild."""

    user: UserRecord
    guild_id: int
    role_ids: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=iso_timestamp)
    communication_disabled_until: str | None = None

    def payload(self, *, with_user: bool = True) -> Payload:
        """Return the guild member payload (optionally without the nested user, as in MESSAGE_CREATE)."""
        data: Payload = {
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "roles": [str(role_id) for role_id in self.role_ids],
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": self.communication_disabled_until,
        }
        if with_user:
            data["user"] = self.user.payload()
        return data


@dataclass
class ChannelRecord:
    """A guild channel, category, forum, thread, or a DM channel."""

    id: int
    type: int
    name: str
    guild_id: int | None = None
    position: int = 0
    overwrites: list[Payload] = field(default_factory=list)
    parent_id: int | None = None
    topic: str | None = None
    owner_id: int | None = None
    recipient_id: int | None = None
    last_message_id: int | None = None
    message_count: int = 0
    archived: bool = False
    locked: bool = False
    created_at: str = field(default_factory=iso_timestamp)

    @property
    def mention(self) -> str:
        """The ``<#id>`` mention string."""
        return f"<#{self.id}>"

    @property
    def is_thread(self) -> bool:
        """Whether this channel is a thread."""
        return self.type in THREAD_TYPES

    @property
    def is_dm(self) -> bool:
        """Whether this is a DM channel."""
        return self.type == DM

    def payload(self, *, recipients: Sequence[UserRecord] = ()) -> Payload:
        """Return the channel payload (threads and DMs get their own shapes)."""
        if self.type == DM:
            return {
                "id": str(self.id),
                "type": DM,
                "last_message_id": _maybe_str(self.last_message_id),
                "recipients": [user.payload() for user in recipients],
                "flags": 0,
            }
        if self.is_thread:
            return {
                "id": str(self.id),
                "type": self.type,
                "guild_id": str(self.guild_id),
                "parent_id": str(self.parent_id),
                "owner_id": str(self.owner_id),
                "name": self.name,
                "last_message_id": _maybe_str(self.last_message_id),
                "message_count": self.message_count,
                "total_message_sent": self.message_count,
                "member_count": 1,
                "rate_limit_per_user": 0,
                "flags": 0,
                "applied_tags": [],
                "thread_metadata": {
                    "archived": self.archived,
                    "auto_archive_duration": 1440,
                    "archive_timestamp": self.created_at,
                    "locked": self.locked,
                    "create_timestamp": self.created_at,
                },
            }
        data: Payload = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": copy.deepcopy(self.overwrites),
            "parent_id": _maybe_str(self.parent_id),
            "nsfw": False,
            "flags": 0,
        }
        if self.type != GUILD_CATEGORY:
            data.update(
                {
                    "topic": self.topic,
                    "last_message_id": _maybe_str(self.last_message_id),
                    "rate_limit_per_user": 0,
                    "default_auto_archive_duration": 1440,
                }
            )
        if self.type == GUILD_FORUM:
            data.update(
                {
                    "available_tags": [],
                    "default_reaction_emoji": None,
                    "default_thread_rate_limit_per_user": 0,
                    "default_sort_order": None,
                    "default_forum_layout": 0,
                }
            )
        return data


@dataclass
class AttachmentFile:
    """Bytes of a file attached to a message, kept so tests can inspect them."""

    id: int
    filename: str
    content_type: str | None
    data: bytes
    description: str | None = None


@dataclass
class MessageRecord:
    """A message as the sandbox stores it: the full payload plus bookkeeping for tests."""

    id: int
    channel_id: int
    guild_id: int | None
    author_id: int
    payload: Payload
    serial: int
    files: list[AttachmentFile] = field(default_factory=list)
    ephemeral: bool = False
    interaction_id: int | None = None
    deleted: bool = False
    edit_count: int = 0

    @property
    def content(self) -> str:
        """The message text."""
        return str(self.payload.get("content", ""))

    @property
    def embeds(self) -> list[Payload]:
        """The embed payloads."""
        return list(self.payload.get("embeds", []))

    @property
    def components(self) -> list[Payload]:
        """The component (action row) payloads."""
        return list(self.payload.get("components", []))

    @property
    def flags(self) -> int:
        """The message flags."""
        return int(self.payload.get("flags", 0))

    @property
    def attachments(self) -> list[Payload]:
        """The attachment payloads."""
        return list(self.payload.get("attachments", []))

    @property
    def reference_id(self) -> int | None:
        """The id of the message this one replies to, if any."""
        reference = self.payload.get("message_reference")
        return int(reference["message_id"]) if reference and reference.get("message_id") else None

    def custom_ids(self) -> list[str]:
        """Every component custom_id on the message (buttons, selects), in order."""
        return [str(item["custom_id"]) for item in iter_components(self.components) if "custom_id" in item]

    def text(self) -> str:
        """Content plus every embed's visible text, for assertions about what a reader sees."""
        parts = [self.content]
        for embed in self.embeds:
            parts.extend(str(embed.get(key, "")) for key in ("title", "description"))
            for embed_field in embed.get("fields", []):
                parts.extend([str(embed_field.get("name", "")), str(embed_field.get("value", ""))])
            parts.append(str(embed.get("footer", {}).get("text", "")))
            parts.append(str(embed.get("author", {}).get("name", "")))
        for component in iter_components(self.components):
            if component.get("type") == TEXT_DISPLAY:
                parts.append(str(component.get("content", "")))
        return "\n".join(part for part in parts if part)


def iter_components(components: Iterable[Mapping[str, Any]]) -> Iterable[Mapping[str, Any]]:
    """Yield every component, descending into action rows, sections, containers and labels."""
    for component in components:
        yield component
        yield from iter_components(component.get("components", []))
        if isinstance(component.get("component"), Mapping):
            yield from iter_components([component["component"]])
        if isinstance(component.get("accessory"), Mapping):
            yield from iter_components([component["accessory"]])


@dataclass
class GuildRecord:
    """A guild with its roles, channels (threads included) and members."""

    id: int
    name: str
    owner_id: int
    roles: dict[int, RoleRecord] = field(default_factory=dict)
    channels: dict[int, ChannelRecord] = field(default_factory=dict)
    members: dict[int, MemberRecord] = field(default_factory=dict)
    bot_present: bool = True
    bot_role_id: int | None = None
    joined_at: str = field(default_factory=iso_timestamp)

    @property
    def everyone(self) -> RoleRecord:
        """The @everyone role (its id is the guild id)."""
        return self.roles[self.id]


@dataclass
class Overwrite:
    """A channel permission overwrite for a role or a member (bits as integers)."""

    target: RoleRecord | UserRecord | GuildRecord
    allow: int = 0
    deny: int = 0

    def payload(self) -> Payload:
        """Return the overwrite payload; a GuildRecord target means @everyone."""
        kind = perms.OVERWRITE_MEMBER if isinstance(self.target, UserRecord) else perms.OVERWRITE_ROLE
        return {"id": str(self.target.id), "type": kind, "allow": str(self.allow), "deny": str(self.deny)}


OverwriteLike = Overwrite | Mapping[str, Any]


@dataclass
class Scene:
    """A ready-made support server created by :meth:`World.seed_default`."""

    guild: GuildRecord
    owner: UserRecord
    admin: UserRecord
    moderator: UserRecord
    alex: UserRecord
    sam: UserRecord
    jo: UserRecord
    riley: UserRecord
    admin_role: RoleRecord
    mod_role: RoleRecord
    support: ChannelRecord
    mod_alerts: ChannelRecord
    general: ChannelRecord
    vent: ChannelRecord

    @property
    def members(self) -> list[UserRecord]:
        """The four ordinary members (alex, sam, jo, riley)."""
        return [self.alex, self.sam, self.jo, self.riley]


def _maybe_str(value: int | None) -> str | None:
    return None if value is None else str(value)


def _no_emit(event: str, payload: Payload, guild_id: int | None, channel_id: int | None) -> None:
    """Default emit hook: nobody is listening yet."""


class World:
    """All state of the fake Discord: create things here; changes are emitted as gateway events."""

    def __init__(self, *, bot_name: str = "Sandbox Bot", emit: EmitHook | None = None) -> None:
        self.snowflakes = SnowflakeFactory()
        self.emit: EmitHook = emit or _no_emit
        self.users: dict[int, UserRecord] = {}
        self.guilds: dict[int, GuildRecord] = {}
        self.channels: dict[int, ChannelRecord] = {}
        self.messages: dict[int, MessageRecord] = {}
        self._message_serial = 0
        self._dm_channel_by_user: dict[int, int] = {}
        self.bot_user = self.add_user(bot_name, bot=True)
        self.application_id = self.bot_user.id

    # ----------------------------------------------------------------------------------- lookups
    def guild(self, guild: GuildRecord | int) -> GuildRecord:
        """Return the guild record for a record or id (raises SandboxError if unknown)."""
        return _lookup(self.guilds, guild, "guild")

    def channel(self, channel: ChannelRecord | int) -> ChannelRecord:
        """Return the channel record for a record or id (raises SandboxError if unknown)."""
        return _lookup(self.channels, channel, "channel")

    def user(self, user: UserRecord | int) -> UserRecord:
        """Return the user record for a record or id (raises SandboxError if unknown)."""
        return _lookup(self.users, user, "user")

    def message(self, message: MessageRecord | int) -> MessageRecord:
        """Return the message record for a record or id (raises SandboxError if unknown)."""
        return _lookup(self.messages, message, "message")

    def member(self, guild: GuildRecord | int, user: UserRecord | int) -> MemberRecord | None:
        """Return a user's membership in a guild, or None."""
        user_id = user if isinstance(user, int) else user.id
        return self.guild(guild).members.get(user_id)

    def bot_guilds(self) -> list[GuildRecord]:
        """The guilds the bot is currently in."""
        return [guild for guild in self.guilds.values() if guild.bot_present]

    def role(self, guild: GuildRecord | int, role_id: int) -> RoleRecord | None:
        """Return a role of the guild by id, or None."""
        return self.guild(guild).roles.get(role_id)

    # ------------------------------------------------------------------------------ permissions
    def permissions_for(
        self,
        user: UserRecord | int,
        channel: ChannelRecord | int | None = None,
        *,
        guild: GuildRecord | int | None = None,
    ) -> int:
        """Compute a member's permissions in a channel (or guild-wide) like Discord does."""
        user_id = user if isinstance(user, int) else user.id
        channel_record = None if channel is None else self.channel(channel)
        if channel_record is not None and channel_record.is_dm:
            return (
                perms.VIEW_CHANNEL
                | perms.SEND_MESSAGES
                | perms.READ_MESSAGE_HISTORY
                | perms.EMBED_LINKS
                | (perms.ATTACH_FILES | perms.ADD_REACTIONS)
            )
        guild_id = channel_record.guild_id if channel_record is not None else guild
        if guild_id is None:
            raise SandboxError("permissions_for needs a guild channel or a guild")
        guild_record = self.guild(guild_id)
        member = guild_record.members.get(user_id)
        if member is None:
            return 0
        base = perms.compute_base_permissions(
            user_id=user_id,
            owner_id=guild_record.owner_id,
            everyone_permissions=guild_record.everyone.permissions,
            role_permissions=(
                guild_record.roles[r].permissions for r in member.role_ids if r in guild_record.roles
            ),
        )
        if channel_record is None:
            return base
        target = channel_record
        if channel_record.is_thread and channel_record.parent_id in self.channels:
            target = self.channels[channel_record.parent_id]
        result = perms.apply_overwrites(
            base,
            guild_id=guild_record.id,
            user_id=user_id,
            member_role_ids=member.role_ids,
            overwrites=target.overwrites,
        )
        if result != perms.ALL_PERMISSIONS and self._timed_out(member):
            result &= perms.TIMEOUT_KEPT_PERMISSIONS
        return perms.apply_implicit(result, in_thread=channel_record.is_thread)

    @staticmethod
    def _timed_out(member: MemberRecord) -> bool:
        until = member.communication_disabled_until
        if not until:
            return False
        return dt.datetime.fromisoformat(until) > dt.datetime.now(dt.UTC)

    def bot_permissions_in(self, channel: ChannelRecord | int) -> int:
        """The bot's permissions in a channel."""
        return self.permissions_for(self.bot_user, channel)

    def bot_can_view(self, channel_id: int | None, guild_id: int | None) -> bool:
        """Whether the bot can see a channel (so should receive its events)."""
        if channel_id is None or channel_id not in self.channels:
            return True
        channel = self.channels[channel_id]
        if channel.is_dm or guild_id is None:
            return True
        return bool(self.bot_permissions_in(channel) & perms.VIEW_CHANNEL)

    # ------------------------------------------------------------------------------------ users
    def add_user(self, name: str, *, bot: bool = False, dms_closed: bool = False) -> UserRecord:
        """Create a user that is not yet in any guild."""
        user = UserRecord(id=self.snowflakes.next(), name=name, bot=bot, dms_closed=dms_closed)
        self.users[user.id] = user
        return user

    def set_dms_closed(self, user: UserRecord | int, closed: bool = True) -> None:
        """Open or close a user's DMs (a closed user makes bot DMs fail with 403 code 50007)."""
        self.user(user).dms_closed = closed

    # ----------------------------------------------------------------------------------- guilds
    def add_guild(
        self,
        name: str,
        *,
        owner: UserRecord | None = None,
        with_bot: bool = True,
        everyone_permissions: int = perms.DEFAULT_EVERYONE_PERMISSIONS,
        bot_permissions: PermissionLike = perms.DEFAULT_BOT_PERMISSIONS,
    ) -> GuildRecord:
        """Create a guild with @everyone, the bot's managed role and the owner; emits GUILD_CREATE."""
        owner = owner or self.add_user(f"{name.lower().replace(' ', '-')}-owner")
        guild = GuildRecord(id=self.snowflakes.next(), name=name, owner_id=owner.id, bot_present=with_bot)
        guild.roles[guild.id] = RoleRecord(
            id=guild.id, guild_id=guild.id, name="@everyone", permissions=everyone_permissions, position=0
        )
        bot_role = RoleRecord(
            id=self.snowflakes.next(),
            guild_id=guild.id,
            name=self.bot_user.name,
            permissions=permission_bits(bot_permissions),
            position=1,
            managed=True,
            bot_id=self.bot_user.id,
        )
        guild.roles[bot_role.id] = bot_role
        guild.bot_role_id = bot_role.id
        guild.members[owner.id] = MemberRecord(user=owner, guild_id=guild.id)
        guild.members[self.bot_user.id] = MemberRecord(
            user=self.bot_user, guild_id=guild.id, role_ids=[bot_role.id]
        )
        self.guilds[guild.id] = guild
        if with_bot:
            self.emit("GUILD_CREATE", self._join_payload(guild), guild.id, None)
        return guild

    def guild_payload(self, guild: GuildRecord) -> Payload:
        """Return the full GUILD_CREATE payload for a guild (members and channels included)."""
        channels = [c for c in guild.channels.values() if not c.is_thread]
        threads = [c for c in guild.channels.values() if c.is_thread and not c.archived]
        return {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(guild.owner_id),
            "region": None,
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "max_members": 500000,
            "max_video_channel_users": 25,
            "features": [],
            "roles": [role.payload() for role in guild.roles.values()],
            "emojis": [],
            "stickers": [],
            "joined_at": guild.joined_at,
            "large": False,
            "unavailable": False,
            "member_count": len(guild.members),
            "voice_states": [],
            "members": [member.payload() for member in guild.members.values()],
            "channels": [channel.payload() for channel in channels],
            "threads": [thread.payload() for thread in threads],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "application_id": None,
            "premium_progress_bar_enabled": False,
        }

    def _join_payload(self, guild: GuildRecord) -> Payload:
        """GUILD_CREATE for a guild the bot just joined: Discord omits ``unavailable`` (discord.py then
        dispatches ``on_guild_join`` rather than ``on_guild_available``)."""
        payload = self.guild_payload(guild)
        payload.pop("unavailable", None)
        return payload

    def remove_bot(self, guild: GuildRecord | int) -> None:
        """Remove the bot from a guild (emits GUILD_DELETE without ``unavailable``)."""
        record = self.guild(guild)
        if not record.bot_present:
            return
        record.bot_present = False
        self.emit("GUILD_DELETE", {"id": str(record.id)}, record.id, None)

    def add_bot(self, guild: GuildRecord | int) -> None:
        """(Re-)add the bot to a guild (emits GUILD_CREATE)."""
        record = self.guild(guild)
        if record.bot_present:
            return
        record.bot_present = True
        record.joined_at = iso_timestamp()
        self.emit("GUILD_CREATE", self._join_payload(record), record.id, None)

    # ------------------------------------------------------------------------------------ roles
    def add_role(
        self,
        guild: GuildRecord | int,
        name: str,
        *,
        permissions: PermissionLike = 0,
        color: int = 0,
        hoist: bool = False,
        mentionable: bool = False,
    ) -> RoleRecord:
        """Create a role (emits GUILD_ROLE_CREATE)."""
        record = self.guild(guild)
        role = RoleRecord(
            id=self.snowflakes.next(),
            guild_id=record.id,
            name=name,
            permissions=permission_bits(permissions),
            position=len(record.roles),
            color=color,
            hoist=hoist,
            mentionable=mentionable,
        )
        record.roles[role.id] = role
        self.emit("GUILD_ROLE_CREATE", {"guild_id": str(record.id), "role": role.payload()}, record.id, None)
        return role

    def set_role_permissions(self, role: RoleRecord, permissions: PermissionLike) -> None:
        """Change a role's permissions (emits GUILD_ROLE_UPDATE)."""
        role.permissions = permission_bits(permissions)
        self.emit(
            "GUILD_ROLE_UPDATE", {"guild_id": str(role.guild_id), "role": role.payload()}, role.guild_id, None
        )

    def delete_role(self, role: RoleRecord) -> None:
        """Delete a role: members lose it, overwrites for it go (emits GUILD_ROLE_DELETE)."""
        guild = self.guild(role.guild_id)
        if role.id == guild.id or role.managed:
            raise SandboxError("@everyone and managed roles cannot be deleted")
        guild.roles.pop(role.id, None)
        for member in guild.members.values():
            if role.id in member.role_ids:
                member.role_ids.remove(role.id)
        for channel in guild.channels.values():
            channel.overwrites = [o for o in channel.overwrites if int(o["id"]) != role.id]
        payload = {"guild_id": str(guild.id), "role_id": str(role.id)}
        self.emit("GUILD_ROLE_DELETE", payload, guild.id, None)

    def bot_role(self, guild: GuildRecord | int) -> RoleRecord:
        """The bot's managed role in a guild."""
        record = self.guild(guild)
        assert record.bot_role_id is not None
        return record.roles[record.bot_role_id]

    def set_bot_permissions(self, guild: GuildRecord | int, permissions: PermissionLike) -> None:
        """Set the permissions of the bot's managed role in a guild (emits GUILD_ROLE_UPDATE)."""
        record = self.guild(guild)
        assert record.bot_role_id is not None
        self.set_role_permissions(record.roles[record.bot_role_id], permissions)

    # --------------------------------------------------------------------------------- channels
    def _add_channel(
        self,
        guild: GuildRecord | int,
        name: str,
        kind: int,
        overwrites: Iterable[OverwriteLike] | None,
        topic: str | None,
        category: ChannelRecord | None,
    ) -> ChannelRecord:
        record = self.guild(guild)
        channel = ChannelRecord(
            id=self.snowflakes.next(),
            type=kind,
            name=name,
            guild_id=record.id,
            position=sum(1 for c in record.channels.values() if not c.is_thread),
            overwrites=(
                [_overwrite_payload(item) for item in overwrites]
                if overwrites is not None
                else copy.deepcopy(category.overwrites if category else [])  # "synced" with its category
            ),
            parent_id=category.id if category else None,
            topic=topic,
        )
        record.channels[channel.id] = channel
        self.channels[channel.id] = channel
        self.emit("CHANNEL_CREATE", channel.payload(), record.id, channel.id)
        return channel

    def add_text_channel(
        self,
        guild: GuildRecord | int,
        name: str,
        *,
        overwrites: Iterable[OverwriteLike] | None = None,
        topic: str | None = None,
        category: ChannelRecord | None = None,
    ) -> ChannelRecord:
        """Create a text channel (emits CHANNEL_CREATE)."""
        return self._add_channel(guild, name, GUILD_TEXT, overwrites, topic, category)

    def add_forum_channel(
        self,
        guild: GuildRecord | int,
        name: str,
        *,
        overwrites: Iterable[OverwriteLike] | None = None,
        topic: str | None = None,
        category: ChannelRecord | None = None,
    ) -> ChannelRecord:
        """Create a forum channel, type 15 (emits CHANNEL_CREATE)."""
        return self._add_channel(guild, name, GUILD_FORUM, overwrites, topic, category)

    def add_category(
        self, guild: GuildRecord | int, name: str, *, overwrites: Iterable[OverwriteLike] | None = None
    ) -> ChannelRecord:
        """Create a category channel (emits CHANNEL_CREATE)."""
        return self._add_channel(guild, name, GUILD_CATEGORY, overwrites, None, None)

    def update_channel(
        self, channel: ChannelRecord | int, *, name: str | None = None, topic: str | None = None
    ) -> None:
        """Rename a channel or change its topic (emits CHANNEL_UPDATE, or THREAD_UPDATE for threads)."""
        record = self.channel(channel)
        if name is not None:
            record.name = name
        if topic is not None:
            record.topic = topic
        event = "THREAD_UPDATE" if record.is_thread else "CHANNEL_UPDATE"
        self.emit(event, record.payload(), record.guild_id, record.id)

    def set_overwrites(self, channel: ChannelRecord | int, overwrites: Iterable[OverwriteLike]) -> None:
        """Replace a channel's permission overwrites (emits CHANNEL_UPDATE)."""
        record = self.channel(channel)
        record.overwrites = [_overwrite_payload(item) for item in overwrites]
        self.emit("CHANNEL_UPDATE", record.payload(), record.guild_id, record.id)

    def delete_channel(self, channel: ChannelRecord | int) -> None:
        """Delete a channel or thread (emits CHANNEL_DELETE / THREAD_DELETE)."""
        record = self.channel(channel)
        guild = self.guild(record.guild_id) if record.guild_id else None
        if guild is not None:
            guild.channels.pop(record.id, None)
        self.channels.pop(record.id, None)
        if record.is_thread:
            payload = {
                "id": str(record.id),
                "guild_id": str(record.guild_id),
                "parent_id": str(record.parent_id),
                "type": record.type,
            }
            self.emit("THREAD_DELETE", payload, record.guild_id, record.parent_id)
        else:
            self.emit("CHANNEL_DELETE", record.payload(), record.guild_id, None)

    def add_thread(
        self, parent: ChannelRecord | int, name: str, *, owner: UserRecord, thread_id: int | None = None
    ) -> ChannelRecord:
        """Create a public thread under a text or forum channel (emits THREAD_CREATE)."""
        parent_record = self.channel(parent)
        if parent_record.guild_id is None or parent_record.type not in (GUILD_TEXT, GUILD_FORUM):
            raise SandboxError("threads can only be started in guild text or forum channels")
        thread = ChannelRecord(
            id=thread_id or self.snowflakes.next(),
            type=PUBLIC_THREAD,
            name=name,
            guild_id=parent_record.guild_id,
            parent_id=parent_record.id,
            owner_id=owner.id,
        )
        self.guild(parent_record.guild_id).channels[thread.id] = thread
        self.channels[thread.id] = thread
        payload = thread.payload() | {"newly_created": True}
        self.emit("THREAD_CREATE", payload, thread.guild_id, thread.id)
        return thread

    def dm_channel_for(self, user: UserRecord | int) -> ChannelRecord:
        """Return (creating it if needed) the DM channel between the bot and a user."""
        record = self.user(user)
        channel_id = self._dm_channel_by_user.get(record.id)
        if channel_id is not None:
            return self.channels[channel_id]
        channel = ChannelRecord(id=self.snowflakes.next(), type=DM, name="", recipient_id=record.id)
        self.channels[channel.id] = channel
        self._dm_channel_by_user[record.id] = channel.id
        return channel

    def channel_payload(self, channel: ChannelRecord) -> Payload:
        """Return a channel's payload, with DM recipients filled in."""
        if channel.is_dm and channel.recipient_id is not None:
            return channel.payload(recipients=[self.users[channel.recipient_id]])
        return channel.payload()

    # ---------------------------------------------------------------------------------- members
    def add_member(
        self,
        guild: GuildRecord | int,
        user: str | UserRecord,
        *,
        roles: Sequence[RoleRecord] = (),
        dms_closed: bool = False,
        nick: str | None = None,
    ) -> UserRecord:
        """Add a user (or a new user with this name) to a guild (emits GUILD_MEMBER_ADD)."""
        record = self.guild(guild)
        user_record = self.add_user(user, dms_closed=dms_closed) if isinstance(user, str) else user
        member = MemberRecord(user=user_record, guild_id=record.id, role_ids=[r.id for r in roles], nick=nick)
        record.members[user_record.id] = member
        self.emit("GUILD_MEMBER_ADD", member.payload() | {"guild_id": str(record.id)}, record.id, None)
        return user_record

    def remove_member(self, guild: GuildRecord | int, user: UserRecord | int) -> None:
        """Remove a member from a guild (emits GUILD_MEMBER_REMOVE)."""
        record = self.guild(guild)
        member = record.members.pop(user if isinstance(user, int) else user.id, None)
        if member is not None:
            payload = {"guild_id": str(record.id), "user": member.user.payload()}
            self.emit("GUILD_MEMBER_REMOVE", payload, record.id, None)

    def update_member(
        self,
        guild: GuildRecord | int,
        user: UserRecord | int,
        *,
        roles: Sequence[RoleRecord] | None = None,
        nick: str | None = None,
        communication_disabled_until: str | bool | None = False,
    ) -> MemberRecord:
        """Change a member's roles/nick/timeout (emits GUILD_MEMBER_UPDATE); ``False`` keeps the timeout."""
        record = self.guild(guild)
        member = record.members.get(user if isinstance(user, int) else user.id)
        if member is None:
            raise SandboxError("that user is not a member of the guild")
        if roles is not None:
            member.role_ids = [role.id for role in roles]
        if nick is not None:
            member.nick = nick
        if isinstance(communication_disabled_until, str) or communication_disabled_until is None:
            member.communication_disabled_until = communication_disabled_until or None
        self.emit("GUILD_MEMBER_UPDATE", member.payload() | {"guild_id": str(record.id)}, record.id, None)
        return member

    # --------------------------------------------------------------------------------- messages
    def next_message_serial(self) -> int:
        """Return the serial the next stored message will get (a checkpoint for waits)."""
        return self._message_serial + 1

    def store_message(
        self,
        *,
        channel: ChannelRecord,
        author: UserRecord,
        content: str = "",
        embeds: Sequence[Payload] = (),
        components: Sequence[Payload] = (),
        attachments: Sequence[Payload] = (),
        files: Sequence[AttachmentFile] = (),
        flags: int = 0,
        message_type: int | None = None,
        reply_to: MessageRecord | None = None,
        message_id: int | None = None,
        extra: Mapping[str, Any] | None = None,
        ephemeral: bool = False,
        interaction_id: int | None = None,
        allowed_mentions: Mapping[str, Any] | None = None,
    ) -> MessageRecord:
        """Create and store a message (no gateway event; callers decide what to emit).

        ``allowed_mentions`` (as sent by the bot) decides whether @everyone and the replied-to author count
        as mentioned, as on Discord; member messages pass None.
        """
        new_id = message_id or self.snowflakes.next()
        guild = self.guilds.get(channel.guild_id) if channel.guild_id else None
        payload: Payload = {
            "id": str(new_id),
            "channel_id": str(channel.id),
            "author": author.payload(),
            "content": content,
            "timestamp": iso_timestamp(snowflake_time(new_id)),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": list(attachments),
            "embeds": list(embeds),
            "pinned": False,
            "type": message_type
            if message_type is not None
            else (MESSAGE_REPLY if reply_to else MESSAGE_DEFAULT),
            "flags": flags,
            "components": list(components),
            "reactions": [],
        }
        if guild is not None:
            payload["guild_id"] = str(guild.id)
            member = guild.members.get(author.id)
            if member is not None:
                payload["member"] = member.payload(with_user=False)
        self._fill_mentions(payload, guild, allowed_mentions)
        if reply_to is not None:
            payload["message_reference"] = {
                "type": 0,
                "message_id": str(reply_to.id),
                "channel_id": str(reply_to.channel_id),
                "guild_id": _maybe_str(reply_to.guild_id),
                "fail_if_not_exists": False,
            }
            referenced = {k: v for k, v in reply_to.payload.items() if k != "referenced_message"}
            payload["referenced_message"] = None if reply_to.deleted else copy.deepcopy(referenced)
            ping_author = allowed_mentions is None or bool(allowed_mentions.get("replied_user", False))
            already = str(reply_to.author_id) in [m["id"] for m in payload["mentions"]]
            if ping_author and not reply_to.deleted and not already:
                replied_user = self.users.get(reply_to.author_id)
                if replied_user is not None:
                    payload["mentions"].append(self._mention_payload(replied_user, guild))
        if extra:
            payload.update(extra)
        self._message_serial += 1
        record = MessageRecord(
            id=new_id,
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author_id=author.id,
            payload=payload,
            serial=self._message_serial,
            files=list(files),
            ephemeral=ephemeral,
            interaction_id=interaction_id,
        )
        self.messages[new_id] = record
        if not ephemeral:
            channel.last_message_id = new_id
            channel.message_count += 1
        return record

    def _mention_payload(self, user: UserRecord, guild: GuildRecord | None) -> Payload:
        data = user.payload()
        if guild is not None and user.id in guild.members:
            data["member"] = guild.members[user.id].payload(with_user=False)
        return data

    def _fill_mentions(
        self, payload: Payload, guild: GuildRecord | None, allowed_mentions: Mapping[str, Any] | None = None
    ) -> None:
        content = str(payload.get("content") or "")
        seen: list[int] = []
        for match in USER_MENTION.finditer(content):
            user_id = int(match.group(1))
            if user_id in self.users and user_id not in seen:
                seen.append(user_id)
        payload["mentions"] = [self._mention_payload(self.users[user_id], guild) for user_id in seen]
        if guild is not None:
            payload["mention_roles"] = [
                match.group(1)
                for match in ROLE_MENTION.finditer(content)
                if int(match.group(1)) in guild.roles
            ]
        everyone_allowed = allowed_mentions is None or "everyone" in (allowed_mentions.get("parse") or [])
        author_id = int(payload["author"]["id"])
        channel_id = int(payload["channel_id"])
        payload["mention_everyone"] = (
            ("@everyone" in content or "@here" in content)
            and everyone_allowed
            and guild is not None
            and bool(self.permissions_for(author_id, channel_id) & perms.MENTION_EVERYONE)
        )

    def edit_message_payload(self, record: MessageRecord, changes: Mapping[str, Any]) -> None:
        """Apply an edit (content/embeds/components/flags/attachments) to a stored message."""
        for key in ("content", "embeds", "components", "attachments", "poll"):
            if key in changes and changes[key] is not None:
                record.payload[key] = changes[key]
        if "flags" in changes and changes["flags"] is not None:
            preserved = record.payload.get("flags", 0) & EPHEMERAL_FLAG
            record.payload["flags"] = (int(changes["flags"]) | preserved) & ~LOADING_FLAG
        else:
            record.payload["flags"] = int(record.payload.get("flags", 0)) & ~LOADING_FLAG
        if "content" in changes:
            guild = self.guilds.get(record.guild_id) if record.guild_id else None
            self._fill_mentions(record.payload, guild, changes.get("allowed_mentions"))
        record.payload["edited_timestamp"] = iso_timestamp()
        record.edit_count += 1

    def messages_in(self, channel: ChannelRecord | int) -> list[MessageRecord]:
        """The non-deleted, non-ephemeral messages of a channel, oldest first."""
        channel_id = channel if isinstance(channel, int) else channel.id
        return [
            m
            for m in self.messages.values()
            if m.channel_id == channel_id and not m.deleted and not m.ephemeral
        ]

    # ------------------------------------------------------------------------------------ scene
    def seed_default(self) -> Scene:
        """Build a ready-made peer-support server and return handles to everything in it."""
        owner = self.add_user("morgan")
        guild = self.add_guild("Peer Support", owner=owner)
        admin_role = self.add_role(
            guild,
            "Admins",
            permissions=perms.MANAGE_GUILD
            | perms.MANAGE_MESSAGES
            | perms.MODERATE_MEMBERS
            | perms.MANAGE_ROLES
            | perms.MANAGE_CHANNELS,
        )
        mod_role = self.add_role(
            guild, "Moderators", permissions=perms.MANAGE_MESSAGES | perms.MODERATE_MEMBERS
        )
        admin = self.add_member(guild, "casey", roles=[admin_role])
        moderator = self.add_member(guild, "taylor", roles=[mod_role])
        alex = self.add_member(guild, "alex")
        sam = self.add_member(guild, "sam")
        jo = self.add_member(guild, "jo")
        riley = self.add_member(guild, "riley")
        assert guild.bot_role_id is not None
        bot_role = guild.roles[guild.bot_role_id]
        support = self.add_text_channel(guild, "support", topic="A place to be heard.")
        mod_alerts = self.add_text_channel(
            guild,
            "mod-alerts",
            overwrites=[
                Overwrite(guild, deny=perms.VIEW_CHANNEL),
                Overwrite(mod_role, allow=perms.VIEW_CHANNEL | perms.SEND_MESSAGES),
                Overwrite(admin_role, allow=perms.VIEW_CHANNEL | perms.SEND_MESSAGES),
                Overwrite(bot_role, allow=perms.VIEW_CHANNEL | perms.SEND_MESSAGES | perms.EMBED_LINKS),
            ],
        )
        general = self.add_text_channel(guild, "general")
        vent = self.add_forum_channel(guild, "vent", topic="Say what you need to say.")
        self.set_bot_permissions(guild, perms.DEFAULT_BOT_PERMISSIONS)
        return Scene(
            guild=guild,
            owner=owner,
            admin=admin,
            moderator=moderator,
            alex=alex,
            sam=sam,
            jo=jo,
            riley=riley,
            admin_role=admin_role,
            mod_role=mod_role,
            support=support,
            mod_alerts=mod_alerts,
            general=general,
            vent=vent,
        )


def _overwrite_payload(item: OverwriteLike) -> Payload:
    if isinstance(item, Overwrite):
        return item.payload()
    data = dict(item)
    return {
        "id": str(data["id"]),
        "type": int(data.get("type", perms.OVERWRITE_ROLE)),
        "allow": str(data.get("allow", 0)),
        "deny": str(data.get("deny", 0)),
    }


def _lookup(table: Mapping[int, _Record], key: _Record | int, kind: str) -> _Record:
    """Return the record for a record or id from ``table``; SandboxError names ``kind`` if unknown."""
    record_id = key if isinstance(key, int) else key.id
    try:
        return table[record_id]
    except KeyError:
        raise SandboxError(f"unknown {kind} {record_id}") from None
