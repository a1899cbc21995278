"""Writing reflective paraphrases of a post: feeling, content, double-sided and crisis-support styles.

The poster's own feeling word is reused when they gave one; otherwise the kind of event suggests a
feeling (loss -> sad, unfairness -> frustrated, ...) which is offered tentatively. Content paraphrases
take the most telling clause of the post, flip its pronouns to second person and trim it short.
Nothing from a clause with method details, slurs, mentions, links or code is ever repeated.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from bot.listening.engine import feeling_phrase, read_crisis, scan
from bot.listening.feelings import FAMILY_WORDS_BY_INTENSITY, FeelingWord, find_feeling_words, summarize
from bot.listening.learn import features, models
from bot.listening.tables import tables
from bot.listening.types import Crisis, Feeling, Reflection, Suggestion

_CLAUSE_RX = re.compile(r"[^.!?\n;:]+")
_PAIR_RX = re.compile(r"\bmy (?:[a-z]+ )?[a-z]+ and (?:i|me)\b|\b(?:me|i) and my\b")
_SUB_CLAUSE_RX = re.compile(r",| but | and then | because | cause | cuz | bc | when | while | plus | and ")
_TOKEN_RX = re.compile(r"[a-z0-9][a-z0-9'-]*")
_MAX_WORDS = 14
_MIN_WORDS = 3
_POSITIVE = frozenset({"joyful", "powerful", "peaceful"})
_NEGATIVE = frozenset({"sad", "scared", "depleted", "mad"})
_INTENSITY_INDEX = {"low": 0, "mid": 1, "high": 2}
_INTENSITIES = ("low", "mid", "high")
_FAMILIES = ("sad", "scared", "depleted", "mad", "joyful", "powerful", "peaceful")
_LEARNED_WEIGHT = 1.8  # how much the learned family scorer adds next to the poster's own words
_INTENSITY_NAMES = ("low", "mid", "high")
_AUXILIARY_STARTS = {
    "been": "you've",
    "feeling": "you're",
    "being": "you're",
    "so": "you're",
    "too": "you're",
    "always": "you're always",
    "getting": "you're",
    "going": "you're",
    "trying": "you're",
    "having": "you're",
    "not": "you're",
}
_QUESTION_STARTS = frozenset(
    {"are", "were", "do", "did", "have", "had", "can", "could", "will", "would", "should"}
)
_NUMBER_WORDS = frozenset(
    {"two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twelve", "a", "an"}
)
_VERBS_AFTER_SUBJECT = frozenset(
    {
        "is",
        "was",
        "are",
        "were",
        "has",
        "have",
        "had",
        "does",
        "doesn't",
        "doesnt",
        "did",
        "didn't",
        "didnt",
        "isn't",
        "isnt",
        "wasn't",
        "wasnt",
        "can",
        "can't",
        "cant",
        "will",
        "won't",
        "wont",
        "would",
        "keeps",
        "feels",
        "seems",
        "makes",
        "made",
        "gets",
        "got",
        "says",
        "said",
        "went",
        "goes",
        "came",
        "comes",
    }
)
_SOFT_ADVERBS = frozenset(
    {"also", "still", "really", "kinda", "just", "pretty", "lowkey", "totally", "completely"}
)
_PREPOSITIONS = frozenset(
    {"on", "in", "at", "with", "stuck", "back", "still", "up", "out", "off", "home", "alone"}
)
_OBJECT_STARTS = frozenset(
    {"my", "your", "the", "a", "an", "him", "her", "them", "it", "this", "that", "me", "you"}
)
_LOOSE_ENDS = frozenset(
    {
        "and",
        "but",
        "or",
        "so",
        "because",
        "cause",
        "the",
        "a",
        "an",
        "to",
        "of",
        "with",
        "for",
        "in",
        "on",
        "at",
        "my",
        "your",
        "that",
        "this",
        "is",
        "was",
        "are",
        "were",
        "it",
        "like",
        "just",
        "about",
        "if",
        "when",
        "then",
        "than",
        "as",
        "from",
        "into",
        "by",
        "you're",
        "you've",
        "gonna",
        "really",
        "even",
        "no",
        "not",
        "don't",
        "can't",
        "i",
        "we",
        "he",
        "she",
        "they",
        "their",
        "his",
        "our",
        "it's",
        "its",
        "i'm",
        "they're",
        "we're",
        "he's",
        "she's",
        "that's",
        "there's",
        "you'll",
        "won't",
        "didn't",
        "didnt",
        "dont",
        "cant",
        "wont",
        "isn't",
        "wasn't",
        "have",
        "has",
        "had",
        "be",
        "been",
        "being",
        "will",
        "would",
        "could",
        "did",
        "do",
        "does",
        "what",
        "who",
        "which",
        "where",
        "how",
        "new",
        "every",
        "some",
        "any",
        "who's",
    }
)


@dataclass(frozen=True, slots=True)
class _Pieces:
    feeling_words: tuple[FeelingWord, ...]
    feelings: tuple[Feeling, ...]
    crisis: Crisis
    clause: str | None
    inferred: tuple[str, str, str] | None  # (family, word, intensity)
    family: str | None = None


def build_reflection(post: str, *, variant: int = 0) -> Reflection:
    """Return two or three reflective suggestions and one open question for ``post``."""
    if not isinstance(post, str):
        raise TypeError("reflect() expects the post text as a string")
    pieces = _read(post)
    stems: Mapping[str, Sequence[str]] = tables().reflect["stems"]
    suggestions: list[Suggestion] = []
    main = _main_feeling(pieces)
    if pieces.crisis.level != "none":
        support = f"{_pick(stems['crisis_support'], variant)} {_pick(stems['crisis_door'], variant)}"
        suggestions.append(Suggestion(support, "crisis_support"))
        if main is not None and not main[3]:
            # Name their feeling without agreeing with it ("makes sense" could confirm hopelessness).
            suggestions.append(Suggestion(_feeling_sentence(main, pieces, 0), "feeling"))
        else:  # never guess a mild feeling for someone in this much pain
            suggestions.append(
                Suggestion(_pick(stems["situation_named"], variant).format(feeling="heavy"), "feeling")
            )
        return Reflection(
            suggestions=tuple(suggestions[:3]),
            question=_question("crisis", variant),
            feelings=_reported_feelings(pieces),
            crisis=pieces.crisis,
        )
    if main is not None:
        suggestions.append(Suggestion(_feeling_sentence(main, pieces, variant), "feeling"))
    if pieces.clause is not None:
        suggestions.append(Suggestion(_content_sentence(pieces.clause, main, variant), "content"))
    mixed = _mixed(pieces)
    if mixed is not None:
        positive, negative = mixed
        template = _pick(stems["double_sided"], variant)
        suggestions.append(Suggestion(template.format(positive=positive, negative=negative), "double_sided"))
    if len(suggestions) < 2:
        fallback = _pick(stems["situation_named"], variant).format(feeling="hard")
        if main is None:
            suggestions.insert(0, Suggestion(fallback, "feeling"))
        if len(suggestions) < 2:
            suggestions.append(Suggestion("It sounds like a lot has been going on for you.", "content"))
    family = main[0] if main is not None else "none"
    return Reflection(
        suggestions=tuple(suggestions[:3]),
        question=_question(family, variant),
        feelings=_reported_feelings(pieces),
        crisis=pieces.crisis,
    )


def _pick(options: Sequence[str], variant: int) -> str:
    return options[variant % len(options)]


def _question(family: str, variant: int) -> str:
    questions = tables().reflect["questions"]
    return _pick(questions.get(family, questions["none"]), variant)


def _read(post: str) -> _Pieces:
    table = tables()
    result = scan(post)
    words = tuple(find_feeling_words(result.view, result.hits, table))
    crisis = read_crisis(result)
    family, inferred = _weigh_families(result.view, words)
    ordered = summarize(words)
    if family is not None:
        ordered = tuple(sorted(ordered, key=lambda f: f.family != family))
    return _Pieces(
        feeling_words=words,
        feelings=ordered,
        crisis=crisis,
        clause=None if crisis.level != "none" else _salient_clause(result.view, words),
        inferred=inferred if family is not None and not any(w.family == family for w in words) else None,
        family=family,
    )


def _weigh_families(
    view: str, words: Sequence[FeelingWord]
) -> tuple[str | None, tuple[str, str, str] | None]:
    """Return the post's main feeling family (the poster's own words count most, recent ones more) and,
    when it rests on the kind of event only, the inferred ``(family, word, intensity)``."""
    last_sentence_start = max(view.rfind(". "), view.rfind("! "), view.rfind("? "), view.rfind("\n"))
    scores: dict[str, float] = {}
    for word in words:
        weight = 2.0 + _INTENSITY_INDEX[word.intensity] * 0.5
        if word.start > last_sentence_start >= 0:
            weight *= 1.3
        scores[word.family] = scores.get(word.family, 0.0) + weight
    intensity = _intensity_of(view)
    inferred_words: dict[str, str] = {}
    inferred_levels: dict[str, int] = {}
    for rule in tables().reflect["appraisal"]:
        count = sum(1 for cue in rule["cues"] if _has_phrase(view, cue))
        if count:
            family = str(rule["family"])
            scores[family] = scores.get(family, 0.0) + min(count, 3) * 1.2
            level = _INTENSITY_INDEX[intensity]
            if any(_has_phrase(view, cue) for cue in rule.get("strong_cues", ())):
                level = max(level, 1)  # a death or a betrayal is never "a bit down"
            inferred_words.setdefault(family, str(rule["words"][level]))
            inferred_levels.setdefault(family, level)
    scorer = models()
    feats = features(view)
    for family_name in _FAMILIES:
        model = scorer.get(f"family:{family_name}")
        if model is not None and len(_TOKEN_RX.findall(view)) >= 3:
            probability = model.score(feats)
            if probability > 0.5:
                scores[family_name] = scores.get(family_name, 0.0) + _LEARNED_WEIGHT * (probability - 0.5) * 2
    if not scores or max(scores.values()) < 1.0:
        return None, None
    family = max(scores, key=lambda f: (scores[f], f in _NEGATIVE))
    if family not in inferred_words:
        inferred_words[family] = FAMILY_WORDS_BY_INTENSITY[family][_INTENSITY_INDEX[intensity]]
    if family in inferred_levels:
        intensity = _INTENSITIES[max(_INTENSITY_INDEX[intensity], inferred_levels[family])]
    inferred = (family, inferred_words[family], intensity) if family in inferred_words else None
    return family, inferred


def _main_feeling(pieces: _Pieces) -> tuple[str, str, bool, bool] | None:
    """Return ``(family, phrase, situational, inferred)`` for the feeling a reflection should name."""
    if pieces.family is None:
        return None
    own = [w for w in pieces.feeling_words if w.family == pieces.family]
    if own:
        strongest = max(own, key=lambda w: (_INTENSITY_INDEX[w.intensity], w.start))
        phrase, situational = feeling_phrase(strongest)
        return pieces.family, phrase, situational, False
    if pieces.inferred is not None:
        family, word, _ = pieces.inferred
        return family, word, False, True
    return None


def _feeling_sentence(main: tuple[str, str, bool, bool], pieces: _Pieces, variant: int) -> str:
    _family, phrase, situational, inferred = main
    stems = tables().reflect["stems"]
    if inferred:
        return _pick(stems["feeling_inferred"], variant).format(feeling=phrase)
    if situational:
        return _pick(stems["situation_named"], variant).format(feeling=phrase)
    return _pick(stems["feeling_named"], variant).format(feeling=phrase)


def _content_sentence(clause: str, main: tuple[str, str, bool, bool] | None, variant: int) -> str:
    stems = tables().reflect["stems"]
    if main is not None and not main[2] and variant % 2 == 1:
        template = _pick(stems["content_feeling"][:3], variant // 2)
        text = template.format(content=clause, Content=clause[:1].upper() + clause[1:], feeling=main[1])
    else:
        text = _pick(stems["content"], variant).format(content=clause)
    return text[:1].upper() + text[1:]


def _mixed(pieces: _Pieces) -> tuple[str, str] | None:
    positive = [w for w in pieces.feeling_words if w.family in _POSITIVE and not w.situational]
    negative = [w for w in pieces.feeling_words if w.family in _NEGATIVE and not w.situational]
    if not positive or not negative:
        return None
    return feeling_phrase(positive[0])[0], feeling_phrase(negative[0])[0]


def _reported_feelings(pieces: _Pieces) -> tuple[Feeling, ...]:
    if pieces.inferred is not None:
        family, word, intensity = pieces.inferred
        guessed = Feeling(family=family, words=(word,), intensity=intensity)  # type: ignore[arg-type]
        return (guessed, *(f for f in pieces.feelings if f.family != family))
    return pieces.feelings


def _has_phrase(view: str, phrase: str) -> bool:
    index = view.find(phrase)
    while index != -1:
        before = view[index - 1] if index > 0 else " "
        after_index = index + len(phrase)
        after = view[after_index] if after_index < len(view) else " "
        # An apostrophe continues a word: "won" is not in "won't".
        if (not phrase[0].isalnum() or not (before.isalnum() or before == "'")) and (
            not (after.isalnum() or after == "'") or not phrase[-1].isalnum()
        ):
            return True
        index = view.find(phrase, index + 1)
    return False


def _intensity_of(view: str) -> str:
    table = tables()
    words = _TOKEN_RX.findall(view)
    strong = sum(1 for w in words if w in table.intensifiers) + view.count("!!") + view.count("so so")
    if strong >= 2 or "can't take" in view or "cant take" in view:
        return "high"
    if strong == 0 and len(words) < 12:
        return "low"
    return "mid"


def _salient_clause(view: str, words: Sequence[FeelingWord]) -> str | None:
    """Pick the most telling clause of the post and return it flipped to second person."""
    table = tables()
    forbidden = frozenset(w for w in table.reflect["forbidden"]["words"] if " " not in w)
    forbidden_phrases = tuple(w for w in table.reflect["forbidden"]["words"] if " " in w)
    feeling_starts = {w.start for w in words}
    best: tuple[float, str] | None = None
    for match in _CLAUSE_RX.finditer(view):
        text = match.group()
        for part_match in _sub_clauses(text):
            part = part_match.strip()
            tokens = _TOKEN_RX.findall(part)
            joined = " ".join(tokens)
            if len(tokens) < _MIN_WORDS or any(t in forbidden for t in tokens):
                continue
            if any(phrase in joined for phrase in forbidden_phrases):
                continue
            if "?" in view[match.end() : match.end() + 1]:
                continue
            score = 0.0
            offset = match.start() + text.find(part)
            if any(offset <= s < offset + len(part) for s in feeling_starts):
                score += 2.0
            if any(t in ("i", "i'm", "im", "my", "me", "i've", "ive", "myself", "we") for t in tokens):
                score += 1.5
            if any(t in ("you", "u", "your", "ur") for t in tokens):
                score -= 1.5
            score += 1.0 if 4 <= len(tokens) <= _MAX_WORDS else -1.0
            if '"' in part or "'" + " " in part:
                score -= 1.0
            score -= 0.02 * match.start() / 10
            if best is None or score > best[0]:
                best = (score, part)
    if best is None:
        return None
    return _paraphrase(best[1])


def _sub_clauses(text: str) -> list[str]:
    # "my mom and i ..." / "me and my sister ..." is one subject, not two clauses.
    protected = _PAIR_RX.sub(lambda m: m.group().replace(" and ", "\x00"), text)
    parts = [part.replace("\x00", " and ") for part in _SUB_CLAUSE_RX.split(protected)]
    return [text, *parts] if len(parts) > 1 else [text]


def flip_pronouns(text: str) -> str:
    """Turn first-person words into second person: "my mom and i" -> "you and your mom", "im" -> "you're"."""
    pairs = _pronoun_pairs()
    tokens = _TOKEN_RX.findall(text)
    out: list[str] = []
    index = 0
    while index < len(tokens):
        for source_tokens, target in pairs.get(tokens[index], ()):
            if tokens[index : index + len(source_tokens)] == source_tokens:
                out.append(target)
                index += len(source_tokens)
                break
        else:
            out.append(tokens[index])
            index += 1
    return " ".join(out)


@cache
def _pronoun_pairs() -> dict[str, tuple[tuple[list[str], str], ...]]:
    """Return the pronoun table indexed by its first word, longest phrases first (built once)."""
    grouped: dict[str, list[tuple[list[str], str]]] = {}
    for source, target in tables().reflect["pronouns"]["pairs"]:
        words = str(source).split()
        grouped.setdefault(words[0], []).append((words, str(target)))
    return {
        word: tuple(sorted(entries, key=lambda entry: -len(entry[0]))) for word, entries in grouped.items()
    }


def _is_adjective(word: str) -> bool:
    """Return True if ``word`` is a feeling adjective from the lexicon (not a noun like "relief")."""
    entry = tables().lexicon.get(word)
    return entry is not None and entry.says_as == word


def _paraphrase(clause: str) -> str | None:
    table = tables()
    drop = frozenset(table.reflect["pronouns"]["drop"])
    raw = _TOKEN_RX.findall(clause)
    tokens = [
        t
        for i, t in enumerate(raw)
        if t not in drop or (t == "so" and raw[i + 1 : i + 2] in (["much"], ["many"], ["long"], ["far"]))
    ][: _MAX_WORDS * 3]
    if len(tokens) < _MIN_WORDS:
        return None
    flipped = flip_pronouns(" ".join(tokens)).split()
    subjects = frozenset(table.reflect["pronouns"]["subjects"])
    if len(flipped) > 2 and flipped[0] in _QUESTION_STARTS and flipped[1] == "you":
        # "am i the only one who..." -> "you're wondering if you are the only one who..."
        flipped = ["you're", "wondering", "if", "you", flipped[0], *flipped[2:]]
    if flipped and (flipped[0].isdigit() or flipped[0] in _NUMBER_WORDS):
        flipped = ["you've", "had", *flipped]
    has_own_subject = len(flipped) > 1 and flipped[1] in _VERBS_AFTER_SUBJECT
    if flipped and flipped[0] not in subjects and "you" not in flipped[1:3] and not has_own_subject:
        first = flipped[0]
        following = flipped[1] if len(flipped) > 1 else ""
        if first in _AUXILIARY_STARTS:
            flipped.insert(0, _AUXILIARY_STARTS[first])
        elif (
            first in _PREPOSITIONS
            or (_is_adjective(first) and following not in _OBJECT_STARTS)
            or (first in _SOFT_ADVERBS and _is_adjective(following))
            or first.endswith("ing")
        ):
            flipped.insert(0, "you're")
        else:
            flipped.insert(0, "you")
    if len(flipped) > _MAX_WORDS:
        flipped = flipped[:_MAX_WORDS]
    while flipped and (
        flipped[-1] in _LOOSE_ENDS
        or (flipped[-1] == "you" and len(flipped) > 1 and flipped[-2] in _LOOSE_ENDS)
    ):
        flipped.pop()
    if len(flipped) < _MIN_WORDS:
        return None
    text = " ".join(flipped)
    return text.replace(" i ", " you ")


def crisis_of(post: str) -> Crisis:
    """Return the crisis reading of a post (the same reading ``reflect`` uses)."""
    return read_crisis(scan(post))
