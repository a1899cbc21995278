"""The listening engine: roadblocks, listening moves, crisis language and feelings in one pass.

Everything is pure Python over the compiled data tables (see ``bot/listening/data``). One call
normalises the text once, collects the words' three-letter prefixes once, and runs only the few
regexes whose leading word occurs in the text.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from bot.listening.constants import ACTION_THRESHOLD, MAX_CHARS, REPORT_THRESHOLD
from bot.listening.decide import calibrated, crisis_reading, reply_reading, strongest
from bot.listening.feelings import FAMILY_WORDS_BY_INTENSITY, FeelingWord, find_feeling_words, summarize
from bot.listening.learn import (
    Model,
    TextModel,
    feature_set,
    models,
    post_features,
    text_models,
    text_terms,
)
from bot.listening.normalize import Normalized, deleet, normalize
from bot.listening.patterns import Hit, word_prefixes
from bot.listening.tables import (
    CONTEXT_TABLE,
    FEELING_TABLE,
    MOVE_TABLE,
    NOT_A_ROADBLOCK,
    ROADBLOCK_TABLE,
    SAFE_CODE,
    URGENCY_CODE,
    RoadblockInfo,
    Tables,
    tables,
)
from bot.listening.types import (
    FLAG_CODES,
    ROADBLOCK_CODES,
    Analysis,
    Crisis,
    CrisisIndicator,
    Feeling,
    Move,
    Roadblock,
    tier_of,
)

# Blunt markers: a judgment said "tbh" or with a laugh is meant as one.
_BLUNT_RX = re.compile(
    r"\b(?:tho|though|tbh|ngl|honestly|lol|lmao|lmfao|just saying|not gonna lie|no offense"
    r"|you know that right|obviously)\b"
)
_SENTENCE_RX = re.compile(r"[^.!?\n]+[.!?\n]*")
_WORD_RX = re.compile(r"[a-z0-9][a-z0-9']*")
_CLAUSE_BREAK_RX = re.compile(r"[,;:]| but | and | so | though ")
_RELAPSE_CUE_RX = re.compile(
    r"\b(?:again|lately|recently|tonight|last night|relapsed|slipped|these days|right now|rn|still|anymore)\b"
)
_NEGATED_PLAN_RX = re.compile(
    r"\b(?:won't|wont|will not|not gonna|not going to|never|can't|cant|wouldn't)\W+$"
)
_FIRST_PERSON = frozenset(
    {"i", "i'm", "im", "my", "me", "mine", "myself", "i've", "ive", "i'd", "i'll", "we", "our"}
)
_SECOND_PERSON = frozenset({"you", "u", "your", "ur", "you're", "youre", "yours", "yourself", "urself", "ya"})
_HUMOUR_TOKENS = frozenset({"lol", "lmao", "lmfao", "haha", "hahaha", "rofl", "xd", "lolol", "hehe"})
_HUMOUR_SYMBOLS = ("😂", "🤣", "💀")
_DISTRESS_FAMILIES = frozenset({"sad", "scared", "depleted", "mad"})
_STRONG = "strong"

# Roadblock codes a reply may quote or reflect back without committing them itself.
_QUOTABLE = frozenset(
    {
        "judging_blaming",
        "labeling_shaming",
        "diagnosing",
        "hostility",
        "minimizing",
        "moralizing",
        "feeling_policing",
        "guilt_or_debate_life",
        "comparison",
        "toxic_positivity",
        "warning",
        "arguing",
    }
)
_REFLECTABLE = frozenset(
    {
        "moralizing",
        "advice_unasked",
        "directing",
        "minimizing",
        "feeling_policing",
        "warning",
        "comparison",
        "toxic_positivity",
    }
)
_ADVICE_CODES = frozenset({"advice_unasked", "directing"})
_INTENSITY_INDEX = {"low": 0, "mid": 1, "high": 2}
# Words that may sit between a negation and what it negates ("don't really think that you're...").
_NEGATION_BRIDGES = frozenset(
    {
        "think",
        "believe",
        "mean",
        "say",
        "saying",
        "feel",
        "that",
        "it's",
        "its",
        "like",
        "really",
        "actually",
        "see",
        "get",
        "guess",
        "know",
        "even",
        "at",
        "all",
        "honestly",
        "necessarily",
        "because",
        "cause",
        "make",
        "makes",
        "means",
        "you",
        "u",
        "sound",
        "seem",
        "look",
        "that's",
        "thats",
        "call",
    }
)
_CARING_MOVES = frozenset({"reflection", "validation", "feeling_acknowledgement"})
_UNADDRESSED_CODES = frozenset({"hijacking", "deflecting", "minimizing", "toxic_positivity", "comparison"})
_MOCKING_MAX_WORDS = 5  # a laughing reply this short to someone struggling reads as mocking
_MOCKING_WEIGHT = 0.66
_WARM_MOVES = _CARING_MOVES | {"affirmation"}
_EXPLAINED_SENTENCES = 80  # a learned finding is explained by one of the first this-many sentences
_MIN_SCORED_WORDS = 3  # the learned scorer says nothing about texts shorter than this
# Weak signals too ambiguous to let the scorer confirm on their own ("bye guys", "jk").
_AMBIGUOUS_ALONE = frozenset({"goodbye", "retraction"})
# A flag no pattern explains needs the flag model this sure (moderators' attention is the scarce resource).
_UNEXPLAINED_FLAG_MIN = 0.7
_UNEXPLAINED_NUDGE_MIN = 0.7  # ...and a nudge no pattern explains, the roadblock model this sure
_SCORED_REPLY_MARGIN = 0.05  # a reply (which mostly talks about the poster) needs a little more
# Words people call themselves that a reflection should not repeat back as a label.
_HARSH_SELF_LABELS = frozenset(
    {
        "stupid",
        "dumb",
        "ugly",
        "gross",
        "disgusting",
        "worthless",
        "useless",
        "pathetic",
        "awful",
        "terrible",
        "horrible",
        "crappy",
        "shitty",
        "unlovable",
        "broken",
        "inadequate",
        "not enough",
    }
)
_ADJECTIVAL_PHRASE_ENDINGS = (" out", " up", " down", " thin", " edge", " moon", " peace", " ease", " apart")


@dataclass(slots=True)
class _Memo:
    """What the decision passes derive from one scan, each computed at most once."""

    words: list[str] | None = None
    questions: tuple[bool, ...] | None = None
    by_table: dict[str, list[Hit]] | None = None
    features: AbstractSet[str] | None = None
    crisis_terms: list[str] | None = None
    scores: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Scan:
    """One text after normalisation and the single matching pass."""

    norm: Normalized
    hits: tuple[Hit, ...]
    crisis_hits: tuple[Hit, ...]
    sentences: tuple[tuple[int, int], ...]
    sentence_starts: tuple[int, ...]
    cache: _Memo = field(default_factory=_Memo, compare=False, repr=False)

    def learned_features(self) -> AbstractSet[str]:
        """Return the learned scorer's (distinct) features of the text, computed once per scan."""
        feats = self.cache.features
        if feats is None:
            feats = self.cache.features = feature_set(self.norm.text, self.words)
        return feats

    def crisis_terms(self) -> list[str]:
        """Return the crisis text model's terms of the text, computed once per scan."""
        terms = self.cache.crisis_terms
        if terms is None:
            terms = self.cache.crisis_terms = text_terms(self.norm.text)
        return terms

    @property
    def view(self) -> str:
        """The lowercase matching view of the text."""
        return self.norm.text

    @property
    def words(self) -> list[str]:
        """The words of the matching view, found once per scan (treat as read-only)."""
        words = self.cache.words
        if words is None:
            words = self.cache.words = _WORD_RX.findall(self.norm.text)
        return words

    @property
    def questions(self) -> tuple[bool, ...]:
        """For each sentence, whether it ends with a question mark (trailing whitespace aside)."""
        questions = self.cache.questions
        if questions is None:
            view = self.norm.text
            questions = self.cache.questions = tuple(
                [view[start:end].rstrip().endswith("?") for start, end in self.sentences]
            )
        return questions

    def table_hits(self, table: str) -> list[Hit]:
        """Return the hits from one data table (e.g. the moves), in scan order."""
        by_table = self.cache.by_table
        if by_table is None:
            by_table = self.cache.by_table = {}
            for hit in self.hits:
                name = hit.rule.extra.get("table", "")
                group = by_table.get(name)
                if group is None:
                    by_table[name] = [hit]
                else:
                    group.append(hit)
        return by_table.get(table, [])

    def sentence_of(self, position: int) -> tuple[int, int]:
        """Return the ``(start, end)`` of the sentence holding view offset ``position``."""
        index = bisect_right(self.sentence_starts, position) - 1
        if index >= 0:
            start, end = self.sentences[index]
            if start <= position < end:
                return (start, end)
        return (0, len(self.norm.text))

    def codes(self, table: str) -> set[str]:
        """Return the codes of every hit from ``table``."""
        return {hit.rule.code for hit in self.table_hits(table)}


