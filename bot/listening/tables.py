"""Loading the data files once and compiling them into the structures the engine matches with."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from bot.listening.patterns import Rule, RuleSet, expand_macros, load_toml, macros

# Tables whose rules share the main matching pass (each rule remembers which table it came from).
ROADBLOCK_TABLE = "roadblocks"
MOVE_TABLE = "moves"
CONTEXT_TABLE = "context"
CRISIS_TABLE = "crisis"
FEELING_TABLE = "feelings"
SAFE_CODE = "safe"
URGENCY_CODE = "urgency"
NOT_A_ROADBLOCK = "not_a_roadblock"

INTENSITIES = ("low", "mid", "high")


@dataclass(frozen=True, slots=True)
class FeelingEntry:
    """What one lexicon word or phrase means: its family, intensity and how a reflection says it."""

    family: str
    intensity: str
    says_as: str
    situational: bool
    needs_context: bool


@dataclass(frozen=True, slots=True)
class RoadblockInfo:
    """The member-facing text for a roadblock code."""

    reason: str
    try_instead: str
    negatable: bool


@dataclass(frozen=True, slots=True)
class Imperatives:
    """Sentence-initial command verbs and the kind phrases that look like commands but are not."""

    directing: frozenset[str]
    advice: frozenset[str]
    fillers: frozenset[str]
    exceptions: Mapping[str, tuple[str, ...]]
    directing_weight: float
    advice_weight: float


@dataclass(frozen=True, slots=True)
class Tables:
    """Every compiled table the engine uses; built once per process by :func:`tables`."""

    main: RuleSet
    crisis: RuleSet
    roadblock_info: Mapping[str, RoadblockInfo]
    imperatives: Imperatives
    lexicon: Mapping[str, FeelingEntry]
    intensifiers: frozenset[str]
    softeners: frozenset[str]
    feeling_negations: frozenset[str]
    reported_words: frozenset[str]
    reported_rx: re.Pattern[str]
    reflecting_rx: re.Pattern[str]
    negation_words: frozenset[str]
    negation_rx: re.Pattern[str]
    reflect: Mapping[str, Any]


def _specs(
    table: Mapping[str, Any], table_name: str, macro_table: Mapping[str, str]
) -> list[tuple[Rule, list[str]]]:
    specs: list[tuple[Rule, list[str]]] = []
    for code, section in table.items():
        if not isinstance(section, dict) or "patterns" not in section:
            continue
        groups = section.get("patterns", [])
        for number, entry in enumerate(groups):
            weight = float(entry.get("weight", section.get("weight", 0.7)))
            extra: dict[str, Any] = {k: v for k, v in entry.items() if k not in ("match", "weight")}
            extra["table"] = table_name
            extra["lane"] = _lane(table_name, code, str(entry.get("kind", entry.get("strength", ""))))
            raw = [str(p).strip() for p in entry.get("match", [])]
            rule = Rule(f"{table_name}:{code}#{number}", code, weight, "; ".join(raw), extra)
            specs.append((rule, [expand_macros(p, macro_table) for p in raw]))
    return specs


_FLAG_TIER = frozenset(
    {"judging_blaming", "labeling_shaming", "diagnosing", "guilt_or_debate_life", "hostility"}
)


def _lane(table: str, code: str, kind: str = "") -> str:
    """Return the matching lane of a rule: rules in one lane compete, rules in different lanes do not."""
    if table == ROADBLOCK_TABLE:
        if code == NOT_A_ROADBLOCK:
            return "cancel"
        return code
    if table == CRISIS_TABLE:
        if code in (SAFE_CODE, URGENCY_CODE):
            return f"{code}:{kind}"
        return f"indicator:{kind}"  # strong and weak signals never hide each other
    return table


def _lexicon(data: Mapping[str, Any]) -> tuple[dict[str, FeelingEntry], list[tuple[Rule, list[str]]]]:
    needs_context = frozenset(data.get("intensifiers", {}).get("needs_context", []))
    words: dict[str, FeelingEntry] = {}
    phrase_specs: list[tuple[Rule, list[str]]] = []
    for family, section in data.items():
        if family == "intensifiers":
            continue
        for intensity in INTENSITIES:
            for word in section.get(intensity, []):
                entry = FeelingEntry(family, intensity, word, False, word in needs_context)
                if " " in word:
                    phrase_specs.append(_phrase_rule(word, entry))
                else:
                    words.setdefault(word, entry)
        for phrase in section.get("phrases", []):
            entry = FeelingEntry(family, "mid", phrase, False, False)
            phrase_specs.append(_phrase_rule(phrase, entry))
        for word, says_as in section.get("related", {}).items():
            situational = says_as.endswith(("ing", "ful", "fair", "ous")) or says_as in ("unfair", "annoying")
            entry = FeelingEntry(family, "mid", says_as, situational, False)
            words.setdefault(word, entry)
    return words, phrase_specs


def _phrase_rule(phrase: str, entry: FeelingEntry) -> tuple[Rule, list[str]]:
    extra = {
        "table": FEELING_TABLE,
        "lane": FEELING_TABLE,
        "family": entry.family,
        "intensity": entry.intensity,
        "says_as": entry.says_as,
    }
    return Rule(f"feeling:{phrase}", entry.family, 1.0, phrase, extra), [
        re.escape(phrase).replace("\\ ", " ")
    ]


def _feeling_macro(lexicon: Mapping[str, FeelingEntry]) -> str:
    adjectives = sorted(
        (w for w, e in lexicon.items() if not e.situational and e.says_as == w and w.isalpha()),
        key=len,
        reverse=True,
    )
    return "(" + "|".join(adjectives) + ")"


def _phrases_rx(phrases: list[str]) -> re.Pattern[str]:
    """Compile plain phrases into one regex, longest first."""
    ordered = sorted({p.strip() for p in phrases if p.strip()}, key=len, reverse=True)
    return re.compile("|".join(re.escape(p) for p in ordered))


def _by_first_word(phrases: list[str]) -> dict[str, tuple[str, ...]]:
    grouped: dict[str, list[str]] = {}
    for phrase in phrases:
        grouped.setdefault(phrase.split()[0], []).append(phrase)
    return {word: tuple(items) for word, items in grouped.items()}


@cache
def tables() -> Tables:
    """Load every data file and compile it; cached, so the work happens once per process."""
    feelings_data = load_toml("feelings")
    lexicon, feeling_specs = _lexicon(feelings_data)
    macro_table = dict(macros())
    macro_table["feeling"] = _feeling_macro(lexicon)

    roadblock_data = load_toml("roadblocks")
    roadblock_sections = {k: v for k, v in roadblock_data.items() if k != "imperatives"}
    crisis_data = load_toml("crisis")
    context_data = load_toml("context")
    context_patterns = {k: v for k, v in context_data.items() if isinstance(v, dict) and "patterns" in v}

    crisis_specs = _specs(crisis_data, CRISIS_TABLE, macro_table)
    main_specs = (
        _specs(roadblock_sections, ROADBLOCK_TABLE, macro_table)
        + _specs(load_toml("moves"), MOVE_TABLE, macro_table)
        + _specs(context_patterns, CONTEXT_TABLE, macro_table)
        + feeling_specs
    )
    imperative = roadblock_data["imperatives"]
    info = {
        code: RoadblockInfo(
            reason=str(section.get("reason", "")),
            try_instead=str(section.get("try_instead", 'Try: "{reflection}"')),
            negatable=bool(section.get("negatable", False)),
        )
        for code, section in roadblock_sections.items()
        if code != NOT_A_ROADBLOCK
    }
    intens = feelings_data.get("intensifiers", {})
    return Tables(
        main=RuleSet(main_specs),
        crisis=RuleSet(crisis_specs),
        roadblock_info=info,
        imperatives=Imperatives(
            directing=frozenset(imperative["directing"]),
            advice=frozenset(imperative["advice_unasked"]),
            fillers=frozenset(imperative["fillers"]),
            exceptions=_by_first_word(imperative["exceptions"]),
            directing_weight=float(imperative["directing_weight"]),
            advice_weight=float(imperative["advice_weight"]),
        ),
        lexicon=lexicon,
        intensifiers=frozenset(intens.get("words", [])),
        softeners=frozenset(intens.get("softeners", [])),
        feeling_negations=frozenset(intens.get("negations", [])),
        reported_words=frozenset(context_data["reported_speech"]["words"]),
        reported_rx=_phrases_rx(context_data["reported_speech"]["phrases"]),
        reflecting_rx=_phrases_rx(context_data["reflecting_back"]["phrases"]),
        negation_words=frozenset(context_data["negation"]["words"]),
        negation_rx=_phrases_rx(context_data["negation"]["phrases"]),
        reflect=load_toml("reflect"),
    )


__all__ = ["Tables", "tables"]
