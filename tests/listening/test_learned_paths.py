"""The learned scorer's decision paths: crisis confirmation, learned flags, the flag veto, and the guards.

The paths are driven with small hand-made models (monkeypatched into the engine) so each test checks one
decision, whatever the shipped weights are; the last tests check the shipped weights themselves.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.listening import ACTION_THRESHOLD, analyze, engine
from bot.listening.learn import Model, features, models, post_features

WEAK_SIGNAL_POST = "everything feels pointless and i am so tired of it all"
EXAM_POST = "i failed my exam today and i feel crushed"


def _use(monkeypatch: pytest.MonkeyPatch, fake: dict[str, Model]) -> None:
    monkeypatch.setattr(engine, "models", lambda: fake)


def _sure(value: float) -> Model:
    """A model that gives every text the same score (bias only)."""
    import math

    return Model(bias=math.log(value / (1.0 - value)), weights={}, threshold=0.5)


def test_a_confident_crisis_reading_raises_a_weak_signal_to_concern(monkeypatch: pytest.MonkeyPatch) -> None:
    _use(monkeypatch, {"crisis": _sure(0.99), "indicator:hopelessness": _sure(0.9)})
    crisis = engine.read_crisis(engine.scan(WEAK_SIGNAL_POST))
    assert crisis.level == "concern"
    (indicator,) = crisis.indicators
    assert indicator.indicator == "hopelessness"
    start, end = indicator.span
    assert 0 <= start < end <= len(WEAK_SIGNAL_POST)


def test_an_unsure_crisis_reading_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    _use(monkeypatch, {"crisis": _sure(0.6), "indicator:hopelessness": _sure(0.9)})
    assert engine.read_crisis(engine.scan(WEAK_SIGNAL_POST)).level == "none"


def test_the_scorer_never_overrides_an_idiom_or_a_text_with_no_signal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _use(monkeypatch, {"crisis": _sure(0.999), "indicator:explicit_ideation": _sure(0.9)})
    assert engine.read_crisis(engine.scan("this exam is literally killing me lol")).level == "none"
    assert engine.read_crisis(engine.scan("my dad and i argued again last night")).level == "none"


def test_in_a_reply_only_the_writers_own_words_count(monkeypatch: pytest.MonkeyPatch) -> None:
    _use(monkeypatch, {"crisis": _sure(0.999), "indicator:hopelessness": _sure(0.9)})
    own = analyze("honestly same. everything feels pointless and i am so tired of it all")
    assert own.crisis.level == "concern"
    asked = analyze("does everything feel pointless to you right now?")
    assert asked.crisis.level == "none"


def test_a_confident_flag_reading_adds_an_explained_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    _use(
        monkeypatch,
        {
            "flag": _sure(0.95),
            "code:labeling_shaming": Model(bias=-1.0, weights={"zorp": 4.0}, threshold=0.5),
            "code:hostility": _sure(0.2),
        },
    )
    reply = "ok. genuinely such a zorp move. whatever"
    analysis = analyze(reply, post=EXAM_POST)
    assert analysis.action == "flag"
    flagged = [r for r in analysis.roadblocks if r.tier == "flag"]
    assert [r.code for r in flagged] == ["labeling_shaming"]
    start, end = flagged[0].span
    assert "zorp" in reply[start:end]
    assert flagged[0].reason and flagged[0].try_instead
    assert ACTION_THRESHOLD <= flagged[0].confidence <= 0.85


def test_a_learned_flag_respects_the_guards(monkeypatch: pytest.MonkeyPatch) -> None:
    _use(monkeypatch, {"flag": _sure(0.99), "code:guilt_or_debate_life": _sure(0.9)})
    assert analyze("think about your family", post=EXAM_POST).action != "flag"
    joking = "lmao i failed my exam so hard 😂 my brain is soup"
    assert analyze("ur brain has always been soup", post=joking).action != "flag"
    assert analyze("that sounds so frustrating, i'm sorry", post=EXAM_POST).action != "flag"


def test_a_pattern_flag_the_scorer_is_sure_about_is_held_back(monkeypatch: pytest.MonkeyPatch) -> None:
    post, reply = "i failed my driving test", "what's wrong with you lol"
    assert analyze(reply, post=post).action == "flag"
    _use(monkeypatch, {"flag": _sure(0.01)})
    held = analyze(reply, post=post)
    assert held.action != "flag"
    assert all(r.confidence < ACTION_THRESHOLD for r in held.roadblocks if r.tier == "flag")


def test_features_include_character_grams_and_post_words() -> None:
    feats = features("ur so dramatic")
    assert "_dra" in feats and "tic_" in feats and "ur so" in feats
    assert post_features("my dog died") == {"post:my", "post:dog", "post:died"}


def test_shipped_weights_are_small_and_carry_cross_validated_thresholds() -> None:
    path = Path(engine.__file__).parent / "data" / "scorer.json"
    assert path.stat().st_size < 5_000_000
    loaded = models()
    assert {"crisis", "flag", "roadblock"} <= set(loaded)
    for name in ("crisis", "flag", "roadblock"):
        assert 0.5 <= loaded[name].threshold < 1.0
    payload = json.loads(path.read_text(encoding="utf-8"))
    assert "flag" in payload["cross_validation"]