@dataclass(frozen=True, slots=True)
class PostContext:
    """What the post a reply answers tells us about how to read the reply."""

    asks_for_advice: bool
    humour: bool
    self_critical: bool
    crisis: bool
    feeling_words: tuple[FeelingWord, ...]
    view: str
    scorer_features: frozenset[str]


@dataclass(slots=True)
class _Candidate:
    code: str
    weight: float
    start: int
    end: int
    instead_of: tuple[str, ...] = ()
    crisis_only: bool = False
    needs_distress: bool = False


def scan(text: str) -> Scan:
    """Normalise ``text`` and run the single matching pass over it."""
    table = tables()
    norm = normalize(text[:MAX_CHARS])
    view = norm.text
    prefixes = word_prefixes(view)
    hits = tuple(table.main.find(view, prefixes))
    deleeted = deleet(view)
    crisis_view = deleeted.replace('"', " ") if '"' in deleeted else deleeted
    # A quote is not part of a word, so blanking quotes leaves the words (and their offsets) as they were.
    crisis_prefixes = prefixes if deleeted is view else word_prefixes(crisis_view)
    crisis_hits = tuple(table.crisis.find(crisis_view, crisis_prefixes))
    sentences = tuple(m.span() for m in _SENTENCE_RX.finditer(view))
    return Scan(
        norm=norm,
        hits=hits,
        crisis_hits=crisis_hits,
        sentences=sentences,
        sentence_starts=tuple(start for start, _ in sentences),
    )


# --------------------------------------------------------------------------------------------------
# Crisis


def _overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


