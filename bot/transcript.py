"""A readable transcript of a sandbox conversation, shared by ``heard demo`` and ``heard sandbox``.

It turns sandbox records (members' messages, Heard's channel messages, DMs and interaction answers) into
plain lines, replacing ``<#id>``/``<@id>``/``<@&id>`` with names. It knows the sandbox's record shapes,
nothing of Heard's features.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

MENTION = re.compile(r"<(#|@&|@!?)(\d+)>")
TIMESTAMP = re.compile(r"<t:(-?\d+)(?::[tTdDfFR])?>")
MARKDOWN_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
WIDTH = 100
INDENT = "    "


class Transcript:
    """Prints what happens in the sandbox as short, readable lines."""

    def __init__(self, sandbox: Any, out: TextIO) -> None:
        """Print to ``out``, resolving names through ``sandbox.world``."""
        self._sandbox = sandbox
        self._out = out

    def write(self, text: str = "") -> None:
        """Print one raw line."""
        print(text, file=self._out, flush=True)

    def heading(self, text: str) -> None:
        """Print a section heading."""
        self.write()
        self.write(f"== {text} ==")

    def narrate(self, text: str) -> None:
        """Print a stage direction (what is about to happen)."""
        for line in textwrap.wrap(text, WIDTH - 4) or [""]:
            self.write(f"  ~ {line}")

    def member_message(self, record: Any) -> None:
        """Print a member's message: ``#3 [#support] alex: text`` (with what it replies to)."""
        author = self.name_of_user(record.author_id)
        where = self.where(record.channel_id)
        reply = ""
        if record.reference_id is not None:
            referenced = self._sandbox.world.messages.get(record.reference_id)
            reply = f" (replying to #{referenced.serial})" if referenced is not None else " (replying)"
        self._block(f"#{record.serial} [{where}] {author}{reply}:", self.render(record.content))

    def member_command(self, user: Any, command: str, options: Mapping[str, Any], where: str = "") -> None:
        """Print that a member used a slash command or a menu."""
        rendered = " ".join(f"{key}:{self.render_option(value)}" for key, value in options.items())
        place = f"[{where}] " if where else ""
        self.write(f"   {place}{user.name} used /{command}{' ' + rendered if rendered else ''}")

    def heard_message(self, record: Any, *, label: str | None = None) -> None:
        """Print a message Heard posted in a channel or a DM, marked so a reader knows who sees it."""
        if label is None:
            channel = self._sandbox.world.channels.get(record.channel_id)
            if channel is not None and channel.is_dm:
                recipient = self._dm_recipient(channel)
                label = f"DM to {recipient}, private"
            else:
                label = f"in {self.where(record.channel_id)}"
        self._block(f"#{record.serial} Heard ({label}):", self.message_text(record))

    def heard_answer(self, response: Any, user: Any) -> None:
        """Print Heard's answer to an interaction, marked private when it is ephemeral."""
        visibility = f"only {user.name} sees this" if response.ephemeral else "visible to everyone"
        message = getattr(response, "message", None)
        number = f"#{message.serial} " if message is not None else ""
        kinds = {5: "thinking…", 6: "(acknowledged)", 9: f"opens a form: {response.title or ''}"}
        if response.type in kinds and not response.text():
            self.write(f"{number}Heard ({visibility}): {kinds[response.type]}")
            return
        self._block(f"{number}Heard ({visibility}):", self.message_text(response))

    def message_text(self, record: Any) -> str:
        """Return content, embeds and buttons of a message or interaction answer as plain text."""
        parts: list[str] = []
        if record.content:
            parts.append(self.render(record.content))
        for embed in record.embeds:
            parts.extend(self._embed_lines(embed))
        buttons = [
            f"[{item.get('label') or item.get('custom_id') or '?'}]"
            for item in iter_components(record.components)
            if item.get("type") == 2
        ]
        if buttons:
            parts.append("buttons: " + " ".join(buttons))
        for attachment in getattr(record, "attachments", []) or []:
            parts.append(f"(attached file: {attachment.get('filename', '?')})")
        return "\n".join(parts) if parts else "(empty)"

    def render(self, text: str) -> str:
        """Make Discord markup readable: mentions become names, ``<t:…>`` a UTC time, ``[text](url)`` text."""

        def replace(match: re.Match[str]) -> str:
            kind, raw_id = match.group(1), int(match.group(2))
            if kind == "#":
                return f"#{self.channel_name(raw_id)}"
            if kind == "@&":
                return f"@{self.role_name(raw_id)}"
            return f"@{self.name_of_user(raw_id)}"

        def timestamp(match: re.Match[str]) -> str:
            moment = datetime.fromtimestamp(int(match.group(1)), tz=UTC)
            return moment.strftime("%Y-%m-%d %H:%M UTC")

        text = MARKDOWN_LINK.sub(lambda match: f"{match.group(1)} (link)", text)
        text = TIMESTAMP.sub(timestamp, text)
        return MENTION.sub(replace, text)

    def render_option(self, value: Any) -> str:
        """Show a slash-command option value the way Discord's client would."""
        world = self._sandbox.world
        value_id = getattr(value, "id", None)
        if value_id in world.channels:
            return f"#{world.channels[value_id].name}"
        if value_id in world.users:
            return f"@{world.users[value_id].name}"
        if value_id is not None and hasattr(value, "permissions"):
            return f"@{value.name}"
        return str(value)

    def where(self, channel_id: int | None) -> str:
        """Name a channel for a transcript line (threads show their parent)."""
        if channel_id is None:
            return "?"
        channel = self._sandbox.world.channels.get(channel_id)
        if channel is None:
            return f"channel {channel_id}"
        if channel.is_dm:
            return f"DM with {self._dm_recipient(channel)}"
        if channel.is_thread and channel.parent_id is not None:
            return f"#{self.channel_name(channel.parent_id)} › {channel.name}"
        return f"#{channel.name}"

    def channel_name(self, channel_id: int) -> str:
        """Return a channel's name, or its id if unknown."""
        channel = self._sandbox.world.channels.get(channel_id)
        return channel.name if channel is not None and channel.name else str(channel_id)

    def role_name(self, role_id: int) -> str:
        """Return a role's name, or its id if unknown."""
        for guild in self._sandbox.world.guilds.values():
            role = guild.roles.get(role_id)
            if role is not None:
                return str(role.name)
        return str(role_id)

    def name_of_user(self, user_id: int) -> str:
        """Return a user's name (``Heard`` for the bot), or the id if unknown."""
        world = self._sandbox.world
        if user_id == world.bot_user.id:
            return "Heard"
        user = world.users.get(user_id)
        return user.name if user is not None else str(user_id)

    def _dm_recipient(self, channel: Any) -> str:
        """Return the member at the other end of a DM channel."""
        recipients: Iterable[Any] = getattr(channel, "recipient_ids", None) or []
        for recipient_id in recipients:
            if recipient_id != self._sandbox.world.bot_user.id:
                return self.name_of_user(recipient_id)
        recipient_id = getattr(channel, "recipient_id", None)
        return self.name_of_user(recipient_id) if recipient_id is not None else "a member"

    def _embed_lines(self, embed: Mapping[str, Any]) -> list[str]:
        """Return an embed as indented plain lines."""
        lines: list[str] = []
        if embed.get("title"):
            lines.append(f"┃ {self.render(str(embed['title']))}")
        if embed.get("description"):
            lines.extend(f"┃ {line}" for line in self.render(str(embed["description"])).splitlines())
        for embed_field in embed.get("fields", []):
            name = self.render(str(embed_field.get("name", "")))
            value_lines = self.render(str(embed_field.get("value", ""))).splitlines() or [""]
            if len(value_lines) == 1:
                lines.append(f"┃ {name}: {value_lines[0]}")
            else:
                lines.append(f"┃ {name}:")
                lines.extend(f"┃   {line}" for line in value_lines)
        footer = embed.get("footer", {}).get("text")
        if footer:
            lines.append(f"┃ ({footer})")
        return lines

    def _block(self, header: str, body: str) -> None:
        """Print a header line followed by an indented, wrapped body."""
        self.write(header)
        for paragraph in body.splitlines() or [""]:
            prefix = "┃   " if paragraph.startswith("┃") else ""
            wrapped = textwrap.wrap(
                paragraph,
                WIDTH - len(INDENT) * 2,
                subsequent_indent=prefix,
                break_long_words=False,
                break_on_hyphens=False,
            ) or [""]
            for line in wrapped:
                self.write(f"{INDENT}{INDENT}{line}")


def iter_components(components: Iterable[Mapping[str, Any]]) -> Iterable[Mapping[str, Any]]:
    """Yield every component, descending into rows and containers."""
    for component in components:
        yield component
        yield from iter_components(component.get("components", []))
        accessory = component.get("accessory")
        if isinstance(accessory, Mapping):
            yield accessory
