"""Application commands the bot synced (global and per guild), as Discord stores them."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

from bot.sandbox.validation import invalid_form
from bot.sandbox.world import Payload

CHAT_INPUT = 1
USER_COMMAND = 2
MESSAGE_COMMAND = 3


class CommandStore:
    """Keeps synced commands; a PUT replaces a scope's commands, keeping ids of unchanged names."""

    def __init__(self, *, application_id: int, new_id: Callable[[], int]) -> None:
        self._application_id = application_id
        self._new_id = new_id
        self.global_commands: list[Payload] = []
        self.guild_commands: dict[int, list[Payload]] = {}
        self.sync_count = 0

    def scope(self, guild_id: int | None) -> list[Payload]:
        """The stored commands of one scope (global when ``guild_id`` is None)."""
        if guild_id is None:
            return self.global_commands
        return self.guild_commands.setdefault(guild_id, [])

    def _normalise(self, body: Payload, guild_id: int | None, existing: Sequence[Payload]) -> Payload:
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise invalid_form("name", "BASE_TYPE_REQUIRED", "This field is required")
        kind = int(body.get("type", CHAT_INPUT))
        if kind == CHAT_INPUT and (name != name.lower() or " " in name):
            raise invalid_form("name", "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
        previous = next((c for c in existing if c["name"] == name and c["type"] == kind), None)
        command = copy.deepcopy(body)
        command.update(
            {
                "id": previous["id"] if previous else str(self._new_id()),
                "application_id": str(self._application_id),
                "version": str(self._new_id()),
                "type": kind,
                "description": body.get("description", "") if kind == CHAT_INPUT else "",
                "default_member_permissions": body.get("default_member_permissions"),
                "nsfw": bool(body.get("nsfw", False)),
            }
        )
        command.setdefault("options", [])
        command.setdefault("dm_permission", True)
        if guild_id is not None:
            command["guild_id"] = str(guild_id)
        return command

    def put(self, guild_id: int | None, bodies: Sequence[Payload]) -> list[Payload]:
        """Replace a scope's commands (``PUT .../commands``) and return them with ids."""
        existing = list(self.scope(guild_id))
        names = [(b.get("name"), int(b.get("type", CHAT_INPUT))) for b in bodies]
        if len(names) != len(set(names)):
            raise invalid_form(
                "_", "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique"
            )
        commands = [self._normalise(body, guild_id, existing) for body in bodies]
        self.scope(guild_id)[:] = commands
        self.sync_count += 1
        return copy.deepcopy(commands)

    def upsert(self, guild_id: int | None, body: Payload) -> Payload:
        """Create or replace one command (``POST .../commands``)."""
        scope = self.scope(guild_id)
        command = self._normalise(body, guild_id, scope)
        scope[:] = [c for c in scope if c["id"] != command["id"]] + [command]
        return copy.deepcopy(command)

    def get(self, guild_id: int | None, command_id: int) -> Payload | None:
        """One stored command by id."""
        return next((c for c in self.scope(guild_id) if int(c["id"]) == command_id), None)

    def delete(self, guild_id: int | None, command_id: int) -> bool:
        """Delete one command; return whether it existed."""
        scope = self.scope(guild_id)
        before = len(scope)
        scope[:] = [c for c in scope if int(c["id"]) != command_id]
        return len(scope) != before

    def find(self, guild_id: int | None, name: str, kind: int) -> Payload | None:
        """Find the command a user in ``guild_id`` would see under this name (guild scope first)."""
        scopes: list[list[Payload]] = []
        if guild_id is not None:
            scopes.append(self.guild_commands.get(guild_id, []))
        scopes.append(self.global_commands)
        for commands in scopes:
            for command in commands:
                if command["name"] == name and command["type"] == kind:
                    return command
        return None

    def names(self, guild_id: int | None) -> list[str]:
        """Names of every command visible in a guild (for error messages)."""
        visible = list(self.global_commands)
        if guild_id is not None:
            visible += self.guild_commands.get(guild_id, [])
        return sorted({str(c["name"]) for c in visible})

    def listing(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        """A copy of one scope's commands (what ``GET .../commands`` answers)."""
        return copy.deepcopy(self.scope(guild_id))
