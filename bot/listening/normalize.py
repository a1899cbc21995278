"""Text normalisation for matching, with an offset map back into the original text.

The matching view is lowercase, has straight quotes, and has markdown symbols, mentions, links,
custom emoji and code blocks blanked out with spaces (so offsets do not move). Letter runs such as
"sooo" are shortened and, for crisis matching only, creative spellings such as "k!ll" or "unal1ve"
are read as letters. Shortening runs is the only step that changes the length; when it happens an
offset map is kept so every span still points into the ORIGINAL text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# One character in, one character out: curly quotes become straight, markdown symbols become spaces.
_CHAR_TABLE = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u00b4": "'",
        "\u0060": "`",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "*": " ",
        "~": " ",
        "|": " ",
        "\u200b": " ",
        "\u200c": " ",
        "\u200d": " ",
        "\u2060": " ",
        "\ufeff": " ",
        "\u00a0": " ",
        "\t": " ",
        "\r": " ",
        "\u2026": ".",
        "\u2014": "-",
        "\u2013": "-",
    }
)

# Parts of a Discord message that are never matched: code blocks, inline code, links, mentions,
# channel and role references, custom emoji, spoiler bars. Each is replaced by spaces of equal length.
_BLANK_RX = re.compile(
    r"```.*?(?:```|\Z)"
    r"|`[^`\n]*`"
    r"|(?:https?://|www\.)\S+"
    r"|<(?:@[!&]?|#)\d+>"
    r"|<a?:\w+:\d+>"
    r"|@(?:everyone|here)\b",
    re.DOTALL,
)
_BLANK_HINTS = ("`", "<", "http", "www.", "@")  # no part to blank without one of these (see normalize())

# Runs of three or more of the same letter: "sooo" -> "so", "killlll" -> "kill".
_RUN_RX = re.compile(r"([a-z])\1\1+")
# The ASCII characters the character table changes (an ASCII text without them is left as it is; kept
# in step with the check in normalize() by a test).
ASCII_CHANGES = frozenset(ch for ch in map(chr, range(128)) if ch.translate(_CHAR_TABLE) != ch)
_VOWELS = frozenset("aeiouy")

# Creative spellings read as letters when a symbol or digit sits between two letters: k!ll, unal1ve.
_LEET_RX = re.compile(r"(?<=[a-z])[013457@$!|+]+(?=[a-z])")
_LEET_TABLE = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "@": "a",
        "$": "s",
        "!": "i",
        "|": "l",
        "+": "t",
    }
)
_LEET_HINTS = "013457@$!|+"


@dataclass(frozen=True, slots=True)
class Normalized:
    """A matching view of a text plus the map from view offsets to original offsets."""

    original: str
    text: str
    offsets: tuple[int, ...] | None = None
    """``offsets[i]`` is the original index of view character ``i``; ``None`` means identical offsets."""

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a ``(start, end)`` span of the view back to the original text."""
        if self.offsets is None:
            return (start, end)
        if start >= len(self.offsets):
            return (len(self.original), len(self.original))
        original_start = self.offsets[start]
        if end <= start:
            return (original_start, original_start)
        # End at the next kept character, so letters dropped from a run at the end stay in the span.
        original_end = self.offsets[end] if end < len(self.offsets) else len(self.original)
        return (original_start, original_end)


def _lowercase_same_length(text: str) -> str:
    """Lowercase ``text`` keeping one character per character (a few letters lowercase to two)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(ch.lower()[:1] or ch for ch in text)


def _blank(match: re.Match[str]) -> str:
    return " " * (match.end() - match.start())


def _shorten_runs(text: str) -> tuple[str, tuple[int, ...] | None]:
    """Shorten letter runs (vowels to one, consonants to two) and return the offset map."""
    if _RUN_RX.search(text) is None:
        return text, None
    pieces: list[str] = []
    offsets: list[int] = []
    position = 0
    for match in _RUN_RX.finditer(text):
        start, end = match.span()
        pieces.append(text[position:start])
        offsets.extend(range(position, start))
        keep = 1 if match.group(1) in _VOWELS else 2
        pieces.append(match.group(1) * keep)
        offsets.extend(range(start, start + keep))
        position = end
    pieces.append(text[position:])
    offsets.extend(range(position, len(text)))
    return "".join(pieces), tuple(offsets)


def normalize(text: str) -> Normalized:
    """Return the matching view of ``text`` (lowercase, plain quotes, no markup, short letter runs)."""
    view = _lowercase_same_length(text)
    # Spelled out rather than any(...) over a tuple: this runs for every message and reply.
    if not view.isascii() or "*" in view or "~" in view or "|" in view or "\t" in view or "\r" in view:
        view = view.translate(_CHAR_TABLE)
    if "`" in view or "<" in view or "@" in view or "http" in view or "www." in view:
        view = _BLANK_RX.sub(_blank, view)
    view, offsets = _shorten_runs(view)
    return Normalized(original=text, text=view, offsets=offsets)


def deleet(view: str) -> str:
    """Read creative spellings between letters as letters (k!ll -> kill); same length as ``view``."""
    if not any(ch in view for ch in _LEET_HINTS):
        return view
    return _LEET_RX.sub(lambda m: m.group().translate(_LEET_TABLE), view)
