"""Shared pieces of the member features: the texts file, input checks, and answer formatting.

Pure functions over the engine's result types (no Discord calls), so the cogs stay thin and these
can be read and tested on their own. The words themselves live in ``_member_texts.toml``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Final

import discord

from bot.listening.types import Analysis, Feeling, Reflection, Roadblock
from cogs._texts import TomlTexts

TEXTS_FILE: Final = Path(__file__).with_name("_member_texts.toml")
MAX_TEXT_LENGTH: Final = 4000
QUOTE_LIMIT: Final = 90
MESSAGE_LIMIT: Final = 2000
"""Discord's limit on a message's text."""
MAX_LISTED: Final = 4
"""At most this many moves or roadblocks are listed in one coaching answer (the most confident first)."""
NO_MENTIONS: Final = discord.AllowedMentions.none()

_CODE = re.compile(r"```.*?(?:```|\Z)|`[^`\n]*`", re.DOTALL)
_LINK = re.compile(r"<?\b(?:https?://|www\.)\S+>?", re.IGNORECASE)
_MENTION = re.compile(r"<(?:@[!&]?|#)\d+>|@everyone|@here", re.IGNORECASE)
_CUSTOM_EMOJI = re.compile(r"<a?:\w+:\d+>|:[a-z0-9_+-]+:", re.IGNORECASE)


class MemberTexts(TomlTexts):
    """The member-facing sentences from ``_member_texts.toml``, looked up by dotted key."""

    def table(self, key: str) -> Mapping[str, str]:
        """Return the table at ``key`` (like ``"coach.moves"``) as a read-only mapping."""
        return MappingProxyType({str(k): str(v) for k, v in self._node(key).items()})


@cache
def member_texts() -> MemberTexts:
    """Return the member texts, read once from the TOML file shipped beside this module."""
    return MemberTexts.load(TEXTS_FILE)


def text_problem(text: str | None, *, from_message: bool = False) -> str | None:
    """Return a kind sentence explaining why ``text`` cannot be worked with, or None if it is fine.

    Covers empty or whitespace text, text over 4,000 characters, and text that is only emoji, links,
    code blocks or mentions (nothing with letters left once those are set aside).
    """
    texts = member_texts()
    if text is None or not text.strip():
        return texts.get("input.empty_message" if from_message else "input.empty")
    if len(text) > MAX_TEXT_LENGTH:
        return texts.get("input.too_long", limit=f"{MAX_TEXT_LENGTH:,}")
    remaining = text
    removed: list[str] = []
    for kind, pattern in (("code", _CODE), ("link", _LINK), ("mentions", _MENTION), ("emoji", _CUSTOM_EMOJI)):
        stripped = pattern.sub(" ", remaining)
        if stripped != remaining:
            removed.append(kind)
        remaining = stripped
    if any(character.isalpha() for character in remaining):
        return None
    if any(unicodedata.category(character) == "So" for character in remaining):
        removed.append("emoji")
    if not removed:
        return texts.get("input.no_words")
    return texts.get(f"input.only_{removed[0]}")


def quote(text: str, span: tuple[int, int] | None = None, *, limit: int = QUOTE_LIMIT) -> str:
    """Return a short, single-line, markdown-safe excerpt of ``text`` (or of ``text[span]``)."""
    excerpt = text if span is None else text[max(0, span[0]) : max(0, span[1])]
    excerpt = " ".join(excerpt.split())
    if len(excerpt) > limit:
        excerpt = excerpt[: limit - 1].rstrip() + "…"
    return discord.utils.escape_mentions(discord.utils.escape_markdown(excerpt))


def quote_clause(text: str, span: tuple[int, int], *, reach: int = 60) -> str:
    """Return :func:`quote` of ``span`` widened to the end of its sentence, when that is close by.

    The engine marks the words that matter ("have you tried"); the member reads them better with the
    rest of their clause ("have you tried making a schedule?").
    """
    start, end = max(0, span[0]), max(0, span[1])
    window = text[end : end + reach]
    stop = next((index for index, character in enumerate(window) if character in ".?!\n"), None)
    if stop is not None:
        end += stop + (1 if window[stop] in "?!" else 0)
    return quote(text, (start, end))


def feelings_summary(feelings: Iterable[Feeling]) -> str:
    """Return the feelings heard as plain words, like ``"exhausted, lonely"``."""
    words: list[str] = []
    for feeling in feelings:
        for word in feeling.words or (feeling.family,):
            if word.lower() not in words:
                words.append(word.lower())
    return ", ".join(quote(word, limit=40) for word in words)


def format_reflection(reflection: Reflection) -> str:
    """Return the ephemeral ``/reflect`` answer: suggestions, one question, feelings, the software line."""
    texts = member_texts()
    lines = [texts.get("reflect.heading")]
    lines += [f"• {suggestion.text}" for suggestion in reflection.suggestions]
    if reflection.question:
        lines.append(texts.get("reflect.question", question=reflection.question))
    summary = feelings_summary(reflection.feelings)
    lines.append(
        texts.get("reflect.feelings", feelings=summary) if summary else texts.get("reflect.no_feelings")
    )
    if reflection.crisis.level != "none":
        lines.append(texts.get("reflect.crisis_note"))
    lines.append(texts.get("software_line"))
    return fit_message(lines)


def format_coaching(analysis: Analysis, post_reflection: Reflection | None) -> str:
    """Return the ephemeral ``/coach`` answer: moves done well, roadblocks, an opening reflection.

    ``post_reflection`` is the engine's reflection of the post the draft answers, when there is one.
    """
    texts = member_texts()
    lines: list[str] = []
    if analysis.crisis.level != "none":
        lines.append(texts.get("coach.draft_crisis"))
    if post_reflection is not None and post_reflection.crisis.level != "none":
        lines.append(texts.get("coach.post_crisis"))
    move_labels = texts.table("coach.moves")
    seen_moves: set[str] = set()
    move_lines: list[str] = []
    for move in analysis.moves:
        if move.move in seen_moves:
            continue
        seen_moves.add(move.move)
        label = move_labels.get(move.move, move.move.replace("_", " ").capitalize())
        move_lines.append(texts.get("coach.move", label=label, quote=quote_clause(analysis.text, move.span)))
    if move_lines:
        lines.append(texts.get("coach.good_heading"))
        lines += move_lines[:MAX_LISTED]
    if analysis.roadblocks:
        lines.append(texts.get("coach.reconsider_heading"))
        ranked = sorted(analysis.roadblocks, key=lambda roadblock: -roadblock.confidence)[:MAX_LISTED]
        lines += [_roadblock_line(analysis.text, roadblock) for roadblock in ranked]
    elif move_lines:
        lines.append(texts.get("coach.all_good"))
    else:
        lines.append(texts.get("coach.nothing_found"))
    if post_reflection is not None and post_reflection.suggestions:
        lines.append(texts.get("coach.reflection_heading"))
        lines.append(f"“{post_reflection.suggestions[0].text}”")
    elif post_reflection is None:
        lines.append(texts.get("coach.no_post"))
    lines.append(texts.get("software_line"))
    return fit_message(lines)


def _roadblock_line(text: str, roadblock: Roadblock) -> str:
    """Return one "worth another look" line: the quoted span, the reason, and the try-instead."""
    return member_texts().get(
        "coach.roadblock",
        quote=quote_clause(text, roadblock.span),
        reason=_sentence(roadblock.reason),
        try_instead=_try_instead(roadblock.try_instead),
    )


def _sentence(text: str) -> str:
    """Return ``text`` trimmed, capitalised and ending with punctuation."""
    text = text.strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?…”\"'" else text + "."


def _try_instead(text: str) -> str:
    """Return the engine's try-instead phrasing, prefixed with "Try:" unless it already says so."""
    text = text.strip()
    if not text:
        return ""
    return text if text.lower().startswith("try") else f"Try: {text}"


