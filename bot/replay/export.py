"""Streamed reading of a DiscordChatExporter JSON export.

The export is read with ``ijson`` one message at a time, so memory does not grow with the export's size.
Each message is checked for the fields replay needs and turned into a small :class:`ExportMessage`; anything
malformed raises :class:`ExportError` naming where it broke (message number and id, field, byte offset).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, BinaryIO

import ijson

ANALYSED_TYPES: frozenset[str] = frozenset({"Default", "Reply", "0", "19"})
"""Message types written by members (DCE's enum names, or the raw number for types it does not name)."""

THREAD_CHANNEL_TYPES: frozenset[str] = frozenset(
    {"GuildPublicThread", "GuildPrivateThread", "GuildNewsThread", "10", "11", "12"}
)


class ExportError(Exception):
    """The export could not be read; the message says where and why, in one line."""


@dataclass(frozen=True, slots=True)
class ExportHeader:
    """The export's guild and channel, read from the top of the file."""

    guild_id: str | None
    guild_name: str | None
    channel_id: str | None
    channel_name: str | None
    channel_type: str | None

    @property
    def is_thread(self) -> bool:
        """Return True when the exported channel is a thread (its starter post is the thread's post)."""
        return self.channel_type in THREAD_CHANNEL_TYPES


@dataclass(frozen=True, slots=True)
class ExportMessage:
    """The parts of one exported message that replay uses."""

    index: int
    id: str
    type: str
    timestamp: datetime
    content: str
    author_id: str
    author_is_bot: bool
    reference_id: str | None
    is_forward: bool

    @property
    def day(self) -> date:
        """Return the UTC day the message was written."""
        return self.timestamp.astimezone(UTC).date()


class CountingReader:
    """A binary file wrapper that counts the bytes handed to the parser (for progress and error offsets)."""

    def __init__(self, raw: BinaryIO) -> None:
        """Wrap ``raw``; ``bytes_read`` starts at zero."""
        self._raw = raw
        self.bytes_read = 0
        self.chunk_start = 0

    def read(self, size: int = -1) -> bytes:
        """Read from the wrapped file and count what was returned."""
        data = self._raw.read(size)
        self.chunk_start = self.bytes_read
        self.bytes_read += len(data)
        return data


class ExportReader:
    """Iterate over the messages of an export file, checking each one.

    Use as ``with ExportReader(path) as reader: header = reader.header; for m in reader.messages(): ...``.
    """

    def __init__(self, path: Path) -> None:
        """Prepare to read ``path``; nothing is opened until the context is entered."""
        self.path = path
        self.size = 0
        self._file: BinaryIO | None = None
        self._counter: CountingReader | None = None
        self.header = ExportHeader(None, None, None, None, None)
        self.messages_read = 0
        self._last_id: str | None = None

    def __enter__(self) -> ExportReader:
        """Open the file and read its header (guild and channel)."""
        try:
            self._file = open(self.path, "rb")  # closed in __exit__
            self.size = os.fstat(self._file.fileno()).st_size
        except OSError as error:
            raise ExportError(f"cannot open {self.path}: {error.strerror or error}") from error
        self.header = self._read_header()
        self._file.seek(0)
        self._counter = CountingReader(self._file)
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the file."""
        if self._file is not None:
            self._file.close()

    @property
    def bytes_read(self) -> int:
        """Return how far into the file the parser has read, in bytes."""
        return self._counter.bytes_read if self._counter is not None else 0

    def _read_header(self) -> ExportHeader:
        """Read the top-level ``guild`` and ``channel`` objects, stopping where ``messages`` begins."""
        assert self._file is not None
        wanted = {
            "guild.id": "guild_id",
            "guild.name": "guild_name",
            "channel.id": "channel_id",
            "channel.name": "channel_name",
            "channel.type": "channel_type",
        }
        found: dict[str, str | None] = {}
        counter = CountingReader(self._file)
        saw_messages = False
        try:
            for position, (prefix, event, value) in enumerate(ijson.parse(counter)):
                if position == 0 and event != "start_map":
                    raise ExportError(
                        "this is not a DiscordChatExporter JSON export: the top level should be an object "
                        f"with a 'messages' array, found {_event_kind(event)}"
                    )
                if prefix in wanted and event in ("string", "number"):
                    found[wanted[prefix]] = str(value)
                elif prefix == "messages":
                    if event != "start_array":
                        raise ExportError(f"'messages' should be an array, found {_event_kind(event)}")
                    saw_messages = True
                    break
        except ijson.JSONError as error:
            raise ExportError(
                f"the export is not valid JSON near byte {counter.bytes_read:,} of {self.size:,} "
                f"(before the first message): {_short(error)}"
            ) from error
        if not saw_messages:
            raise ExportError(
                "the export has no top-level 'messages' array — is this a DiscordChatExporter JSON file?"
            )
        return ExportHeader(**found)

    def messages(self) -> Iterator[ExportMessage]:
        """Yield every message in file order, raising :class:`ExportError` at the first malformed spot."""
        assert self._counter is not None
        index = 0
        try:
            for item in ijson.items(self._counter, "messages.item", use_float=True):
                message = parse_message(item, index)
                self._last_id = message.id
                index += 1
                self.messages_read = index
                yield message
        except ijson.JSONError as error:
            where = self._where(index)
            if "premature EOF" in str(error):
                raise ExportError(
                    f"the export ends early (truncated?) {where}, at byte {self.bytes_read:,} of "
                    f"{self.size:,}; no more messages could be read"
                ) from error
            raise ExportError(
                f"the export is not valid JSON {where}, between byte {self._counter.chunk_start:,} and "
                f"{self.bytes_read:,} of {self.size:,}: {_short(error)}"
            ) from error

    def _where(self, index: int) -> str:
        """Describe the current position: the message being read and the last good one."""
        after = f" (after message #{index:,}, id {self._last_id})" if self._last_id is not None else ""
        return f"at message #{index + 1:,}{after}"


def parse_message(item: Any, index: int) -> ExportMessage:
    """Check one exported message object and return its :class:`ExportMessage` (``index`` is 0-based)."""
    where = f"message #{index + 1:,}"
    if not isinstance(item, dict):
        raise ExportError(f"{where} should be an object, found {_type_name(item)}")
    message_id = _id_field(item, "id", where)
    where = f"message #{index + 1:,} (id {message_id})"
    kind = _optional_str(item, "type", where) or "Default"
    raw_timestamp = item.get("timestamp")
    if not isinstance(raw_timestamp, str):
        raise ExportError(f"{where}: field 'timestamp' should be a string, found {_type_name(raw_timestamp)}")
    try:
        timestamp = datetime.fromisoformat(raw_timestamp)
    except ValueError as error:
        raise ExportError(
            f"{where}: field 'timestamp' is not an ISO-8601 date: {raw_timestamp[:40]!r}"
        ) from error
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=UTC)
    content = _optional_str(item, "content", where) or ""
    author = item.get("author")
    if not isinstance(author, dict):
        raise ExportError(f"{where}: field 'author' should be an object, found {_type_name(author)}")
    author_id = _id_field(author, "id", where, field_name="author.id")
    is_bot = author.get("isBot", False)
    if not isinstance(is_bot, bool):
        raise ExportError(
            f"{where}: field 'author.isBot' should be true or false, found {_type_name(is_bot)}"
        )
    reference_id: str | None = None
    is_forward = False
    reference = item.get("reference")
    if reference is not None:
        if not isinstance(reference, dict):
            raise ExportError(
                f"{where}: field 'reference' should be an object, found {_type_name(reference)}"
            )
        is_forward = reference.get("type") == "Forward"
        if reference.get("messageId") is not None:
            reference_id = _id_field(reference, "messageId", where, field_name="reference.messageId")
    return ExportMessage(
        index=index,
        id=message_id,
        type=kind,
        timestamp=timestamp,
        content=content,
        author_id=author_id,
        author_is_bot=is_bot,
        reference_id=reference_id,
        is_forward=is_forward or "forwardedMessage" in item,
    )


def _id_field(obj: dict[str, Any], key: str, where: str, *, field_name: str | None = None) -> str:
    """Return an id field (DCE writes ids as strings; numbers are accepted) or raise naming the field."""
    value = obj.get(key)
    name = field_name or key
    if value is None:
        raise ExportError(f"{where}: field '{name}' is missing")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ExportError(f"{where}: field '{name}' should be a string id, found {_type_name(value)}")
    text = str(value)
    if not text:
        raise ExportError(f"{where}: field '{name}' is empty")
    return text


def _optional_str(obj: dict[str, Any], key: str, where: str) -> str | None:
    """Return a string field that may be missing or null, or raise if it has another type."""
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    raise ExportError(f"{where}: field '{key}' should be a string, found {_type_name(value)}")


def _type_name(value: object) -> str:
    """Return the JSON name of a parsed value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _event_kind(event: str) -> str:
    """Return a readable name for an ijson event (what was found where something else was expected)."""
    return {
        "start_map": "an object",
        "start_array": "an array",
        "string": "a string",
        "number": "a number",
        "boolean": "true/false",
        "null": "null",
    }.get(event, event)


def _short(error: Exception) -> str:
    """Return the first line of a parser error, trimmed (yajl errors include a multi-line excerpt)."""
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return first[:200]
