"""Shared pieces of the moderator tooling: its texts file, links, excerpts and sensitivity thresholds.

Pure functions (no Discord calls, no storage), so ``cogs/moderation.py`` and ``cogs/crisis.py`` stay thin.
The words live in ``_moderation_texts.toml``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Final

import discord

from bot.listening.types import FLAG_CODES, Analysis, Roadblock
from cogs._texts import TomlTexts

TEXTS_FILE: Final = Path(__file__).with_name("_moderation_texts.toml")
EXCERPT_LIMIT: Final = 200
HELPLINE_LIMIT: Final = 200
HELPLINE_COUNT: Final = 10
DEFAULT_THRESHOLDS: Final[Mapping[str, float]] = MappingProxyType(
    {"conservative": 0.8, "balanced": 0.6, "sensitive": 0.45}
)
FLAG_CODE_CHOICES: Final[tuple[str, ...]] = tuple(sorted(FLAG_CODES))

_MENTION = re.compile(r"<(?:@[!&]?|#)\d+>|@(everyone|here)", re.IGNORECASE)
_LINK = re.compile(r"<?\b(?:https?://|www\.)\S+>?", re.IGNORECASE)
_CODE_FENCE = re.compile(r"`+")
_SPACE = re.compile(r"\s+")


class ModerationTexts(TomlTexts):
    """The moderator-tooling sentences from ``_moderation_texts.toml``, looked up by dotted key."""

    def label(self, table: str, code: str) -> str:
        """Return the description of ``code`` in ``table`` (``codes``, ``indicators``, ``status``...)."""
        node = self._node(table)
        return str(node.get(code, code.replace("_", " ").capitalize()))

    def lines(self, key: str) -> tuple[str, ...]:
        """Return the list of sentences at ``key``."""
        return tuple(str(line) for line in self._node(key))


@cache
def moderation_texts() -> ModerationTexts:
    """Return the moderator-tooling texts, read once from the TOML file beside this module."""
    return ModerationTexts.load(TEXTS_FILE)


def sensitivity_thresholds() -> Mapping[str, float]:
    """Return the engine's confidence threshold for each sensitivity (conservative, balanced, sensitive)."""
    import bot.listening as engine

    thresholds = getattr(engine, "SENSITIVITY_THRESHOLDS", None)
    return thresholds if isinstance(thresholds, Mapping) else DEFAULT_THRESHOLDS


def flaggable_roadblocks(
    analysis: Analysis,
    *,
    threshold: float,
    enabled: Iterable[str] | None = None,
    disabled: Iterable[str] = (),
) -> list[Roadblock]:
    """Return the flag-tier roadblocks at or above ``threshold`` whose codes the guild has switched on.

    Strongest first; one roadblock per code (the most confident).
    """
    off = set(disabled)
    allowed = set(enabled) if enabled is not None else None
    best: dict[str, Roadblock] = {}
    for roadblock in analysis.roadblocks:
        if roadblock.tier != "flag" or roadblock.confidence < threshold or roadblock.code in off:
            continue
        if allowed is not None and roadblock.code not in allowed:
            continue
        current = best.get(roadblock.code)
        if current is None or roadblock.confidence > current.confidence:
            best[roadblock.code] = roadblock
    return sorted(best.values(), key=lambda roadblock: (-roadblock.confidence, roadblock.code))


def excerpt_of(text: str, spans: Sequence[tuple[int, int]], *, limit: int = EXCERPT_LIMIT) -> str | None:
    """Return the matched spans of ``text`` only, joined by ' … ', made safe to show, at most ``limit`` chars.

    Mentions and links inside a span are replaced by placeholders, markdown is escaped, whitespace is
    collapsed. None when nothing is left.
    """
    merged: list[tuple[int, int]] = []
    for start, end in sorted((max(0, s), min(len(text), e)) for s, e in spans if e > s):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    pieces = [_clean_piece(text[start:end]) for start, end in merged]
    joined = " … ".join(piece for piece in pieces if piece)
    if not joined:
        return None
    if len(joined) > limit:
        cut = joined[: limit - 1]
        cut = cut[: cut.rfind("\\")] if cut.endswith("\\") else cut
        joined = cut.rstrip() + "…"
    return joined


def _clean_piece(piece: str) -> str:
    """Make one matched span safe to quote in an embed."""
    piece = _MENTION.sub("@someone", piece)
    piece = _LINK.sub("[link]", piece)
    piece = _CODE_FENCE.sub("", piece)
    piece = _SPACE.sub(" ", piece).strip()
    return discord.utils.escape_markdown(piece)


def member_ref(user_id: int | None, *, with_id: bool = True) -> str:
    """Return how alerts name a member: a mention (and id), or a neutral phrase once they were forgotten."""
    if not user_id:
        return moderation_texts().get("members.deleted")
    return moderation_texts().get("members.mention", user_id=user_id) if with_id else f"<@{user_id}>"


def jump_link(guild_id: int | None, channel_id: int, message_id: int) -> str:
    """Return the Discord link to a message (``@me`` for a direct message)."""
    return f"https://discord.com/channels/{guild_id if guild_id else '@me'}/{channel_id}/{message_id}"


def unix_time(iso_text: str | None) -> int:
    """Return the Unix time of a stored ISO-8601 timestamp (0 if missing)."""
    if not iso_text:
        return 0
    return int(datetime.fromisoformat(iso_text).timestamp())


def clean_helplines(text: str) -> list[str] | None:
    """Split a submitted helpline list into lines (one per line, bullets stripped, mentions neutralised).

    Returns None if a line is too long or there are too many lines; an empty list if nothing was given.
    """
    lines: list[str] = []
    for raw in text.splitlines():
        line = _SPACE.sub(" ", raw).strip().lstrip("•*-–· ").strip()
        if not line:
            continue
        line = _MENTION.sub("", line).strip()
        if not line:
            continue
        if len(line) > HELPLINE_LIMIT:
            return None
        lines.append(line)
    if len(lines) > HELPLINE_COUNT:
        return None
    return lines