def read_crisis(result: Scan, *, reply: bool = False) -> Crisis:
    """Return the patterns' crisis level and indicators of a scanned text (``_decided_crisis`` has the
    final say). In a ``reply`` bare concept words and "right now" count less: they are mostly care."""
    indicator_hits: list[Hit] = []
    safe_hits: list[Hit] = []
    urgency_hits: list[Hit] = []
    for hit in result.crisis_hits:
        code = hit.rule.code
        if code == SAFE_CODE:
            safe_hits.append(hit)
        elif code == URGENCY_CODE:
            urgency_hits.append(hit)
        else:
            indicator_hits.append(hit)
    if not indicator_hits and not any(h.rule.extra.get("urgent") for h in urgency_hits):
        return Crisis()
    kept = [hit for hit in indicator_hits if not _is_safe(hit, safe_hits, result)]
    if reply:  # a reply's bare crisis words are mostly about the poster ("don't joke about dying")
        kept = [hit for hit in kept if not hit.rule.extra.get("concept")]
    strong = {h.rule.code for h in kept if h.rule.extra.get("strength") == _STRONG}
    weak = {h.rule.code for h in kept} - strong - {"retraction"}
    acts = [h for h in urgency_hits if h.rule.extra.get("urgent") and not _is_safe(h, safe_hits, result)]
    markers = {h.rule.extra.get("kind") for h in urgency_hits if not h.rule.extra.get("urgent")}
    # A phrased weak signal with "tonight", a plan or the means at hand is a crisis; a day or a stated
    # intention adds half a point each. A retraction after a weak disclosure ("... nvm i'm fine") adds
    # a point. Single concept words ("concept" groups) count only with a signal of another kind.
    # In a reply "tonight" and "right now" are mostly care ("are you safe right now?"): half a point there.
    marker_weight = {} if reply else {"soon": 1.0, "plan": 1.0, "means": 1.0}
    phrased = any(h.rule.code in weak and not h.rule.extra.get("concept") for h in kept)
    bonus = sum(marker_weight.get(str(kind), 0.5) for kind in markers) if phrased else 0.0
    if weak and not reply and "retraction" in {h.rule.code for h in kept}:
        bonus += 1.0
    # Even a concept word counts with the means at hand ("the blade on my desk") or a plan, as long as
    # it is another word than the marker itself ("i'm at the bridge" alone is a place, not a signal).
    held = [m for m in urgency_hits if m.rule.extra.get("kind") in ("plan", "means")]
    with_means = bool(held) and any(
        h.rule.code in weak and not any(_overlaps(h.start, h.end, m.start, m.end) for m in held) for h in kept
    )
    concern = bool(strong) or _weak_score(kept, weak) + bonus >= 2 or bool(acts) or with_means
    if not concern:
        return Crisis()
    counted = strong | weak | ({"retraction"} if "retraction" in {h.rule.code for h in kept} else set())
    level = "urgent" if acts else "concern"
    if level == "concern":
        anchors = [h for h in kept if h.rule.code != "retraction"]
        near = {
            marker.rule.extra.get("kind")
            for marker in urgency_hits
            if any(abs(marker.start - a.start) <= 160 for a in anchors)
        }
        if _urgent(near):
            level = "urgent"
    indicators = tuple(
        CrisisIndicator(indicator=h.rule.code, span=result.norm.span(h.start, h.end))
        for h in sorted(kept, key=lambda h: h.start)
        if h.rule.code in counted
    )
    return Crisis(level=level, indicators=indicators)  # type: ignore[arg-type]


def _best_sentence(
    result: Scan, model: Model | TextModel, sentences: Sequence[tuple[int, int]] | None = None
) -> tuple[int, int]:
    """Return the sentence whose words weigh most in ``model`` (the explanation of a learned finding)."""
    best = (float("-inf"), 0, len(result.view))
    terms_of = text_terms if isinstance(model, TextModel) else feature_set
    candidates = result.sentences if sentences is None else sentences
    for start, end in candidates[:_EXPLAINED_SENTENCES]:
        weight = model.contribution(terms_of(result.view[start:end]))
        if weight > best[0]:
            best = (weight, start, end)
    start, end = best[1], best[2]
    text = result.view[start:end]
    stripped_end = start + len(text.rstrip())
    return start, max(start + 1, stripped_end)


def _weak_score(kept: Sequence[Hit], weak: set[str]) -> float:
    """Score weak signals: each kind counts 1, further separate signals of a kind count 0.5.

    Hopelessness and entrapment repeated on their own ("what's the point, why bother") stay below the
    bar: venting is not a crisis unless something else joins it.
    """
    phrased = {hit.rule.code for hit in kept if not hit.rule.extra.get("concept")}
    # Concept words only add to a phrased signal: two bare words ("final", "too much") are not a crisis.
    score = float(len(weak)) if phrased & (weak | {"retraction"}) else 0.0
    spans: dict[str, list[tuple[int, int]]] = {}
    for hit in kept:
        if hit.rule.extra.get("concept"):
            continue
        if hit.rule.code in weak and hit.rule.code not in ("hopelessness", "entrapment"):
            seen = spans.setdefault(hit.rule.code, [])
            if not any(hit.start == s or (s <= hit.start and hit.end <= e) for s, e in seen):
                if seen:
                    score += 0.5
                seen.append((hit.start, hit.end))
    return score


def _negated_plan(result: Scan, safe: Hit) -> bool:
    """Return True if a guard that says when the writer will be back is negated ("won't see you...")."""
    return _NEGATED_PLAN_RX.search(result.view, max(0, safe.start - 16), safe.start) is not None


def _urgent(kinds: AbstractSet[object]) -> bool:
    """Return True if urgency markers make a crisis urgent: a plan, the means at hand, an act in progress or
    "tonight" on their own; a day ("tomorrow") only with a stated intention."""
    return bool(kinds & {"plan", "means", "act", "soon"}) or {"time", "intent"} <= kinds


def _is_safe(hit: Hit, safe_hits: Sequence[Hit], result: Scan) -> bool:
    # "no seriously", "not joking": the writer says they mean it, so joke and idiom guards do not hold.
    serious = any(safe.rule.extra.get("kind") == "serious" for safe in safe_hits)
    for safe in safe_hits:
        kind = safe.rule.extra.get("kind")
        if kind == "serious" or (serious and kind == "idiom"):
            continue
        if kind == "returning" and _negated_plan(result, safe):
            continue  # "i won't see you tomorrow" is a goodbye, not a plan
        scope = safe.rule.extra.get("scope", "overlap")
        if scope == "text":
            listed = safe.rule.extra.get("indicators", ())
            if hit.rule.code in listed and _RELAPSE_CUE_RX.search(result.view) is None:
                return True
            continue
        if scope == "sentence":
            listed = safe.rule.extra.get("indicators", ())
            if hit.rule.code not in listed:
                continue
            sentence = result.sentence_of(hit.start)
            if not sentence[0] <= safe.start < sentence[1]:
                continue
            text = result.view[sentence[0] : sentence[1]]
            if safe.rule.extra.get("kind") == "recovered" and _RELAPSE_CUE_RX.search(text):
                continue
            if (
                kind == "recovered"
                and _overlaps(hit.start, hit.end, safe.start, safe.end)
                and hit.end > safe.end
            ):
                continue  # the signal reads on past the history: "3 months clean down the drain"
            return True
        if _overlaps(hit.start, hit.end, safe.start, safe.end):
            return True
    return False


