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
from typing import Any

from bot.listening.engine import feeling_phrase, read_crisis, scan
from bot.listening.feelings import FAMILY_WORDS_BY_INTENSITY, FeelingWord, find_feeling_words, summarize
from bot.listening.learn import features, models
from bot.listening.tables import tables
from bot.listening.types import Crisis, Feeling, Reflection, Suggestion

# Quoted speech ('she said "you'll find someone better"') and "> " quote lines.
_QUOTE_RX = re.compile(r'"[^"\n]*"')
_QUOTED_MIN_WORDS = 3  # shorter quotes are usually the poster's own scare quotes: got banned for "spam"
_QUOTE_LINE_RX = re.compile(r"(?m)^ *>[^\n]*")
_DIGITS_RX = re.compile(r"[0-9]+")
_CUE_WORD_RX = re.compile(r"[a-z0-9#']+")
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
_LEARNED_MARGIN = 0.1  # the learned family counts only when it leads the next one by this much
_LEARNED_WEIGHT = 1.8  # how much the learned family scorer adds where the patterns found little
_LEARNED_WEIGHT_BESIDE_PATTERNS = 0.9  # ...and half as much beside their finding
_INTENSITY_NAMES = ("low", "mid", "high")
_CUE_WEIGHT = 1.2  # what one event cue adds to its family (at most three count)
_CUE_WEIGHT_NEXT_TO_WORDS = 1.0
_MAX_CUES = 3  # at most this many event cues count for one family
_FUZZY_MIN_LENGTH = 6  # only long lexicon words are matched through a typo ("anxous" -> "anxious")
_EMPHASIS_WINDOW = 28  # characters looked at around a feeling word for "mostly", "but", "he looked"
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
    words = _own_feeling_words(result.view, find_feeling_words(result.view, result.hits, table))
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
    cue_view = _own_words_view(view)
    own_view = cue_view.text
    scores: dict[str, float] = {}
    for word in words:
        weight = 2.0 + _INTENSITY_INDEX[word.intensity] * 0.5
        if word.start > last_sentence_start >= 0:
            weight *= 1.3
        weight *= _emphasis(view, own_view, word)
        scores[word.family] = scores.get(word.family, 0.0) + weight
    intensity = _intensity_of(view)
    inferred_words: dict[str, str] = {}
    inferred_levels: dict[str, int] = {}
    # The kind of event counts less when the poster named a feeling themselves.
    cue_weight = _CUE_WEIGHT_NEXT_TO_WORDS if any(not w.situational for w in words) else _CUE_WEIGHT
    # Each cue counts once per family even when two rules list it; at most three count per family.
    rules = tables().reflect["appraisal"]
    matched_by_rule: dict[int, set[str]] = {}
    for rule_index, cue, strong in _candidate_cues(cue_view):
        if _has_cue(cue_view, cue):
            matched_by_rule.setdefault(rule_index, set()).add(f"strong:{cue}" if strong else cue)
    cues_seen: dict[str, set[str]] = {}
    best_rule: dict[str, tuple[int, Mapping[str, Any], bool]] = {}
    for rule_index, matched in sorted(matched_by_rule.items()):
        rule = rules[rule_index]
        family = str(rule["family"])
        cues_seen.setdefault(family, set()).update(matched)
        has_strong = any(cue.startswith("strong:") for cue in matched)
        if family not in best_rule or len(matched) > best_rule[family][0]:
            best_rule[family] = (len(matched), rule, has_strong)
    for family, seen in cues_seen.items():
        scores[family] = scores.get(family, 0.0) + min(len(seen), _MAX_CUES) * cue_weight
    for family, (_size, rule, has_strong) in best_rule.items():
        level = _INTENSITY_INDEX[intensity]
        if has_strong:
            level = max(level, 1)  # a death or a betrayal is never "a bit down"
        inferred_words[family] = str(rule["words"][level])
        inferred_levels[family] = level
    learned = _learned_family(view)
    if learned is not None:
        family_name, probability = learned
        # The learned scorer backs the patterns up: it counts fully only where they found little.
        weight = (
            _LEARNED_WEIGHT if max(scores.values(), default=0.0) < 1.0 else _LEARNED_WEIGHT_BESIDE_PATTERNS
        )
        scores[family_name] = scores.get(family_name, 0.0) + weight * (probability - 0.5) * 2
    if not scores or max(scores.values()) < 1.0:
        fallback = tables().reflect["fallback"]
        if not any(_has_cue(cue_view, cue) for cue in fallback["cues"]):
            return None, None
        # Nothing names a feeling, yet the post sounds like a struggle: offer the gentlest guess.
        scores = {str(fallback["family"]): 1.0}
        inferred_words[str(fallback["family"])] = str(fallback["word"])
        inferred_levels[str(fallback["family"])] = 0
    family = max(scores, key=lambda f: (scores[f], f in _NEGATIVE))
    if family not in inferred_words:
        inferred_words[family] = FAMILY_WORDS_BY_INTENSITY[family][_INTENSITY_INDEX[intensity]]
    if family in inferred_levels:
        intensity = _INTENSITIES[max(_INTENSITY_INDEX[intensity], inferred_levels[family])]
    inferred = (family, inferred_words[family], intensity) if family in inferred_words else None
    return family, inferred


