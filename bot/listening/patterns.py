"""Compiling the TOML pattern tables into a few fast, linear-time regexes.

Each table entry is a regular expression written for people: ``{you} should`` uses the macros in
``data/macros.toml``. At load time every pattern is expanded, its leading literal word is taken as a
*key*, and all patterns that share the first three letters of their key are joined into ONE compiled
regex whose literal prefix lets the regex engine skip ahead quickly. At match time the text's words
are collected once and only the regexes whose key appears in the text run; a key with one lane names
the rule from its own match. A rule set remembers the hits of the last few texts it read (a post is read
again for every reply to it). Patterns never contain nested quantifiers, so matching stays linear in
the length of the text.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

_MACRO_RX = re.compile(r"\{([a-z_]+)\}")
_CAPTURE_RX = re.compile(r"(?<!\\)\((?!\?)")
_KEY_RX = re.compile(r"[a-z0-9']+")
_DIGIT_RX = re.compile(r"\d")
DIGIT_KEY = "\\d"
# A match may not stop in the middle of a word (it may end on a space or punctuation it consumed).
_END = "(?:(?<![a-z0-9])|(?![a-z0-9]))"
_TOKEN_RX = re.compile(r"(?<![a-z0-9])[a-z0-9][a-z0-9']*")
_WORD_KEY = "="  # marks a key that must be a whole word ("=should"), not just a word's first letters


class PatternError(ValueError):
    """A pattern in a data file cannot be compiled; the message names the file and the pattern."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One pattern from a data table and what a match of it means."""

    name: str
    code: str
    weight: float
    source: str
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Hit:
    """A match of one rule: the rule and the span in the matching view."""

    rule: Rule
    start: int
    end: int


@cache
def load_toml(name: str) -> dict[str, Any]:
    """Load ``bot/listening/data/<name>.toml`` once and return its contents."""
    data_dir = resources.files("bot.listening") / "data"
    with (data_dir / f"{name}.toml").open("rb") as handle:
        return tomllib.load(handle)


def macros() -> dict[str, str]:
    """Return the shared pattern macros (``{you}`` and friends) from ``data/macros.toml``."""
    return {key: str(value) for key, value in load_toml("macros")["macros"].items()}


def expand_macros(pattern: str, table: Mapping[str, str]) -> str:
    """Replace ``{name}`` macros (recursively, a few levels deep) and make every group non-capturing."""
    for _ in range(4):
        expanded = _MACRO_RX.sub(lambda m: table.get(m.group(1), m.group(0)), pattern)
        if expanded == pattern:
            break
        pattern = expanded
    unknown = _MACRO_RX.search(pattern)
    if unknown:
        raise PatternError(f"unknown macro {{{unknown.group(1)}}} in {pattern!r}")
    return _CAPTURE_RX.sub("(?:", pattern)


def _closing_paren(pattern: str, open_index: int) -> int:
    depth = 0
    index = open_index
    in_class = False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    raise PatternError(f"unbalanced parentheses in {pattern!r}")