def main_roadblock(analysis: Analysis) -> Roadblock | None:
    """Return the roadblock a nudge is about: the most confident one (None if there are none)."""
    if not analysis.roadblocks:
        return None
    return max(analysis.roadblocks, key=lambda roadblock: roadblock.confidence)


@dataclass(frozen=True, slots=True)
class NudgeContent:
    """What a nudge says, before it is sent as a DM or opened from the in-channel button."""

    place: str
    code: str | None
    try_instead: str
    reflection: str | None
    jump_url: str | None
    from_moderator: bool = False


def nudge_content(
    analysis: Analysis | None,
    post_reflection: Reflection | None,
    *,
    place: str,
    jump_url: str | None,
    codes: tuple[str, ...] = (),
    from_moderator: bool = False,
) -> NudgeContent:
    """Collect what a nudge says from the engine's results (or only the stored codes, if that is all)."""
    roadblock = main_roadblock(analysis) if analysis is not None else None
    reflection = (
        post_reflection.suggestions[0].text if post_reflection and post_reflection.suggestions else None
    )
    return NudgeContent(
        place=place,
        code=roadblock.code if roadblock else (codes[0] if codes else None),
        try_instead=roadblock.try_instead if roadblock else "",
        reflection=reflection,
        jump_url=jump_url,
        from_moderator=from_moderator,
    )


def format_nudge(content: NudgeContent, *, intro_guild: str | None) -> str:
    """Return the private nudge: (intro,) one warm sentence, try-instead, reflection, software line, opt-out.

    ``intro_guild`` is the server's name when this is the first nudge the member ever gets.
    """
    texts = member_texts()
    phrases = texts.table("nudge.phrases")
    lines: list[str] = []
    if intro_guild is not None:
        lines.append(texts.get("nudge.intro", guild=f"**{quote(intro_guild, limit=60)}**"))
    phrase = phrases.get(content.code or "default", phrases["default"])
    lines.append(texts.get("nudge.what_happened", place=content.place, phrase=phrase))
    if content.from_moderator:
        lines.append(texts.get("nudge.from_moderator"))
    suggestion = content.try_instead.strip() or texts.get("nudge.tip_generic")
    if suggestion.lower().startswith("try"):
        lines.append(suggestion)  # the engine's phrasing already reads "Try reflecting first: ..."
    else:
        lines.append(texts.get("nudge.try_instead", try_instead=suggestion))
    if content.reflection:
        lines.append(texts.get("nudge.reflection", reflection=content.reflection))
    if content.jump_url:
        lines.append(texts.get("nudge.jump", link=content.jump_url))
    lines.append(texts.get("software_line"))
    lines.append(texts.get("nudge.turn_off"))
    return fit_message(lines)


def fit_message(lines: list[str], *, limit: int = MESSAGE_LIMIT) -> str:
    """Join ``lines`` into one message within Discord's limit, keeping the last line (the software line).

    Middle lines that do not fit are dropped whole, and an over-long line is shortened with "…".
    """
    if not lines:
        return ""
    last = _shorten(lines[-1], limit)
    kept: list[str] = []
    used = len(last)
    for line in lines[:-1]:
        line = _shorten(line, limit // 2)
        if used + len(line) + 1 > limit:
            break
        kept.append(line)
        used += len(line) + 1
    return "\n".join([*kept, last])


def _shorten(line: str, limit: int) -> str:
    """Return ``line`` cut to ``limit`` characters with "…" if it is longer."""
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