def _own_feeling_words(view: str, found: Sequence[FeelingWord]) -> tuple[FeelingWord, ...]:
    """Return the poster's feeling words: the lexicon's finds, minus aches ("my eyes hurt"), plus
    words typed with one slip ("anxous", "scaredd", "exhuasted")."""
    reading = tables().reflect["reading"]
    body_parts = frozenset(reading["body_parts"])
    aches = frozenset(reading["aches"])
    event_words = frozenset(reading["event_words"])
    objects = frozenset(reading["objects"])
    kept: list[FeelingWord] = []
    for word in found:
        before = _TOKEN_RX.findall(view[max(0, word.start - 16) : word.start])[-1:]
        if word.word in aches and before and before[0] in body_parts:
            continue  # "my back hurts" is pain, not a feeling
        if word.word in event_words:
            after = _TOKEN_RX.findall(view[word.start + len(word.word) : word.start + len(word.word) + 16])[
                :1
            ]
            if after and (after[0] in objects or after[0][0].isdigit()):
                continue  # "i lost 4 hours of progress", "lost a patient": an event, not "feeling lost"
        kept.append(word)
    taken = {w.start for w in found}
    variants = _typo_variants()
    lexicon = tables().lexicon
    for match in _TOKEN_RX.finditer(view):
        token = match.group()
        if match.start() in taken or token in lexicon or token not in variants:
            continue
        entry = lexicon[variants[token]]
        kept.append(
            FeelingWord(
                word=token,
                says_as=entry.says_as,
                family=entry.family,
                intensity=entry.intensity,
                situational=entry.situational,
                start=match.start(),
            )
        )
    kept.sort(key=lambda w: w.start)
    return tuple(kept)


@cache
def _typo_variants() -> dict[str, str]:
    """Return one-slip spellings of the long lexicon words (a letter dropped, doubled or swapped with
    its neighbour), each mapped to the word meant; spellings that are real words are left out."""
    lexicon = tables().lexicon
    real_words = frozenset(tables().reflect["reading"]["not_typos"])
    variants: dict[str, str] = {}
    for word, entry in lexicon.items():
        if len(word) < _FUZZY_MIN_LENGTH or not word.isalpha() or entry.needs_context:
            continue
        # The first and last letters are kept: "reading" is not "dreading", "please" not "pleased".
        forms = {word[:i] + word[i + 1 :] for i in range(1, len(word) - 1)}
        forms |= {word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(1, len(word) - 2)}
        forms |= {word[:i] + word[i] + word[i:] for i in range(len(word))}
        for form in forms:
            if form != word and form not in lexicon and form not in real_words:
                variants.setdefault(form, word)
    return variants


def _emphasis(view: str, own_view: str, word: FeelingWord) -> float:
    """Return how much a feeling word counts in a mixed post: more after "but mostly" or "more",
    less before a "but", and less when it is someone else's feeling ("he looked so confused")."""
    reading = tables().reflect["reading"]
    before_text = view[max(0, word.start - _EMPHASIS_WINDOW) : word.start]
    sentence_start = max(before_text.rfind(". "), before_text.rfind("\n"), before_text.rfind("! "))
    before_text = before_text[sentence_start + 1 :]
    after_text = view[word.start + len(word.word) : word.start + len(word.word) + _EMPHASIS_WINDOW]
    after_text = re.split(r"[.!?\n]", after_text, maxsplit=1)[0]
    before = _TOKEN_RX.findall(before_text)
    after = _TOKEN_RX.findall(after_text)
    weight = 1.0
    if word.word in reading["conditions"]:
        weight *= 0.7  # a condition's name is less a feeling right now: "my social anxiety"
    if any(w in reading["dominant_before"] for w in before[-4:]):
        weight *= 1.6  # "but mostly sad", "i'm more just exhausted"
    elif any(w in reading["passing_after"] for w in after[:6]):
        weight *= 0.6  # "relieved the surgery is over but ..."
    line_before = view[: word.start].rsplit("\n", 1)[-1]
    if own_view[word.start] == " " or line_before.count('"') % 2 == 1:
        weight *= 0.3  # words in quotes are someone else's: 'he texted her "i miss you"'
    recent = before[-3:]
    if any(w in reading["someone_else"] for w in recent) and not any(
        w in reading["first_person"] for w in recent
    ):
        weight *= 0.25  # "he looked so confused" is his feeling, not the poster's
    return weight