# --------------------------------------------------------------------------------------------------
# Moves


def read_moves(result: Scan, blocked: Sequence[tuple[int, int]] = ()) -> tuple[Move, ...]:
    """Return the listening moves in a scanned text (``blocked`` spans are roadblocks, not moves)."""
    view = result.view
    found: list[tuple[int, int, str]] = []
    for hit in result.table_hits(MOVE_TABLE):
        code = hit.rule.code
        if blocked and any(_overlaps(hit.start, hit.end, s, e) for s, e in blocked):
            continue
        if code == "open_question":
            sentence_start, sentence_end = result.sentence_of(hit.start)
            sentence = view[sentence_start:sentence_end].rstrip()
            if not sentence.endswith("?") and "tell" not in view[hit.start : hit.end]:
                continue
        elif code == "self_disclosure_brief" and not _hands_back(result, hit.end):
            continue
        found.append((hit.start, hit.end, code))
    found.sort()
    moves: list[Move] = []
    last_end: dict[str, int] = {}
    for start, end, code in found:
        if last_end.get(code, -1) > start:
            continue
        last_end[code] = end
        moves.append(Move(move=code, span=result.norm.span(start, end)))
    return tuple(moves)


def _hands_back(result: Scan, after: int) -> bool:
    """Return True if, after a personal share, the reply turns back to the other person."""
    rest = result.view[after:]
    if len(result.view) > 600:
        return False
    if "how are you" in rest:
        return True
    words = _WORD_RX.findall(rest)
    return ("?" in rest and not _SECOND_PERSON.isdisjoint(words)) or "hbu" in words


# --------------------------------------------------------------------------------------------------
# Roadblocks


def post_context(post: str | None, *, learned: bool = True) -> PostContext | None:
    """Return what a reply's post tells the engine (advice asked for, humour, crisis, feelings).

    ``learned=False`` reads the post's crisis from the patterns alone (used when training the models).
    """
    if not post or not post.strip():
        return None
    result = scan(post)
    table = tables()
    context_codes = result.codes(CONTEXT_TABLE)
    humour = "humour" in context_codes or any(s in post for s in _HUMOUR_SYMBOLS)
    # The post's own analysis (analyze_post) reads it in full; as a reply's context, a signal suffices.
    post_crisis = _decided_crisis(result, reply=False, words_alone=False) if learned else read_crisis(result)
    crisis = post_crisis.level != "none"
    words = tuple(find_feeling_words(result.view, result.table_hits(FEELING_TABLE), table, result.words))
    return PostContext(
        asks_for_advice="asks_for_advice" in context_codes,
        humour=humour,
        self_critical="self_criticism" in context_codes,
        crisis=crisis,
        feeling_words=words,
        view=result.view,
        scorer_features=post_features(result.view),
    )


def _candidates(result: Scan, table: Tables) -> tuple[list[_Candidate], list[tuple[int, int]]]:
    candidates: list[_Candidate] = []
    cancels: list[tuple[int, int]] = []
    for hit in result.table_hits(ROADBLOCK_TABLE):
        rule = hit.rule
        if rule.code == NOT_A_ROADBLOCK:
            cancels.append((hit.start, hit.end))
            continue
        extra = rule.extra
        candidates.append(
            _Candidate(
                rule.code,
                rule.weight,
                hit.start,
                hit.end,
                tuple(extra.get("instead_of", ())),
                bool(extra.get("crisis_only", False)),
                bool(extra.get("needs_distress", False)),
            )
        )
    _imperatives(result, table, candidates)
    return candidates, cancels


def _imperatives(result: Scan, table: Tables, candidates: list[_Candidate]) -> None:
    """Add sentences that start with a command verb ("Just delete the app.") to ``candidates``."""
    rules = table.imperatives
    view = result.view
    search = _WORD_RX.search
    for (start, end), question in zip(result.sentences, result.questions, strict=True):
        if question:
            continue
        match = search(view, start, end)
        while match is not None and match.group() in rules.fillers:
            match = search(view, match.end(), end)
        if match is None:
            continue
        word = match.group()
        position = match.start()
        exceptions = rules.exceptions.get(word)
        if exceptions and view.startswith(exceptions, position):
            continue
        if word in rules.directing:
            candidates.append(_Candidate("directing", rules.directing_weight, position, position + len(word)))
        elif word in rules.advice:
            candidates.append(
                _Candidate("advice_unasked", rules.advice_weight, position, position + len(word))
            )


def _window_before(view: str, sentence_start: int, position: int, width: int) -> str:
    return view[max(sentence_start, position - width) : position]


def _clause_before(view: str, sentence_start: int, position: int, width: int) -> str:
    window = _window_before(view, sentence_start, position, width)
    parts = _CLAUSE_BREAK_RX.split(window)
    return parts[-1] if parts else window


def _quoted(view: str, sentence_start: int, position: int) -> bool:
    before = view[sentence_start:position]
    if before.count('"') % 2 == 1:
        return True
    return before.rstrip().endswith(("'", '"', ">")) or before.lstrip().startswith(">")


def _reported(view: str, sentence_start: int, position: int, table: Tables) -> bool:
    window = _window_before(view, sentence_start, position, 45)
    if not table.reported_words.isdisjoint(_WORD_RX.findall(window)):
        return True
    return table.reported_rx.search(window) is not None


def _reflecting(view: str, sentence_start: int, position: int, table: Tables) -> bool:
    window = _window_before(view, sentence_start, position, 32)
    return table.reflecting_rx.search(window) is not None


