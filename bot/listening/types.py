"""The engine's public result types: immutable, typed, and free of Discord.

Every other part of Heard (cogs, CLI, replay) reads these and nothing deeper.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Span = tuple[int, int]
"""Character offsets ``(start, end)`` into the original text, end exclusive."""

RoadblockCode = Literal[
    "advice_unasked",
    "directing",
    "warning",
    "moralizing",
    "arguing",
    "minimizing",
    "feeling_policing",
    "toxic_positivity",
    "comparison",
    "hijacking",
    "interrogating",
    "deflecting",
    "judging_blaming",
    "labeling_shaming",
    "diagnosing",
    "guilt_or_debate_life",
    "hostility",
]
ROADBLOCK_CODES: tuple[str, ...] = RoadblockCode.__args__  # type: ignore[attr-defined]

Tier = Literal["flag", "nudge"]
FLAG_CODES: frozenset[str] = frozenset(
    {"judging_blaming", "labeling_shaming", "diagnosing", "guilt_or_debate_life", "hostility"}
)

MoveCode = Literal[
    "reflection",
    "feeling_acknowledgement",
    "validation",
    "open_question",
    "affirmation",
    "permission_asking",
    "self_disclosure_brief",
]
MOVE_CODES: tuple[str, ...] = MoveCode.__args__  # type: ignore[attr-defined]

CrisisIndicatorCode = Literal[
    "explicit_ideation",
    "coded_ideation",
    "burdensomeness",
    "hopelessness",
    "entrapment",
    "goodbye",
    "means_seeking",
    "third_party",
    "retraction",
    "recent_self_harm",
    "command_voices",
]
CRISIS_INDICATORS: tuple[str, ...] = CrisisIndicatorCode.__args__  # type: ignore[attr-defined]

CrisisLevel = Literal["none", "concern", "urgent"]
FeelingFamily = Literal["mad", "sad", "scared", "depleted", "joyful", "powerful", "peaceful"]
FEELING_FAMILIES: tuple[str, ...] = FeelingFamily.__args__  # type: ignore[attr-defined]
Intensity = Literal["low", "mid", "high"]
Action = Literal["flag", "nudge", "none"]
ReflectionStyle = Literal["feeling", "content", "double_sided", "crisis_support"]


def tier_of(code: str) -> Tier:
    """Return the tier of a roadblock code: ``flag`` goes to moderators, ``nudge`` to the author."""
    return "flag" if code in FLAG_CODES else "nudge"


@dataclass(frozen=True, slots=True)
class Roadblock:
    """One listening roadblock found in a reply."""

    code: str
    tier: Tier
    span: Span
    confidence: float
    reason: str
    try_instead: str

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form used by ``heard analyze --jsonl``."""
        return {
            "code": self.code,
            "tier": self.tier,
            "span": list(self.span),
            "confidence": round(self.confidence, 3),
            "reason": self.reason,
            "try_instead": self.try_instead,
        }


@dataclass(frozen=True, slots=True)
class Move:
    """One good-listening move found in a reply."""

    move: str
    span: Span

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form used by ``heard analyze --jsonl``."""
        return {"move": self.move, "span": list(self.span)}


@dataclass(frozen=True, slots=True)
class CrisisIndicator:
    """One crisis indicator found in a text."""

    indicator: str
    span: Span

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form used by ``heard analyze --jsonl``."""
        return {"indicator": self.indicator, "span": list(self.span)}


@dataclass(frozen=True, slots=True)
class Crisis:
    """The crisis reading of a text: a level and the indicators behind it."""

    level: CrisisLevel = "none"
    indicators: tuple[CrisisIndicator, ...] = ()

    @property
    def kinds(self) -> tuple[str, ...]:
        """Return the distinct indicator codes, in order of first appearance."""
        return tuple(dict.fromkeys(i.indicator for i in self.indicators))

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form used by ``heard analyze --jsonl``."""
        return {"level": self.level, "indicators": [i.to_dict() for i in self.indicators]}


@dataclass(frozen=True, slots=True)
class Feeling:
    """A feeling family present in a text, with the words that showed it."""

    family: str
    words: tuple[str, ...]
    intensity: Intensity

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form used by the CLI."""
        return {"family": self.family, "words": list(self.words), "intensity": self.intensity}


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything the engine found in one reply (or one post on its own)."""

    text: str
    roadblocks: tuple[Roadblock, ...] = ()
    moves: tuple[Move, ...] = ()
    crisis: Crisis = field(default_factory=Crisis)
    feelings: tuple[Feeling, ...] = ()
    action: Action = "none"

    @property
    def codes(self) -> tuple[str, ...]:
        """Return the distinct roadblock codes, in order of first appearance."""
        return tuple(dict.fromkeys(r.code for r in self.roadblocks))

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form used by ``heard analyze --jsonl`` (without the id)."""
        return {
            "action": self.action,
            "roadblocks": [r.to_dict() for r in self.roadblocks],
            "moves": [m.to_dict() for m in self.moves],
            "crisis": self.crisis.to_dict(),
            "feelings": [f.to_dict() for f in self.feelings],
        }


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One suggested reflective paraphrase and the style it is written in."""

    text: str
    style: ReflectionStyle

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form used by ``heard reflect --jsonl``."""
        return {"text": self.text, "style": self.style}


@dataclass(frozen=True, slots=True)
class Reflection:
    """Reflections for a post: two or three suggestions, one open question, the feelings heard."""

    suggestions: tuple[Suggestion, ...]
    question: str
    feelings: tuple[Feeling, ...] = ()
    crisis: Crisis = field(default_factory=Crisis)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form used by ``heard reflect --jsonl`` (without the id)."""
        return {
            "suggestions": [s.to_dict() for s in self.suggestions],
            "question": self.question,
            "feelings": [f.to_dict() for f in self.feelings],
        }
