"""Small builders for hand-made DiscordChatExporter exports used by the replay tests."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

SAMPLE = Path(__file__).parent / "data" / "dce_sample.json"
GUILD_ID = "869237470565392384"
CHANNEL_ID = "885169254029213696"


def message(
    message_id: int | str,
    content: str,
    *,
    author: str = "111",
    reply_to: int | str | None = None,
    is_bot: bool = False,
    kind: str | None = None,
    minute: int = 0,
) -> dict[str, Any]:
    """Return one exported message with the fields DCE writes (trimmed to what matters)."""
    item: dict[str, Any] = {
        "id": str(message_id),
        "type": kind or ("Reply" if reply_to is not None else "Default"),
        "timestamp": f"2026-02-28T22:{minute:02d}:00.000+00:00",
        "timestampEdited": None,
        "isPinned": False,
        "content": content,
        "author": {
            "id": author,
            "name": f"user{author}",
            "discriminator": "0000",
            "isBot": is_bot,
            "roles": [],
        },
        "attachments": [],
        "embeds": [],
        "reactions": [],
        "mentions": [],
    }
    if reply_to is not None:
        item["reference"] = {"type": "Default", "messageId": str(reply_to), "channelId": CHANNEL_ID}
    return item


def write_export(
    path: Path,
    messages: list[dict[str, Any]],
    *,
    channel_type: str = "GuildTextChat",
    channel_id: str = CHANNEL_ID,
) -> Path:
    """Write an export holding ``messages`` and return its path."""
    document = {
        "guild": {"id": GUILD_ID, "name": "Peer Support"},
        "channel": {"id": channel_id, "type": channel_type, "name": "vent", "category": "Support"},
        "dateRange": {"after": None, "before": None},
        "exportedAt": "2026-03-01T12:00:00.000+00:00",
        "messages": messages,
        "messageCount": len(messages),
    }
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def child_env() -> dict[str, str]:
    """Return the environment for ``python -m bot``: ours, with the repository first on the path."""
    root = str(Path(__file__).resolve().parents[2])
    existing = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": root + (os.pathsep + existing if existing else "")}