def _negated(view: str, sentence_start: int, position: int, table: Tables) -> bool:
    """Return True if a negation governs the words at ``position`` ("i don't think you're lazy").

    Only a negation followed by nothing but linking words counts: in "you're not sad, you're lazy"
    the "not" belongs to "sad", not to "lazy".
    """
    clause = _clause_before(view, sentence_start, position, 30)
    words = _WORD_RX.findall(clause)
    for index in range(len(words) - 1, max(-1, len(words) - 5), -1):
        word = words[index]
        if word in table.negation_words or word.endswith("n't"):
            return all(w in _NEGATION_BRIDGES for w in words[index + 1 :])
    return table.negation_rx.search(clause) is not None


def _structural(result: Scan, move_codes: AbstractSet[str], candidates: list[_Candidate]) -> None:
    """Add roadblocks read from the reply's shape (stacked questions, long self-stories) to ``candidates``."""
    view = result.view
    caring = not move_codes.isdisjoint(_CARING_MOVES)
    questions = [span for span, question in zip(result.sentences, result.questions, strict=True) if question]
    why_questions = [
        (s, e) for s, e in questions if "why" in view[s:e] and "why" in _WORD_RX.findall(view, s, e)
    ]
    if len(why_questions) >= 2:
        candidates.append(_Candidate("interrogating", 0.84, why_questions[0][0], why_questions[-1][1]))
    elif why_questions and not caring:
        start, end = why_questions[0]
        if _WORD_RX.findall(view[start:end])[:2].count("why") or view[start:end].lstrip().startswith("why"):
            candidates.append(_Candidate("interrogating", 0.66, start, end))
    elif len(questions) >= 3 and not caring and len(view) < 600:
        candidates.append(_Candidate("interrogating", 0.66, questions[0][0], questions[-1][1]))
    words = result.words
    if len(words) >= 15:
        first = sum(map(_FIRST_PERSON.__contains__, words))
        if first < 4 or "self_disclosure_brief" in move_codes:
            return
        second = sum(map(_SECOND_PERSON.__contains__, words))
        if first >= 3 * max(second, 1):
            strong = first >= 8 and len(words) >= 25
            candidates.append(
                _Candidate("hijacking", (0.7 if strong else 0.64) if not caring else 0.55, 0, len(view))
            )


def read_roadblocks(
    result: Scan, moves: Sequence[Move], context: PostContext | None, own_crisis: bool
) -> list[tuple[str, float, int, int]]:
    """Return ``(code, confidence, start, end)`` for each roadblock code found in a scanned reply."""
    table = tables()
    view = result.view
    move_codes = {m.move for m in moves}
    candidates, cancels = _candidates(result, table)
    _structural(result, move_codes, candidates)
    if context is not None and context.self_critical:
        for hit in result.table_hits(CONTEXT_TABLE):
            if hit.rule.code == "agreement":
                candidates.append(_Candidate("hostility", 0.82, hit.start, hit.end))
    if context is not None and not context.humour and _distressed(context):
        candidates.extend(_mocking_reply(result, moves, candidates))
    if not candidates:
        return []
    permission = "permission_asking" in move_codes
    asked = context is not None and context.asks_for_advice
    humour = context is not None and context.humour
    distressed = context is None or _distressed(context)
    caring = not move_codes.isdisjoint(_CARING_MOVES)
    crisis_context = own_crisis or (context is not None and context.crisis)
    context_codes = result.codes(CONTEXT_TABLE)
    hedged = "hedges" in context_codes
    safety = "safety" in context_codes
    # A candidate is replaced by an overlapping candidate that names its code in ``instead_of``.
    replacers: dict[str, list[_Candidate]] = {}
    for candidate in candidates:
        for replaced_code in candidate.instead_of:
            replacers.setdefault(replaced_code, []).append(candidate)
    best: dict[str, tuple[float, int, int, int]] = {}
    for candidate in candidates:
        code = candidate.code
        start = candidate.start
        end = candidate.end
        if code in replacers and any(
            other is not candidate and start < other.end and other.start < end for other in replacers[code]
        ):
            continue
        # The cheap checks first; each one alone rules the candidate out.
        if (
            (candidate.crisis_only and not crisis_context)
            or (candidate.needs_distress and not distressed)  # "you deserved it" after good news is praise
            or (safety and crisis_context and (code in _ADVICE_CODES or candidate.crisis_only))
            or (code == "advice_unasked" and (asked or permission))
            or (code == "deflecting" and humour)
        ):
            continue
        if cancels and any(start < e and s < end for s, e in cancels):
            continue
        flag = code in FLAG_CODES
        if flag and (humour or caring) and _SECOND_PERSON.isdisjoint(_WORD_RX.findall(view, start, end)):
            # Joking along with a poster who is joking about their own situation, or "ew that's gross,
            # i'd be furious too": harsh words about the situation, with them.
            continue
        sentence_start, sentence_end = result.sentence_of(start)
        if (
            code == "advice_unasked"
            and candidate.weight < 0.7
            and view[sentence_start:sentence_end].rstrip().endswith("?")
        ):
            continue
        if (
            _quoted(view, sentence_start, start)
            or (code in _QUOTABLE and _reported(view, sentence_start, start, table))
            or (code in _REFLECTABLE and _reflecting(view, sentence_start, start, table))
            or (
                (info := table.roadblock_info.get(code)) is not None
                and info.negatable
                and _negated(view, sentence_start, start, table)
            )
            or (
                code == "diagnosing"
                and context is not None
                and _mentions_same_term(view, candidate, context.view)
            )
        ):
            continue
        weight = candidate.weight
        if flag and _BLUNT_RX.search(view, sentence_start, sentence_end):
            weight += 0.08
        if code in _ADVICE_CODES:
            if asked or permission:
                weight *= 0.6
            elif hedged:
                weight *= 0.9
        if code == "hijacking" and "self_disclosure_brief" in move_codes:
            weight *= 0.7
        previous = best.get(code)
        if previous is None:
            best[code] = (weight, start, end, 1)
        else:
            top, top_start, top_end, count = previous
            if weight > top:
                best[code] = (weight, start, end, count + 1)
            elif not (top_start < end and start < top_end):
                best[code] = (top, top_start, top_end, count + 1)
    found = [
        (code, min(0.97, weight + 0.04 * (count - 1)), start, end)
        for code, (weight, start, end, count) in best.items()
    ]
    found.sort(key=lambda item: item[2])
    return found