def _learned_family(view: str) -> tuple[str, float] | None:
    """Return the learned scorer's family for a post and its probability, only when it clearly prefers
    one family: on text unlike its training posts it rates several families high at once."""
    scorer = models()
    if len(_TOKEN_RX.findall(view)) < 3:
        return None
    feats = features(view)
    rated = sorted(
        ((model.score(feats), name) for name in _FAMILIES if (model := scorer.get(f"family:{name}"))),
        reverse=True,
    )
    if not rated or rated[0][0] <= 0.5:
        return None
    runner_up = rated[1][0] if len(rated) > 1 else 0.0
    if rated[0][0] - runner_up < _LEARNED_MARGIN:
        return None
    return rated[0][1], rated[0][0]


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


@dataclass(frozen=True, slots=True)
class _CueView:
    """The poster's own words (quotes and idioms blanked), as is and with numbers read as "#", plus the
    words each contains (a cue whose first word is absent is not looked for)."""

    text: str
    numbers_as_hash: str
    words: frozenset[str]
    hashed_words: frozenset[str]


def _own_words_view(view: str) -> _CueView:
    """Return the view without quoted speech (someone else's words) or figures of speech."""
    unquoted = _QUOTE_RX.sub(_blank_long_quote, view)
    own = _QUOTE_LINE_RX.sub(lambda m: " " * len(m.group()), unquoted)
    for idiom in tables().reflect["reading"]["idioms"]:
        if idiom in own:
            own = own.replace(idiom, " " * len(idiom))
    hashed = _DIGITS_RX.sub("#", own)
    return _CueView(
        own, hashed, frozenset(_CUE_WORD_RX.findall(own)), frozenset(_CUE_WORD_RX.findall(hashed))
    )


def _blank_long_quote(match: re.Match[str]) -> str:
    """Blank a quote of a few words (someone else's words), keeping offsets; keep short scare quotes."""
    quote = match.group()
    return " " * len(quote) if len(quote.split()) >= _QUOTED_MIN_WORDS else quote


@cache
def _cue_index() -> tuple[dict[str, tuple[tuple[int, str, bool], ...]], tuple[tuple[int, str, bool], ...]]:
    """Return every event cue as ``(rule index, cue, strong)``, grouped by the cue's first word, plus the
    cues that start with no word (emoji, "!!"); built once so a post only tries cues whose word it has."""
    by_word: dict[str, list[tuple[int, str, bool]]] = {}
    wordless: list[tuple[int, str, bool]] = []
    for rule_index, rule in enumerate(tables().reflect["appraisal"]):
        entries = [(cue, False) for cue in rule["cues"]] + [
            (cue, True) for cue in rule.get("strong_cues", ())
        ]
        for cue, strong in entries:
            first = _CUE_WORD_RX.match(cue)
            if first is None:
                wordless.append((rule_index, cue, strong))
            else:
                by_word.setdefault(first.group(), []).append((rule_index, cue, strong))
    return {word: tuple(items) for word, items in by_word.items()}, tuple(wordless)


def _candidate_cues(cue_view: _CueView) -> list[tuple[int, str, bool]]:
    """Return the event cues worth looking for in a post: those whose first word is one of its words."""
    by_word, wordless = _cue_index()
    candidates = list(wordless)
    for word in cue_view.words | cue_view.hashed_words:
        candidates.extend(by_word.get(word, ()))
    return candidates


def _has_cue(cue_view: _CueView, cue: str) -> bool:
    """Return True if an event cue is in the poster's own words; "#" in a cue stands for any number."""
    hashed = "#" in cue
    first = _CUE_WORD_RX.match(cue)
    if first is not None and first.group() not in (cue_view.hashed_words if hashed else cue_view.words):
        return False  # quick check: a cue can only match where its first word is a word of the text
    return _has_phrase(cue_view.numbers_as_hash if hashed else cue_view.text, cue)


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
