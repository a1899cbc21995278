"""Generate DiscordChatExporter-shaped exports of any size, for tests and the replay benchmark.

The generator streams to the file, so a 200,000-message export costs no memory to write. Texts are drawn
from a small fixed set of posts and replies (kind, advice-first, judging, crisis-adjacent...) so the engine
has something to find; the ids are increasing snowflakes like Discord's.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

GUILD_ID = "869237470565392384"
CHANNEL_ID = "885169254029213696"
FIRST_MESSAGE_ID = 885169254029213697

POSTS: tuple[str, ...] = (
    "I feel like nobody listens to me at work and I'm so tired of it",
    "my mom and I had another fight and I don't know what to do anymore",
    "i failed my exam again, i'm so stressed about my parents finding out",
    "any tips for sleeping when your brain won't shut up?",
    "I've been feeling really lonely since I moved to a new city",
    "honestly i feel like such a burden to everyone around me",
    "work has been overwhelming, I can't keep up with everything",
    "my best friend stopped talking to me and I don't know why",
)
REPLIES: tuple[str, ...] = (
    "That sounds really exhausting. What's been the hardest part?",
    "you should just get over it",
    "It sounds like you've been carrying a lot on your own lately.",
    "just go for a run, it always helps me",
    "at least you still have a job, some people have it way worse",
    "That makes sense that you'd feel hurt by that.",
    "why didn't you tell them earlier? why do you always wait?",
    "you're being dramatic tbh",
    "sounds like you're feeling really alone with this. how are you holding up tonight?",
    "have you tried talking to your boss about it?",
    "everything happens for a reason, stay positive!",
    "I hear you. Would it help to talk about what happened?",
    "you're so dramatic",
    "honestly it's your own fault for being so lazy",
    "stop being such an attention seeker",
)


@dataclass(frozen=True, slots=True)
class SyntheticExport:
    """What was written: the path and how many messages of each kind (for assertions)."""

    path: Path
    messages: int
    replies: int
    replies_to_missing: int
    bot_messages: int


def write_export(
    path: Path,
    messages: int,
    *,
    seed: int = 7,
    reply_share: float = 0.6,
    missing_target_share: float = 0.05,
    bot_share: float = 0.02,
    start: datetime | None = None,
    spacing: timedelta = timedelta(minutes=3),
) -> SyntheticExport:
    """Write an export of ``messages`` messages to ``path`` and return what it contains.

    About ``reply_share`` of messages reply to an earlier message; ``missing_target_share`` of those point at
    an id that is not in the export (a message from before the exported date range).
    """
    rng = random.Random(seed)
    begin = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    replies = missing = bots = 0
    with path.open("w", encoding="utf-8") as out:
        _write_head(out)
        for index, message in enumerate(
            _messages(rng, messages, begin, spacing, reply_share, missing_target_share, bot_share)
        ):
            if index:
                out.write(",\n")
            out.write(json.dumps(message, ensure_ascii=False))
            if message["type"] == "Reply":
                replies += 1
                if int(message["reference"]["messageId"]) < FIRST_MESSAGE_ID:
                    missing += 1
            if message["author"]["isBot"]:
                bots += 1
        out.write(f'\n  ],\n  "messageCount": {messages}\n}}\n')
    return SyntheticExport(path, messages, replies, missing, bots)


def _write_head(out: TextIO) -> None:
    """Write the export's header up to the opening of the messages array."""
    head = {
        "guild": {
            "id": GUILD_ID,
            "name": "Peer Support",
            "iconUrl": "https://cdn.discordapp.com/icons/x.png",
        },
        "channel": {
            "id": CHANNEL_ID,
            "type": "GuildTextChat",
            "categoryId": "885169254029213600",
            "category": "Support",
            "name": "vent",
            "topic": "A place to be heard",
        },
        "dateRange": {"after": None, "before": None},
        "exportedAt": "2026-03-01T12:00:00.000+00:00",
    }
    text = json.dumps(head, indent=2)
    out.write(text[: text.rfind("}")].rstrip() + ',\n  "messages": [\n')


def _messages(
    rng: random.Random,
    count: int,
    begin: datetime,
    spacing: timedelta,
    reply_share: float,
    missing_target_share: float,
    bot_share: float,
) -> Iterator[dict[str, Any]]:
    """Yield message objects shaped like DiscordChatExporter's writer output."""
    for index in range(count):
        message_id = FIRST_MESSAGE_ID + index
        author_number = rng.randrange(40)
        is_bot = rng.random() < bot_share
        reference: dict[str, str] | None = None
        if index and not is_bot and rng.random() < reply_share:
            if rng.random() < missing_target_share:
                target = FIRST_MESSAGE_ID - 1 - rng.randrange(1000)
            else:
                target = message_id - 1 - rng.randrange(min(index, 50))
            reference = {
                "type": "Default",
                "messageId": str(target),
                "channelId": CHANNEL_ID,
                "guildId": GUILD_ID,
            }
        text = rng.choice(REPLIES) if reference else rng.choice(POSTS)
        yield _message(message_id, begin + spacing * index, text, author_number, is_bot, reference)


def _message(
    message_id: int,
    when: datetime,
    text: str,
    author_number: int,
    is_bot: bool,
    reference: dict[str, str] | None,
) -> dict[str, Any]:
    """Return one message object with every field DCE writes."""
    author_id = str(128178626683338752 + author_number)
    message: dict[str, Any] = {
        "id": str(message_id),
        "type": "Reply" if reference else "Default",
        "timestamp": when.isoformat(timespec="milliseconds"),
        "timestampEdited": None,
        "callEndedTimestamp": None,
        "isPinned": False,
        "content": "" if is_bot else text,
        "author": {
            "id": "99" + author_id[2:] if is_bot else author_id,
            "name": "helper-bot" if is_bot else f"member{author_number}",
            "discriminator": "0000",
            "nickname": "helper-bot" if is_bot else f"Member {author_number}",
            "color": None,
            "isBot": is_bot,
            "roles": [],
            "avatarUrl": "https://cdn.discordapp.com/embed/avatars/0.png",
        },
        "attachments": [],
        "embeds": [],
        "stickers": [],
        "reactions": [],
        "mentions": [],
        "inlineEmojis": [],
    }
    if reference:
        message["reference"] = reference
    return message