def _mocking_reply(result: Scan, moves: Sequence[Move], candidates: Sequence[_Candidate]) -> list[_Candidate]:
    """A roadblock read from a short reply's shape, to a post that is neither joking nor good news: a
    laughing reply of a few words with nothing caring in it ("lol broke", "emo era 💀") is mocking. (Read
    on replies by other authors, which the patterns were not written against.)"""
    view = result.view
    words = result.words
    move_codes = {m.move for m in moves}
    nudged = any(c.code not in FLAG_CODES and c.code != "interrogating" for c in candidates)
    laughs = any(w in _HUMOUR_TOKENS or w.startswith("lmao") for w in words) or any(
        symbol in view for symbol in _HUMOUR_SYMBOLS
    )
    if (
        laughs
        and len(view.split()) <= _MOCKING_MAX_WORDS
        and not nudged
        and move_codes.isdisjoint(_WARM_MOVES)
    ):
        return [_Candidate("hostility", _MOCKING_WEIGHT, 0, len(view.rstrip()) or len(view))]
    return []


def _distressed(context: PostContext) -> bool:
    """Return False only for a post that sounds like good news (positive feelings, no distress)."""
    families = {w.family for w in context.feeling_words}
    good_news = bool(families) and families.isdisjoint(_DISTRESS_FAMILIES)
    return context.crisis or not (good_news or "!!" in context.view)


def _mentions_same_term(view: str, candidate: _Candidate, post_view: str) -> bool:
    words = _WORD_RX.findall(view[candidate.start : candidate.end])
    return bool(words) and words[-1] in post_view


# --------------------------------------------------------------------------------------------------
# Member-facing text


def feeling_phrase(word: FeelingWord) -> tuple[str, bool]:
    """Return how a reflection names this feeling word, and whether it describes a situation."""
    says = word.says_as
    if (
        (" " in says and not says.endswith(_ADJECTIVAL_PHRASE_ENDINGS))
        or (says.split(" ")[0].endswith("ing") and not word.situational)
        or says in _HARSH_SELF_LABELS
    ):
        says = FAMILY_WORDS_BY_INTENSITY[word.family][_INTENSITY_INDEX[word.intensity]]
    return says, word.situational


def short_reflection(words: Sequence[FeelingWord]) -> str:
    """Return a one-line reflection built from a post's feeling words, for ``try_instead``."""
    distress = [w for w in words if w.family in _DISTRESS_FAMILIES] or list(words)
    if not distress:
        return "That sounds really hard."
    strongest = max(distress, key=lambda w: (_INTENSITY_INDEX[w.intensity], w.start))
    says, situational = feeling_phrase(strongest)
    if situational:
        return f"That sounds really {says}."
    return f"That sounds really hard. It makes sense you're feeling {says}."


def open_question(words: Sequence[FeelingWord], crisis: bool) -> str:
    """Return an open what/how question that fits a post's main feeling family."""
    questions = tables().reflect["questions"]
    if crisis:
        return str(questions["crisis"][0])
    family = words[0].family if words else "none"
    return str(questions.get(family, questions["none"])[0])


def _suggestion_parts(context: PostContext | None) -> tuple[str, str]:
    """Return the reflection and the open question a ``try_instead`` may use, fitted to the post."""
    words = context.feeling_words if context is not None else ()
    crisis = context.crisis if context is not None else False
    return short_reflection(words), open_question(words, crisis)


def _roadblock(
    code: str, confidence: float, span: tuple[int, int], info: RoadblockInfo, parts: tuple[str, str]
) -> Roadblock:
    reflection, question = parts
    return Roadblock(
        code=code,
        tier="flag" if code in FLAG_CODES else "nudge",
        span=span,
        confidence=round(confidence, 3),
        reason=info.reason,
        try_instead=info.try_instead.format(reflection=reflection, question=question),
    )


# --------------------------------------------------------------------------------------------------
# The final say (see decide.py): the patterns' reading and the words, weighed by a learned model


def crisis_reading_features(result: Scan, pattern: Crisis) -> frozenset[str]:
    """Return the patterns' crisis reading of a text as features (indicators, guards, urgency markers)."""
    indicators: list[tuple[str, bool]] = []
    guards: list[str] = []
    markers: list[str] = []
    safe_hits = [hit for hit in result.crisis_hits if hit.rule.code == SAFE_CODE]
    for hit in result.crisis_hits:
        code = hit.rule.code
        extra = hit.rule.extra
        if code == SAFE_CODE:
            if not (extra.get("kind") == "returning" and _negated_plan(result, hit)):
                guards.append(str(extra.get("kind", "safe")))
        elif code == URGENCY_CODE:
            markers.append("act" if extra.get("urgent") else str(extra.get("kind", "marker")))
        elif not _is_safe(hit, safe_hits, result):
            indicators.append((code, extra.get("strength") == _STRONG))
    reading = crisis_reading(
        indicators,
        guards,
        markers,
        level=pattern.level,
        word_count=len(result.words),
    )
    return frozenset(reading)


def _reply_decision_parts(
    result: Scan,
    post: str | None,
    context: PostContext | None,
    moves: Sequence[Move],
    found: Sequence[tuple[str, float, int, int]],
    own_crisis: bool,
) -> tuple[AbstractSet[str], AbstractSet[str], AbstractSet[str]]:
    """Return the decision features as three disjoint parts (the reading, the reply's words, the post's
    words), which a model scores without building their union."""
    if context is None:
        post_codes = ["none"]
        post_part: AbstractSet[str] = post_features(normalize(post[:MAX_CHARS]).text) if post else frozenset()
    else:
        post_codes = [
            name
            for name, present in (
                ("advice", context.asks_for_advice),
                ("humour", context.humour),
                ("crisis", context.crisis),
                ("self_critical", context.self_critical),
                ("good_news", not _distressed(context)),
            )
            if present
        ] or ["plain"]
        post_part = context.scorer_features
    words = result.words
    reading = reply_reading(
        found,
        (m.move for m in moves),
        action_threshold=ACTION_THRESHOLD,
        post_codes=post_codes,
        own_crisis=own_crisis,
        addressed=not _SECOND_PERSON.isdisjoint(words),
        word_count=len(words),
    )
    return frozenset(reading), result.learned_features(), post_part


