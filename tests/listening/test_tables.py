"""Every data table compiles, and the compiler refuses patterns it cannot key or keep linear."""

from __future__ import annotations

import pytest

from bot.listening.patterns import PatternError, Rule, RuleSet, expand_leading, leading_key, word_prefixes
from bot.listening.tables import tables


def test_every_pattern_in_the_data_files_compiles() -> None:
    compiled = tables()
    compiled.main.compile_all()
    compiled.crisis.compile_all()
    assert len(compiled.main) > 100
    assert len(compiled.crisis) > 100


def test_roadblock_reasons_and_try_instead_exist_for_every_code() -> None:
    from bot.listening.types import ROADBLOCK_CODES

    info = tables().roadblock_info
    for code in ROADBLOCK_CODES:
        assert info[code].reason, code
        assert "{" not in info[code].reason
        assert info[code].try_instead


def test_leading_groups_expand_into_keyed_patterns() -> None:
    assert expand_leading("(?:you|u) should") == ["you should", "u should"]
    assert expand_leading("(?:at least )?you") == ["at least you", "you"]
    assert leading_key("you should") == "=you"
    assert leading_key("don'?t") == "don"


def test_patterns_without_a_leading_word_are_refused() -> None:
    with pytest.raises(PatternError):
        leading_key("[a-z]+ should")
    with pytest.raises(PatternError):
        leading_key("u(?:r)+ bad")


def test_a_ruleset_finds_only_whole_words() -> None:
    rule = Rule("test#0", "advice_unasked", 0.8, "you should")
    ruleset = RuleSet([(rule, ["you should"])])
    view = "bayou shoulder. you should rest"
    hits = ruleset.find(view, word_prefixes(view))
    assert [(view[h.start : h.end]) for h in hits] == ["you should"]
