"""Finding feeling words in a text: family, the words used, and how intense they are."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import islice

from bot.listening.patterns import Hit
from bot.listening.tables import FEELING_TABLE, INTENSITIES, Tables
from bot.listening.types import Feeling

# One everyday word per feeling family and intensity (low, mid, high), used when a feeling is inferred.
FAMILY_WORDS_BY_INTENSITY: dict[str, tuple[str, str, str]] = {
    "sad": ("down", "sad", "heartbroken"),
    "mad": ("annoyed", "frustrated", "furious"),
    "scared": ("uneasy", "worried", "terrified"),
    "depleted": ("tired", "exhausted", "overwhelmed"),
    "joyful": ("pleased", "happy", "thrilled"),
    "powerful": ("capable", "proud", "accomplished"),
    "peaceful": ("calm", "grateful", "at peace"),
}

_WORD_RX = re.compile(r"[a-z][a-z'-]*")
_DIGIT_RX = re.compile(r"[0-9]")
# Verbs that make a context-dependent feeling word part of a phrasal verb ("had to be put down").
_PHRASAL_VERBS = frozenset(
    [
        "put",
        "let",
        "calm",
        "calmed",
        "shut",
        "sit",
        "sat",
        "lay",
        "lie",
        "slow",
        "break",
        "broke",
        "turn",
        "turned",
        "knock",
        "knocked",
        "went",
        "go",
        "going",
        "fell",
        "fall",
        "take",
        "took",
        "write",
        "wrote",
        "cool",
        "settle",
        "settled",
        "hold",
        "held",
        "pin",
        "pinned",
        "back",
        "cut",
        "run",
        "ran",
        "pass",
        "passed",
    ]
)
# ...and words that, followed by these, describe an event ("haven't heard back", "lost my keys").
_EVENT_FOLLOWERS = frozenset(
    ["back", "from", "about", "of", "that", "it", "anything", "nothing", "him", "her", "them"]
)
_NOT_A_FEELING_BEFORE: dict[str, frozenset[str]] = {
    "heard": _EVENT_FOLLOWERS,
    "seen": _EVENT_FOLLOWERS,
    "lost": frozenset(["my", "the", "his", "her", "our", "their", "it", "a", "all", "to", "weight", "touch"]),
    "left": frozenset(
        ["the", "my", "for", "early", "at", "to", "home", "work", "school", "me", "him", "her"]
    ),
}
_CONTEXT_WORDS = frozenset(
    {
        "feel",
        "feeling",
        "feels",
        "felt",
        "i'm",
        "im",
        "am",
        "so",
        "really",
        "been",
        "was",
        "being",
        "get",
        "getting",
        "got",
        "become",
        "very",
        "super",
        "too",
        "kinda",
        "pretty",
        "just",
        "totally",
        "completely",
        "bit",
        "little",
        "extremely",
        "incredibly",
        "utterly",
        "sooo",
        "soo",
        "and",
        "still",
        "always",
        "ive",
        "i've",
        "seem",
        "seems",
        "sound",
        "sounds",
        "you're",
        "youre",
        "ur",
        "are",
        "is",
        "be",
    }
)
_FAMILY_ORDER = ("sad", "scared", "depleted", "mad", "joyful", "powerful", "peaceful")


@dataclass(frozen=True, slots=True)
class FeelingWord:
    """One feeling word found in a text."""

    word: str
    says_as: str
    family: str
    intensity: str
    situational: bool
    start: int


def _shift(intensity: str, step: int) -> str:
    index = INTENSITIES.index(intensity) + step
    return INTENSITIES[max(0, min(len(INTENSITIES) - 1, index))]


def find_feeling_words(
    view: str, phrase_hits: Iterable[Hit], tables: Tables, words: Sequence[str] | None = None
) -> list[FeelingWord]:
    """Return the feeling words in the matching view, in order, skipping negated ones.

    ``words`` may pass the view's ``[a-z0-9][a-z0-9']*`` words when the caller already has them; they are
    used only if the view holds no digit or hyphen (then they are the same words this reads).
    """
    lexicon = tables.lexicon
    found: list[FeelingWord] = []
    covered: list[tuple[int, int]] = []
    for hit in phrase_hits:
        extra = hit.rule.extra
        if extra.get("table") != FEELING_TABLE:
            continue
        covered.append((hit.start, hit.end))
        before = _WORD_RX.findall(view[max(0, hit.start - 16) : hit.start])[-2:]
        if any(w in tables.feeling_negations for w in before):
            continue  # "first day without a panic attack"
        found.append(
            FeelingWord(
                word=view[hit.start : hit.end],
                says_as=str(extra["says_as"]),
                family=str(extra["family"]),
                intensity=_intensity_before(view, hit.start, str(extra["intensity"]), tables),
                situational=False,
                start=hit.start,
            )
        )
    if words is None or "-" in view or _DIGIT_RX.search(view) is not None:
        words = _WORD_RX.findall(view)
    if lexicon.keys().isdisjoint(words):
        found.sort(key=lambda f: f.start)
        return found
    matches = _WORD_RX.finditer(view)  # the same words again, with their offsets: read only up to each find
    read = 0
    for index in [i for i, word in enumerate(words) if word in lexicon]:
        word = words[index]
        entry = lexicon[word]
        match = next(islice(matches, index - read, None))
        read = index + 1
        if any(s <= match.start() < e for s, e in covered):
            continue
        recent = words[max(0, index - 2) : index]
        if any(w in tables.feeling_negations for w in recent):
            continue
        if entry.needs_context:
            if not any(w in _CONTEXT_WORDS for w in recent):
                continue
            phrasal = bool(recent) and recent[-1] in _PHRASAL_VERBS  # "put down", "calm down", "left out"
            if not phrasal and word in _NOT_A_FEELING_BEFORE:
                following = (
                    _WORD_RX.match(view, match.end() + 1)
                    if view[match.end() : match.end() + 1] == " "
                    else None
                )
                phrasal = following is not None and following.group() in _NOT_A_FEELING_BEFORE[word]
            if phrasal:
                continue
        found.append(
            FeelingWord(
                word=word,
                says_as=entry.says_as,
                family=entry.family,
                intensity=_intensity_from_words(entry.intensity, recent, tables),
                situational=entry.situational,
                start=match.start(),
            )
        )
    found.sort(key=lambda f: f.start)
    return found


def _intensity_before(view: str, start: int, intensity: str, tables: Tables) -> str:
    recent = _WORD_RX.findall(view[max(0, start - 20) : start])[-2:]
    return _intensity_from_words(intensity, recent, tables)


def _intensity_from_words(intensity: str, recent: Sequence[str], tables: Tables) -> str:
    if any(w in tables.intensifiers for w in recent):
        return _shift(intensity, 1)
    if any(w in tables.softeners for w in recent):
        return _shift(intensity, -1)
    return intensity


def summarize(words: Sequence[FeelingWord]) -> tuple[Feeling, ...]:
    """Group feeling words by family, strongest family first, with the strongest intensity seen."""
    by_family: dict[str, list[FeelingWord]] = {}
    for word in words:
        by_family.setdefault(word.family, []).append(word)
    feelings: list[tuple[float, int, Feeling]] = []
    for family, family_words in by_family.items():
        top = max(INTENSITIES.index(w.intensity) for w in family_words)
        score = sum(1.0 + INTENSITIES.index(w.intensity) * 0.5 for w in family_words)
        unique = tuple(dict.fromkeys(w.word for w in family_words))
        feeling = Feeling(family=family, words=unique, intensity=INTENSITIES[top])  # type: ignore[arg-type]
        feelings.append((score, -_FAMILY_ORDER.index(family), feeling))
    feelings.sort(key=lambda item: (item[0], item[1]), reverse=True)
    return tuple(f for _, _, f in feelings)
