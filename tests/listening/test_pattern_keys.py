"""A key shared by several rules finds each of them, and a remembered text gives the same hits again."""

from __future__ import annotations

from bot.listening.patterns import Rule, RuleSet, word_prefixes


def test_every_rule_sharing_a_key_is_found() -> None:
    rules = [
        (Rule("a#0", "advice_unasked", 0.8, "x"), ["you should"]),
        (Rule("b#0", "directing", 0.8, "x"), ["you (?:need|have) to"]),
        (Rule("c#0", "judging_blaming", 0.8, "x"), ["you [a-z]+ deserved"]),
    ]
    ruleset = RuleSet(rules)
    view = "you should. you need to. you have to. you kinda deserved it. you could"
    hits = ruleset.find(view, word_prefixes(view))
    assert sorted(view[h.start : h.end] for h in hits) == [
        "you have to",
        "you kinda deserved",
        "you need to",
        "you should",
    ]


def test_a_remembered_text_gives_the_same_hits_and_a_fresh_list() -> None:
    ruleset = RuleSet([(Rule("a#0", "advice_unasked", 0.8, "x"), ["you should"])])
    view = "you should rest"
    first = ruleset.find(view, word_prefixes(view))
    first.clear()
    again = ruleset.find(view, word_prefixes(view))
    assert [(h.start, h.end) for h in again] == [(0, 10)]
