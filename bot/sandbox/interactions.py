"""Builds INTERACTION_CREATE payloads the way Discord's client would: slash commands (with options typed
from the synced schema and ``resolved`` data), user/message context menus, button/select clicks, modal
submits.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bot.sandbox import permissions as perms
from bot.sandbox.commands import CHAT_INPUT, MESSAGE_COMMAND, USER_COMMAND, CommandStore
from bot.sandbox.world import (
    GUILD_TEXT,
    ChannelRecord,
    GuildRecord,
    MessageRecord,
    Payload,
    RoleRecord,
    SandboxError,
    UserRecord,
    World,
    iter_components,
)

PING = 1
APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
AUTOCOMPLETE = 4
MODAL_SUBMIT = 5

SUB_COMMAND = 1
SUB_COMMAND_GROUP = 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = range(3, 12)
STRING_SELECT = 3
SELECT_TYPES = frozenset({STRING_SELECT, 5, 6, 7, 8})
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024


class InteractionFactory:
    """Creates interaction payloads against the world and the commands the bot synced."""

    def __init__(
        self,
        *,
        world: World,
        commands: CommandStore,
        upload: Callable[[int, str, bytes], Payload],
    ) -> None:
        self._world = world
        self._commands = commands
        self._upload = upload

    # ------------------------------------------------------------------------------- common
    def _default_channel(self, guild: GuildRecord, user: UserRecord) -> ChannelRecord:
        for channel in sorted(guild.channels.values(), key=lambda c: c.position):
            if channel.type == GUILD_TEXT and self._world.permissions_for(user, channel) & perms.VIEW_CHANNEL:
                return channel
        raise SandboxError(f"{user.name} cannot see any text channel in {guild.name}; pass in_channel=")

    def base_payload(self, kind: int, user: UserRecord, channel: ChannelRecord, data: Payload) -> Payload:
        """The envelope shared by every interaction (ids, token, member/user, permissions, channel)."""
        world = self._world
        payload: Payload = {
            "id": str(world.snowflakes.next()),
            "application_id": str(world.application_id),
            "type": kind,
            "data": data,
            "channel_id": str(channel.id),
            "channel": world.channel_payload(channel),
            "token": f"sandbox-{secrets.token_urlsafe(24)}",
            "version": 1,
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        }
        if channel.guild_id is not None:
            guild = world.guild(channel.guild_id)
            member = guild.members.get(user.id)
            if member is None:
                raise SandboxError(f"{user.name} is not a member of {guild.name}")
            payload["guild_id"] = str(guild.id)
            payload["guild"] = {"id": str(guild.id), "locale": "en-US", "features": []}
            payload["guild_locale"] = "en-US"
            payload["member"] = member.payload() | {"permissions": str(world.permissions_for(user, channel))}
            payload["app_permissions"] = str(world.bot_permissions_in(channel))
            payload["authorizing_integration_owners"] = {"0": str(guild.id)}
            payload["context"] = 0
        else:
            payload["user"] = user.payload()
            payload["app_permissions"] = str(world.permissions_for(world.bot_user, channel))
            payload["authorizing_integration_owners"] = {"0": "0"}
            payload["context"] = 1
        return payload

    def _check_usable(
        self, command: Payload, user: UserRecord, guild: GuildRecord | None, force: bool
    ) -> None:
        if force:
            return
        contexts = command.get("contexts")
        if guild is None and (command.get("dm_permission") is False or (contexts and 1 not in contexts)):
            raise SandboxError(
                f"/{command['name']} is not available in DMs (Discord would not offer it there)"
            )
        if guild is not None and contexts and 0 not in contexts:
            raise SandboxError(f"/{command['name']} is not available in servers (contexts={contexts})")
        required = command.get("default_member_permissions")
        if guild is None or required in (None, ""):
            return
        have = self._world.permissions_for(user, guild=guild)
        if int(required) == 0 or have & int(required) != int(required):
            raise SandboxError(
                f"{user.name} cannot see /{command['name']} (default_member_permissions={required}); "
                "Discord would not let them run it. Pass force=True to send it anyway."
            )

    # -------------------------------------------------------------------------- slash commands
    def slash(
        self,
        user: UserRecord,
        guild: GuildRecord | None,
        path: str,
        options: Mapping[str, Any],
        *,
        channel: ChannelRecord | None,
        force: bool,
        focused: str | None = None,
    ) -> Payload:
        """An APPLICATION_COMMAND interaction for ``/path`` (``"group sub"`` or ``"group.sub"``).

        With ``focused`` (an option name) it is an AUTOCOMPLETE interaction instead: that option's value is
        sent as the partial text typed so far, marked ``focused``, and required options may be missing.
        """
        parts = path.replace(".", " ").lstrip("/").split()
        if not parts:
            raise SandboxError("empty command path")
        guild_id = guild.id if guild else None
        command = self._commands.find(guild_id, parts[0], CHAT_INPUT)
        if command is None:
            raise SandboxError(
                f"/{parts[0]} was not synced for this guild (visible: {self._commands.names(guild_id)}); "
                "did the bot call tree.sync()? (await sandbox.wait_until_synced())"
            )
        self._check_usable(command, user, guild, force)
        if channel is None:
            channel = (
                self._world.dm_channel_for(user) if guild is None else self._default_channel(guild, user)
            )
        resolved: dict[str, dict[str, Payload]] = {}
        built = self._walk(
            command.get("options") or [], parts[1:], dict(options), channel, user, resolved, parts, focused
        )
        data: Payload = {"id": command["id"], "name": command["name"], "type": CHAT_INPUT}
        if built:
            data["options"] = built
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        if resolved:
            data["resolved"] = resolved
        return self.base_payload(
            APPLICATION_COMMAND if focused is None else AUTOCOMPLETE, user, channel, data
        )

    def _walk(
        self,
        schema: list[Payload],
        remaining: list[str],
        options: dict[str, Any],
        channel: ChannelRecord,
        user: UserRecord,
        resolved: dict[str, dict[str, Payload]],
        full_path: list[str],
        focused: str | None,
    ) -> list[Payload]:
        subcommands = [o for o in schema if o.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP)]
        if subcommands:
            if not remaining:
                names = [o["name"] for o in subcommands]
                raise SandboxError(f"/{' '.join(full_path)} needs a subcommand: one of {names}")
            chosen = next((o for o in subcommands if o["name"] == remaining[0]), None)
            if chosen is None:
                names = [o["name"] for o in subcommands]
                raise SandboxError(
                    f"no subcommand {remaining[0]!r} under /{' '.join(full_path[: -len(remaining)])};"
                    f" choose from {names}"
                )
            inner = self._walk(
                chosen.get("options") or [],
                remaining[1:],
                options,
                channel,
                user,
                resolved,
                full_path,
                focused,
            )
            return [{"type": chosen["type"], "name": chosen["name"], "options": inner}]
        if remaining:
            raise SandboxError(f"/{' '.join(full_path)}: {remaining[0]!r} is not a subcommand")
        return self._leaf_options(schema, options, channel, user, resolved, full_path, focused)

    def _leaf_options(
        self,
        schema: list[Payload],
        options: dict[str, Any],
        channel: ChannelRecord,
        user: UserRecord,
        resolved: dict[str, dict[str, Payload]],
        full_path: list[str],
        focused: str | None = None,
    ) -> list[Payload]:
        by_key: dict[str, Payload] = {}
        for option in schema:
            by_key[option["name"]] = option
            by_key[option["name"].replace("-", "_")] = option
        unknown = [key for key in options if key not in by_key]
        if unknown:
            raise SandboxError(
                f"/{' '.join(full_path)} has no option(s) {unknown}; "
                f"options are {[o['name'] for o in schema]}"
            )
        given = {by_key[key]["name"]: value for key, value in options.items() if value is not None}
        focused_name = by_key[focused]["name"] if focused in by_key else None
        if focused is not None and focused_name is None:
            raise SandboxError(f"/{' '.join(full_path)} has no option {focused!r} to autocomplete")
        built: list[Payload] = []
        for option in schema:
            name = option["name"]
            if name == focused_name:
                built.append(
                    {"type": option["type"], "name": name, "value": str(given.get(name, "")), "focused": True}
                )
                continue
            if name not in given:
                if option.get("required") and focused is None:
                    raise SandboxError(f"/{' '.join(full_path)} requires option {name!r}")
                continue
            value = self._convert(option, given[name], channel, user, resolved)
            built.append({"type": option["type"], "name": name, "value": value})
        return built

    def _convert(
        self,
        option: Payload,
        value: Any,
        channel: ChannelRecord,
        user: UserRecord,
        resolved: dict[str, dict[str, Payload]],
    ) -> Any:
        kind = int(option["type"])
        name = option["name"]
        if kind == STRING:
            text = str(value)
            if len(text) < int(option.get("min_length", 0)) or len(text) > int(
                option.get("max_length", 6000)
            ):
                raise SandboxError(
                    f"option {name!r}: length {len(text)} is outside what Discord's client allows"
                )
            self._check_choice(option, text)
            return text
        if kind in (INTEGER, NUMBER):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise SandboxError(f"option {name!r} needs a number, got {value!r}")
            number = int(value) if kind == INTEGER else float(value)
            if kind == INTEGER and number != value:
                raise SandboxError(f"option {name!r} needs an integer, got {value!r}")
            low, high = option.get("min_value"), option.get("max_value")
            if (low is not None and number < low) or (high is not None and number > high):
                raise SandboxError(f"option {name!r}: {number} is outside [{low}, {high}]")
            self._check_choice(option, number)
            return number
        if kind == BOOLEAN:
            if not isinstance(value, bool):
                raise SandboxError(f"option {name!r} needs True/False, got {value!r}")
            return value
        if kind == USER or (kind == MENTIONABLE and isinstance(value, UserRecord)):
            return self._resolve_user(value, channel, resolved)
        if kind == ROLE or (kind == MENTIONABLE and isinstance(value, RoleRecord)):
            if not isinstance(value, RoleRecord):
                raise SandboxError(f"option {name!r} needs a RoleRecord, got {value!r}")
            resolved.setdefault("roles", {})[str(value.id)] = value.payload()
            return str(value.id)
        if kind == CHANNEL:
            target = self._world.channel(value)
            allowed = option.get("channel_types")
            if allowed and target.type not in allowed:
                raise SandboxError(f"option {name!r} only accepts channel types {allowed}, got {target.type}")
            data = target.payload() | {"permissions": str(self._world.permissions_for(user, target))}
            resolved.setdefault("channels", {})[str(target.id)] = data
            return str(target.id)
        if kind == ATTACHMENT:
            if not (isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], bytes)):
                raise SandboxError(f"option {name!r} takes a (filename, bytes) tuple, got {value!r}")
            attachment = self._upload(channel.id, str(value[0]), value[1])
            resolved.setdefault("attachments", {})[attachment["id"]] = attachment
            return attachment["id"]
        raise SandboxError(f"option {name!r} has unsupported type {kind} for value {value!r}")

    @staticmethod
    def _check_choice(option: Payload, value: Any) -> None:
        choices = option.get("choices")
        if choices and value not in [choice["value"] for choice in choices]:
            names = [choice["value"] for choice in choices]
            raise SandboxError(f"option {option['name']!r}: {value!r} is not one of the choices {names}")

    def _resolve_user(
        self, value: Any, channel: ChannelRecord, resolved: dict[str, dict[str, Payload]]
    ) -> str:
        target = self._world.user(value)
        resolved.setdefault("users", {})[str(target.id)] = target.payload()
        if channel.guild_id is not None:
            member = self._world.member(channel.guild_id, target)
            if member is not None:
                member_data = member.payload(with_user=False)
                member_data["permissions"] = str(self._world.permissions_for(target, channel))
                resolved.setdefault("members", {})[str(target.id)] = member_data
        return str(target.id)

    # --------------------------------------------------------------------------- context menus
    def user_menu(
        self,
        user: UserRecord,
        guild: GuildRecord,
        name: str,
        target: UserRecord,
        *,
        channel: ChannelRecord | None,
        force: bool,
    ) -> Payload:
        """A user context-menu interaction on ``target``."""
        command = self._commands.find(guild.id, name, USER_COMMAND)
        if command is None:
            raise SandboxError(f"no user context menu {name!r} was synced for {guild.name}")
        self._check_usable(command, user, guild, force)
        channel = channel or self._default_channel(guild, user)
        resolved: dict[str, dict[str, Payload]] = {}
        self._resolve_user(target, channel, resolved)
        data: Payload = {
            "id": command["id"],
            "name": name,
            "type": USER_COMMAND,
            "target_id": str(target.id),
            "resolved": resolved,
        }
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        return self.base_payload(APPLICATION_COMMAND, user, channel, data)

    def message_menu(
        self, user: UserRecord, guild: GuildRecord | None, name: str, message: MessageRecord, *, force: bool
    ) -> Payload:
        """A message context-menu interaction on ``message``."""
        command = self._commands.find(guild.id if guild else None, name, MESSAGE_COMMAND)
        if command is None:
            raise SandboxError(f"no message context menu {name!r} was synced")
        self._check_usable(command, user, guild, force)
        channel = self._world.channel(message.channel_id)
        data: Payload = {
            "id": command["id"],
            "name": name,
            "type": MESSAGE_COMMAND,
            "target_id": str(message.id),
            "resolved": {"messages": {str(message.id): copy.deepcopy(message.payload)}},
        }
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        return self.base_payload(APPLICATION_COMMAND, user, channel, data)

    # ------------------------------------------------------------------------------ components
    def click(
        self, user: UserRecord, message: MessageRecord, custom_id: str, values: Sequence[Any] | None
    ) -> Payload:
        """A MESSAGE_COMPONENT interaction: ``user`` clicks a button (or picks select values)."""
        component = next(
            (c for c in iter_components(message.components) if c.get("custom_id") == custom_id), None
        )
        if component is None:
            raise SandboxError(
                f"message {message.id} has no component {custom_id!r}; it has {message.custom_ids()}"
            )
        if component.get("disabled"):
            raise SandboxError(
                f"component {custom_id!r} is disabled; Discord's client would not send the click"
            )
        if message.deleted:
            raise SandboxError(f"message {message.id} was deleted")
        data: Payload = {"custom_id": custom_id, "component_type": int(component["type"])}
        channel = self._world.channel(message.channel_id)
        if component["type"] in SELECT_TYPES:
            data.update(self._select_values(component, list(values or []), channel, user))
        elif values is not None:
            raise SandboxError("values= is only for select menus")
        payload = self.base_payload(MESSAGE_COMPONENT, user, channel, data)
        payload["message"] = copy.deepcopy(message.payload)
        return payload

    def _select_values(
        self, component: Mapping[str, Any], values: list[Any], channel: ChannelRecord, user: UserRecord
    ) -> Payload:
        """Check picked values against a select menu (as Discord's client would) and build resolved data."""
        low, high = int(component.get("min_values", 1)), int(component.get("max_values", 1))
        if not low <= len(values) <= high:
            raise SandboxError(
                f"select {component.get('custom_id')!r} takes {low}..{high} values, got {len(values)}"
            )
        if component["type"] == STRING_SELECT:
            allowed = [str(option["value"]) for option in component.get("options") or []]
            wrong = [value for value in values if str(value) not in allowed]
            if wrong:
                raise SandboxError(
                    f"select {component.get('custom_id')!r} has no option(s) {wrong}; has {allowed}"
                )
            return {"values": [str(value) for value in values]}
        resolved: dict[str, dict[str, Payload]] = {}
        ids: list[str] = []
        for value in values:
            if isinstance(value, RoleRecord):
                resolved.setdefault("roles", {})[str(value.id)] = value.payload()
                ids.append(str(value.id))
            elif isinstance(value, ChannelRecord):
                data = value.payload() | {"permissions": str(self._world.permissions_for(user, value))}
                resolved.setdefault("channels", {})[str(value.id)] = data
                ids.append(str(value.id))
            else:
                ids.append(self._resolve_user(value, channel, resolved))
        return {"values": ids, "resolved": resolved}

    def modal_submit(
        self, user: UserRecord, opened_by: Payload, modal: Payload, values: Mapping[str, str]
    ) -> Payload:
        """A MODAL_SUBMIT interaction answering ``modal`` (the type 9 callback data) with ``values``."""
        fields = [
            str(c["custom_id"]) for c in iter_components(modal.get("components") or []) if "custom_id" in c
        ]
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise SandboxError(
                f"modal {modal.get('custom_id')!r} has no field(s) {unknown}; fields are {fields}"
            )
        known: list[str] = []
        rows: list[Payload] = []
        for top in modal.get("components") or []:
            if top.get("type") == 1:
                inner = [self._submitted(item, values, known) for item in top.get("components") or []]
                rows.append({"type": 1, "components": [item for item in inner if item is not None]})
            elif top.get("type") == 18 and isinstance(top.get("component"), Mapping):
                item = self._submitted(top["component"], values, known)
                if item is not None:
                    rows.append({"type": 18, "id": top.get("id", 0), "component": item})
        channel = self._world.channel(int(opened_by["channel_id"]))
        data = {"custom_id": modal["custom_id"], "components": rows}
        payload = self.base_payload(MODAL_SUBMIT, user, channel, data)
        if "message" in opened_by:
            payload["message"] = copy.deepcopy(opened_by["message"])
        return payload

    @staticmethod
    def _submitted(item: Mapping[str, Any], values: Mapping[str, str], known: list[str]) -> Payload | None:
        custom_id = item.get("custom_id")
        if custom_id is None:
            return None
        known.append(str(custom_id))
        kind = int(item.get("type", 4))
        if kind == 4:
            value = str(values.get(custom_id, item.get("value") or ""))
            if item.get("required", True) and not value:
                raise SandboxError(
                    f"modal field {custom_id!r} is required; Discord would not submit it empty"
                )
            if len(value) > int(item.get("max_length", 4000)):
                raise SandboxError(f"modal field {custom_id!r} is longer than its max_length")
            return {"type": 4, "custom_id": custom_id, "value": value}
        raw: Any = values.get(custom_id, [])
        return {
            "type": kind,
            "custom_id": custom_id,
            "values": list(raw) if not isinstance(raw, str) else [raw],
        }