def crisis_signal(feats: frozenset[str]) -> bool:
    """Return True if a pattern saw a crisis signal: an indicator that is not a bare goodbye or "jk"."""
    return any(f.startswith("ind:") and f[4:] not in _AMBIGUOUS_ALONE for f in feats)


def _decided_crisis(result: Scan, *, reply: bool, words_alone: bool = True) -> Crisis:
    """Return the crisis reading after the crisis text model has weighed the words.

    The patterns' reading stands unless the model scores the text under its veto; a crisis the patterns
    did not count is raised when the model is sure enough (surer for words with no pattern signal at all).
    In a reply, which mostly talks about the poster, the model is only asked when a pattern saw a signal
    (and likewise with ``words_alone=False``).
    A concern becomes urgent when the urgency text model reads a plan, means, a time or an act in it.
    """
    pattern = read_crisis(result, reply=reply)
    model = text_models().get("decide:crisis")
    if model is None or len(result.words) < _MIN_SCORED_WORDS:
        return pattern
    decided = _weighed_crisis(result, pattern, model, reply=reply, words_alone=words_alone)
    urgent_model = text_models().get("decide:urgent")
    if (
        decided.level == "concern"
        and urgent_model is not None
        and urgent_model.score(result.crisis_terms()) >= urgent_model.threshold
    ):
        return Crisis(level="urgent", indicators=decided.indicators)
    return decided


def _weighed_crisis(
    result: Scan, pattern: Crisis, model: TextModel, *, reply: bool, words_alone: bool
) -> Crisis:
    """Return the patterns' crisis reading as the crisis text model confirms, overrules or raises it
    (``words_alone=False``: only where a pattern saw a signal)."""
    if pattern.level != "none":
        # The patterns saw it; only a near-certain "no" (an idiom the guards missed) overrules them.
        probability = model.score(result.crisis_terms())
        return pattern if probability >= model.extra.get("veto", 0.0) else Crisis()
    feats = crisis_reading_features(result, pattern)
    if any(f.startswith("guard:") for f in feats):
        return pattern  # an idiom, gaming, fiction, negation or recovered-history guard holds
    signal = crisis_signal(feats)
    if not signal and (reply or not words_alone):
        return pattern
    sentences = _own_sentences(result) if reply else result.sentences
    if not sentences:
        return pattern  # nothing the writer says about themselves: cheap to rule out before scoring
    threshold = model.threshold if signal else model.extra.get("unsignalled", model.threshold)
    if model.score(result.crisis_terms()) < threshold + (_SCORED_REPLY_MARGIN if reply else 0.0):
        return pattern
    return _learned_crisis(result, model, sentences)


def _own_sentences(result: Scan) -> tuple[tuple[int, int], ...]:
    """Return the sentences in which the writer speaks of themselves (first person, not to "you", not a
    question): in a reply only these can disclose a crisis ("are you thinking of ending it?" is care)."""
    return tuple(
        (start, end)
        for start, end in result.sentences
        if not _FIRST_PERSON.isdisjoint(sentence_words := _WORD_RX.findall(result.view[start:end]))
        and _SECOND_PERSON.isdisjoint(sentence_words)
        and not result.view[start:end].rstrip().endswith("?")
    )


def _learned_crisis(result: Scan, crisis_model: TextModel, sentences: Sequence[tuple[int, int]]) -> Crisis:
    """Return a crisis the patterns missed, explained by the one of ``sentences`` that weighed most."""
    scorer = models()
    feats = result.learned_features()
    indicator_names = [name.split(":", 1)[1] for name in scorer if name.startswith("indicator:")]
    if not indicator_names:
        return Crisis()
    indicator = max(indicator_names, key=lambda code: scorer[f"indicator:{code}"].score(feats))
    start, end = _best_sentence(result, crisis_model, sentences)
    kinds = {
        hit.rule.extra.get("kind") if not hit.rule.extra.get("urgent") else "act"
        for hit in result.crisis_hits
        if hit.rule.code == URGENCY_CODE
    }
    level = "urgent" if _urgent(kinds) else "concern"
    return Crisis(
        level=level,  # type: ignore[arg-type]
        indicators=(CrisisIndicator(indicator=indicator, span=result.norm.span(start, end)),),
    )