def _split_top_level(body: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    start = 0
    index = 0
    in_class = False
    while index < len(body):
        char = body[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(body[start:index])
            start = index + 1
        index += 1
    parts.append(body[start:])
    return parts


def expand_leading(pattern: str) -> list[str]:
    """Expand a leading ``(?:a|b)`` group (optionally followed by ``?``) into one pattern per branch.

    A group right after a word shorter than three letters is expanded too (``it(?:'ll| will)``), so
    every resulting pattern starts with at least three literal characters or a whole short word.
    """
    literal = _KEY_RX.match(pattern)
    if literal is not None and len(literal.group()) < 3 and pattern[literal.end() :].startswith("(?:"):
        head = literal.group()
        return [head + tail for tail in expand_leading(pattern[literal.end() :])]
    if not pattern.startswith("(?:"):
        return [pattern]
    close = _closing_paren(pattern, 0)
    branches = _split_top_level(pattern[3:close])
    rest = pattern[close + 1 :]
    if rest.startswith("?"):
        rest = rest[1:]
        branches.append("")
    elif rest[:1] in ("*", "+", "{"):
        raise PatternError(f"a pattern may not start with a repeated group: {pattern!r}")
    expanded: list[str] = []
    for branch in branches:
        expanded.extend(expand_leading(branch + rest))
    return expanded


def leading_key(pattern: str) -> str:
    """Return the first letters a match of ``pattern`` must start with (at most three)."""
    match = _KEY_RX.match(pattern)
    if match is None:
        if pattern.startswith("\\d"):
            return DIGIT_KEY  # looked up when the text has any digit
        if pattern and not pattern[0].isascii() and pattern[0].isprintable():
            return pattern[0]  # an emoji or other symbol: looked up with ``in``
        raise PatternError(f"a pattern must start with a plain word: {pattern!r}")
    key = match.group()
    follower = pattern[match.end() :]
    if follower[:1] in ("?", "*", "{"):
        key = key[:-1]
        follower = pattern[len(key) :]
    elif not _may_continue_word(follower) and not follower.startswith("\\"):
        return _WORD_KEY + key
    if not key:
        raise PatternError(f"a pattern must start with a plain word: {pattern!r}")
    if len(key) < 3 and _may_continue_word(follower):
        raise PatternError(
            f"a pattern whose first word is shorter than three letters must be followed by a space: "
            f"{pattern!r}"
        )
    return key[:3]


def _may_continue_word(follower: str) -> bool:
    """Return True if ``follower`` could add letters to the word before it (a short key is then unsafe)."""
    if not follower:
        return False
    first = follower[0]
    if first.isalnum() or first == "'":
        return True
    if first == "(":
        return not follower.startswith(("(?!", "(?="))
    if first == "[":
        close = follower.find("]", 1)
        return any(ch.isalnum() for ch in follower[1:close])
    if first == "\\":
        return follower[1:2] in ("w", "d", "S", "D")
    return False


def word_prefixes(view: str) -> list[tuple[str, int]]:
    """Return ``(word, offset)`` for every word in ``view``.

    Rules are looked up by a word (for patterns that start with a whole word) or by its first three
    characters, and a rule's regex is tried only where such a word starts.
    """
    return [(m.group(), m.start()) for m in _TOKEN_RX.finditer(view)]


_LITERAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789' ")
_QUANTIFIERS = frozenset("?*+{")
_MAX_PLANS = 50_000  # distinct words remembered by a rule set before the memo starts over
_MAX_RECENT = 256
"""Texts whose hits a rule set remembers (a post is read again for every reply it gets)."""
MAX_HITS_PER_KEY = 48
"""A text that repeats one phrase hundreds of times is read up to this many matches per key."""
MAX_TRIES_PER_KEY = 64
"""...and each key's regex is tried at most this many times per text (keeps long repeats linear and cheap)."""


def _literal_head(rest: str) -> tuple[str, str]:
    """Split ``rest`` into its leading plain characters and the remaining regex."""
    index = 0
    while index < len(rest) and rest[index] in _LITERAL_CHARS:
        index += 1
    if index < len(rest) and rest[index] in _QUANTIFIERS and index > 0:
        index -= 1  # the last plain character is repeated or optional: it belongs to the regex part
    return rest[:index], rest[index:]


def _trie_source(entries: Sequence[tuple[str, str]], named: bool = False) -> str:
    """Join ``(group_name, rest)`` entries into one alternation factored by shared leading characters.

    ``you(?: should| need)`` becomes ``you(?: (?:should|need))`` recursively, so the regex engine tests
    each next character once instead of once per pattern.
    """
    leaves: list[str] = []
    children: dict[str, list[tuple[str, str]]] = {}
    for name, rest in entries:
        head, tail = _literal_head(rest)
        if head:
            children.setdefault(head[0], []).append((name, rest[1:]))
        else:
            if named:
                leaves.append(f"(?P<{name}>{tail})")
            else:
                leaves.append(f"(?:{tail})" if tail else "")
    branches: list[str] = []
    for char, group in children.items():
        branches.append(
            re.escape(char) + _trie_source(group, named) if len(group) > 1 else _single(char, group[0], named)
        )
    branches.extend(leaves)
    if len(branches) == 1:
        return branches[0] if branches[0].startswith("(?P<") or len(children) == 0 else f"(?:{branches[0]})"
    return "(?:" + "|".join(branches) + ")"


def _single(char: str, entry: tuple[str, str], named: bool) -> str:
    name, rest = entry
    head, tail = _literal_head(rest)
    if named:
        return re.escape(char + head) + f"(?P<{name}>{tail})"
    return re.escape(char + head) + (f"(?:{tail})" if tail else "")


def _first_chars(fragment: str, depth: int = 0) -> set[str] | None:
    """Return the characters a match of regex ``fragment`` can start with, or ``None`` if unsure."""
    if depth > 6:
        return None
    if not fragment:
        return {""}
    first = fragment[0]
    if first in _LITERAL_CHARS:
        if fragment[1:2] in ("?", "*"):
            rest = _first_chars(fragment[2:], depth + 1)
            return None if rest is None else {first} | rest
        return {first}
    if fragment.startswith("(?:"):
        close = _closing_paren(fragment, 0)
        chars: set[str] = set()
        for branch in _split_top_level(fragment[3:close]):
            branch_chars = _first_chars(branch or fragment[close + 1 :], depth + 1)
            if branch_chars is None:
                return None
            chars |= branch_chars
        if "" in chars or fragment[close + 1 : close + 2] in ("?", "*"):
            chars.discard("")
            rest = _first_chars(
                fragment[close + 2 :]
                if fragment[close + 1 : close + 2] in ("?", "*")
                else fragment[close + 1 :],
                depth + 1,
            )
            if rest is None:
                return None
            chars |= rest
        return chars
    return None


def _next_chars(entries: Sequence[tuple[str, str]]) -> frozenset[str] | None:
    """Return the characters that can come right after a whole-word key (after one space), or ``None``
    when some pattern could continue with anything (then the regex is always tried)."""
    chars: set[str] = {""}
    for _, rest in entries:
        fragment = rest[1:] if rest.startswith(" ") else rest
        found = _first_chars(fragment)
        if found is None or "" in found or not rest.startswith(" "):
            return None  # the pattern may end right after the word, so anything may follow
        chars |= found
    return frozenset(chars)


def _keyed_source(key: str, entries: Sequence[tuple[str, str]], named: bool = False) -> str:
    """Return the regex source for one key: the key, a word-start check, the factored alternation."""
    body = _trie_source(entries, named)
    if key == DIGIT_KEY:
        return f"(?<![a-z0-9]){body}{_END}"
    literal = re.escape(key[1:] if key.startswith(_WORD_KEY) else key)
    return f"{literal}(?<![a-z0-9]{literal}){body}{_END}"


_Step = tuple[re.Pattern[str], frozenset[str] | None, str, bool]
"""One key to try at a word: its regex, the characters that may follow the word (``None``: any), the
key, and whether the key has a single lane (then its regex's match names the rule)."""


class RuleSet:
    """A table of rules compiled into one regex per leading key."""

    __slots__ = (
        "_by_key",
        "_keys",
        "_lane_regexes",
        "_lanes",
        "_next_chars",
        "_plans",
        "_recent",
        "_rules",
        "_sources",
        "_symbol_keys",
        "_word_keys",
        "rules",
    )

    def __init__(self, rules: Sequence[tuple[Rule, Sequence[str]]]) -> None:
        """Compile ``(rule, patterns)`` pairs (macros already expanded) into keyed regexes.

        Each key gets one regex with every rule (tried at each word with that key). Only where it
        matches, the key's *lane* regexes run (``rule.extra["lane"]``: one roadblock code, the moves,
        the feelings...), and in a matching lane the rules' own regexes say which rule it was. So a
        match in one lane never hides a match in another, and the common case (no match) costs one
        call. The regexes carry no capture groups, which keeps each call cheap.
        """
        grouped: dict[str, dict[str, list[tuple[str, str]]]] = {}
        self.rules: tuple[Rule, ...] = tuple(rule for rule, _ in rules)
        self._rules: dict[str, Rule] = {}
        serial = 0
        for index, (rule, patterns) in enumerate(rules):
            lane = str(rule.extra.get("lane", ""))
            for pattern in patterns:
                for variant in expand_leading(pattern):
                    key = leading_key(variant)
                    literal = key[1:] if key.startswith(_WORD_KEY) else key
                    rest = DIGIT_KEY + variant[len(key) :] if key == DIGIT_KEY else variant[len(literal) :]
                    name = f"r{index}_{serial}"
                    serial += 1
                    self._rules[name] = rule
                    grouped.setdefault(key, {}).setdefault(lane, []).append((name, rest))
        self._sources: dict[str, str] = {}
        self._by_key: dict[str, re.Pattern[str]] = {}
        self._next_chars: dict[str, frozenset[str] | None] = {}
        self._lanes: dict[str, tuple[str, ...]] = {}
        for key, lanes in grouped.items():
            everything = [entry for entries in lanes.values() for entry in entries]
            self._next_chars[key] = _next_chars(everything) if key.startswith(_WORD_KEY) else None
            if len(lanes) == 1:
                self._sources[key] = _keyed_source(key, everything, named=True)
                self._lanes[key] = (key,)
                continue
            self._sources[key] = _keyed_source(key, everything)
            lane_ids = []
            for lane, entries in lanes.items():
                lane_id = f"{lane}|{key}"
                self._sources[lane_id] = _keyed_source(key, entries, named=True)
                lane_ids.append(lane_id)
            self._lanes[key] = tuple(lane_ids)
        self._keys = frozenset(grouped)
        self._word_keys = {key[1:]: key for key in grouped if key.startswith(_WORD_KEY)}
        self._plans: dict[str, tuple[_Step, ...]] = {}
        self._lane_regexes: dict[str, tuple[re.Pattern[str], ...]] = {}
        self._recent: dict[str, tuple[Hit, ...]] = {}
        self._symbol_keys = tuple(
            key
            for key in grouped
            if (not key.isascii() and not key.startswith(_WORD_KEY)) or key == DIGIT_KEY
        )

    def __len__(self) -> int:
        """Return the number of keys (each with one combined regex)."""
        return len(self._keys)

    def _compiled(self, source_id: str) -> re.Pattern[str]:
        """Return the regex for ``source_id``, compiling it the first time it is needed."""
        compiled = self._by_key.get(source_id)
        if compiled is None:
            try:
                compiled = re.compile(self._sources[source_id])
            except re.error as error:
                raise PatternError(f"cannot compile patterns for {source_id!r}: {error}") from error
            self._by_key[source_id] = compiled
        return compiled

    def compile_all(self) -> None:
        """Compile every regex now (start-up warm-up, and the test that every pattern is valid)."""
        for source_id in self._sources:
            self._compiled(source_id)

    def _plan(self, word: str) -> tuple[_Step, ...]:
        """Return ``(regex, characters that may follow the word, key, whether the key has one lane)`` for
        the keys to try where ``word`` starts
        (``None``: anything may follow); memoised per distinct word."""
        plan = self._plans.get(word)
        if plan is None:
            keys = (self._word_keys.get(word), word[:3])
            plan = tuple(
                (
                    self._compiled(key),
                    self._next_chars[key],
                    key,
                    self._lanes[key] == (key,),
                )
                for key in keys
                if key is not None and key in self._keys
            )
            if len(self._plans) >= _MAX_PLANS:
                self._plans.clear()
            self._plans[word] = plan
        return plan

    def _lane_hits(self, key: str, view: str, start: int, hits: list[Hit]) -> None:
        """Where a key's combined regex matched, find the matching rule in every lane."""
        lanes = self._lane_regexes.get(key)
        if lanes is None:
            lanes = self._lane_regexes[key] = tuple(self._compiled(lane_id) for lane_id in self._lanes[key])
        rules = self._rules
        for compiled in lanes:
            match = compiled.match(view, start)
            if match is not None and match.lastgroup is not None:
                hits.append(Hit(rules[match.lastgroup], start, match.end()))

    def find(self, view: str, prefixes: Sequence[tuple[str, int]]) -> list[Hit]:
        """Return every rule hit in ``view`` (a key's regex runs only where a word with that key starts)."""
        recent = self._recent.get(view)
        if recent is not None:
            return list(recent)
        hits: list[Hit] = []
        # A key is tried at most once per word, so a short text cannot reach the cap: skip the counting.
        capped = len(prefixes) > MAX_TRIES_PER_KEY
        counts: dict[str, int] = {}
        plans = self._plans
        rules = self._rules
        for word, start in prefixes:
            plan = plans.get(word)
            if plan is None:
                plan = self._plan(word)
            if not plan:
                continue
            after = start + len(word)
            following = view[after : after + 2]
            following = following[1:] if following[:1] == " " else following[:1]
            for compiled, allowed, key, single in plan:
                if allowed is not None and following not in allowed:
                    continue
                if capped:
                    tries = counts.get(key, 0)
                    if tries >= MAX_TRIES_PER_KEY:
                        continue  # a text repeating one word hundreds of times is read this far, no further
                    counts[key] = tries + 1
                match = compiled.match(view, start)
                if match is None:
                    continue
                if single:  # the key's regex is its only lane's regex: the match names the rule
                    if match.lastgroup is not None:
                        hits.append(Hit(rules[match.lastgroup], start, match.end()))
                else:
                    self._lane_hits(key, view, start, hits)
        for symbol in self._symbol_keys:
            if symbol == DIGIT_KEY:
                if _DIGIT_RX.search(view) is None:
                    continue
            elif symbol not in view:
                continue
            for count, match in enumerate(self._compiled(symbol).finditer(view)):
                self._lane_hits(symbol, view, match.start(), hits)
                if count + 1 >= MAX_HITS_PER_KEY:
                    break
        if len(self._recent) >= _MAX_RECENT:
            del self._recent[next(iter(self._recent))]  # forget the oldest text
        self._recent[view] = tuple(hits)
        return hits