def _decided_roadblocks(
    result: Scan,
    post: str | None,
    moves: Sequence[Move],
    context: PostContext | None,
    own_crisis: bool,
    found: Sequence[tuple[str, float, int, int]],
) -> list[tuple[str, float, int, int]]:
    """Return the roadblocks to report after the decision models have weighed the patterns' reading.

    A pattern's roadblock keeps its span; its confidence becomes the model's (on the same scale as the
    sensitivity settings). When the model is sure of a roadblock no pattern explains, the code comes from
    the per-code models and the span from the sentence that weighed most.
    """
    move_codes = {m.move for m in moves}
    listening = bool(move_codes & _CARING_MOVES)
    if not found and listening:
        return []  # nothing to weigh, and nothing may be added to a reply that already listens
    scorer = models()
    flag_model = scorer.get("decide:flag")
    any_model = scorer.get("decide:roadblock")
    words = result.words
    if flag_model is None or any_model is None or len(words) < _MIN_SCORED_WORDS:
        return [item for item in found if item[1] >= REPORT_THRESHOLD]
    parts = _reply_decision_parts(result, post, context, moves, found, own_crisis)
    flag_p = flag_model.score_parts(*parts)
    any_p = any_model.score_parts(*parts)
    flag_confidence = calibrated(flag_p, flag_model.threshold, floor=0.2, bar=ACTION_THRESHOLD, top=0.97)
    any_confidence = calibrated(any_p, any_model.threshold, floor=0.2, bar=ACTION_THRESHOLD, top=0.95)
    kept: list[tuple[str, float, int, int]] = []
    for code, own, start, end in found:
        if own < REPORT_THRESHOLD:
            continue  # the patterns' own guards held it back; the model only weighs what they reported
        confidence = flag_confidence if tier_of(code) == "flag" else any_confidence
        if confidence >= REPORT_THRESHOLD:
            kept.append((code, confidence, start, end))
    # A roadblock no pattern explains is added only where the patterns' guards would not have held it
    # back: never to a reply that already listens, never against a post joking about itself, asking for
    # advice or sharing good news.
    if (
        flag_p >= max(flag_model.threshold, _UNEXPLAINED_FLAG_MIN)
        and not any(tier_of(item[0]) == "flag" for item in kept)
        and not listening
        and not (context is not None and context.humour)
    ):
        scored = _learned_flag(result, parts, context, flag_confidence)
        if scored is not None:
            kept.append(scored)
    if (
        any_p >= max(any_model.threshold, _UNEXPLAINED_NUDGE_MIN)
        and not any(item[1] >= ACTION_THRESHOLD for item in kept)
        and not listening
        and not (move_codes & {"permission_asking", "open_question"})
        and not (context is not None and (context.asks_for_advice or not _distressed(context)))
    ):
        nudge = _learned_nudge(result, parts, context, words, any_model, any_confidence)
        if nudge is not None:
            kept.append(nudge)
    kept.sort(key=lambda item: item[2])
    return kept


def _learned_flag(
    result: Scan, parts: Sequence[AbstractSet[str]], context: PostContext | None, confidence: float
) -> tuple[str, float, int, int] | None:
    """Return the flag-tier roadblock the per-code models find likeliest, explained by its top sentence."""
    scorer = models()
    crisis_context = context is not None and context.crisis
    codes = [
        (code, scorer[f"code:{code}"].score_parts(*parts))
        for code in FLAG_CODES
        if f"code:{code}" in scorer and (code != "guilt_or_debate_life" or crisis_context)
    ]
    code = strongest(codes)
    if code is None:
        return None
    start, end = _best_sentence(result, scorer[f"code:{code}"])
    return code, confidence, start, end


def _learned_nudge(
    result: Scan,
    parts: Sequence[AbstractSet[str]],
    context: PostContext | None,
    words: Sequence[str],
    any_model: Model,
    confidence: float,
) -> tuple[str, float, int, int] | None:
    """Return the nudge-tier roadblock the per-code models find likeliest, explained by its top sentence."""
    scorer = models()
    codes = [code for code in ROADBLOCK_CODES if tier_of(code) == "nudge" and f"code:{code}" in scorer]
    if context is not None and (context.asks_for_advice or context.crisis):
        codes = [c for c in codes if c not in _ADVICE_CODES]
    if context is not None and context.humour:
        codes = [c for c in codes if c != "deflecting"]
    if _SECOND_PERSON.isdisjoint(words):
        codes = [c for c in codes if c in _UNADDRESSED_CODES]
    code = strongest([(c, scorer[f"code:{c}"].score_parts(*parts)) for c in codes])
    if code is None:
        return None
    start, end = _best_sentence(result, any_model)
    return code, confidence, start, end


def training_features(text: str, post: str | None = None, *, as_post: bool = False) -> frozenset[str]:
    """Return the decision model's features of a corpus line, read by the patterns alone (for training)."""
    result = scan(text)
    crisis = read_crisis(result, reply=not as_post)
    if as_post:
        return crisis_reading_features(result, crisis)
    context = post_context(post, learned=False)
    moves = read_moves(result)
    found = read_roadblocks(result, moves, context, crisis.level != "none")
    return frozenset().union(
        *_reply_decision_parts(result, post, context, moves, found, crisis.level != "none")
    )


# --------------------------------------------------------------------------------------------------
# Entry points


def analyze_text(reply: str, post: str | None = None, *, as_post: bool = False) -> Analysis:
    """Analyse a reply (optionally with its post), or a post on its own when ``as_post`` is True."""
    if not isinstance(reply, str):
        raise TypeError("analyze() expects the message text as a string")
    if not reply.strip():
        return Analysis(text=reply)
    table = tables()
    result = scan(reply)
    crisis = _decided_crisis(result, reply=not as_post)
    feelings: tuple[Feeling, ...] = summarize(
        find_feeling_words(result.view, result.table_hits(FEELING_TABLE), table, result.words)
    )
    if as_post:
        return Analysis(text=reply, moves=read_moves(result), crisis=crisis, feelings=feelings)
    context = post_context(post)
    own_crisis = crisis.level != "none"
    first_moves = read_moves(result)
    found = read_roadblocks(result, first_moves, context, own_crisis)
    kept = _decided_roadblocks(result, post, first_moves, context, own_crisis, found)
    blocked = [(start, end) for code, _, start, end in kept if code == "interrogating"]
    moves = read_moves(result, blocked) if blocked else first_moves
    roadblocks: tuple[Roadblock, ...] = ()
    action = "none"
    if kept:
        parts = _suggestion_parts(context)
        info = table.roadblock_info
        span = result.norm.span
        roadblocks = tuple(
            _roadblock(code, confidence, span(start, end), info[code], parts)
            for code, confidence, start, end in kept
        )
        if any(r.tier == "flag" and r.confidence >= ACTION_THRESHOLD for r in roadblocks):
            action = "flag"
        elif any(r.confidence >= ACTION_THRESHOLD for r in roadblocks):
            action = "nudge"
    return Analysis(
        text=reply,
        roadblocks=roadblocks,
        moves=moves,
        crisis=crisis,
        feelings=feelings,
        action=action,  # type: ignore[arg-type]
    )
