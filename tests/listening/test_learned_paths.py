"""The decision models' paths: crisis raised or overruled, flags and nudges added or held back, the guards.

The paths are driven with small hand-made models (monkeypatched into the engine) so each test checks one
decision, whatever the shipped weights are; the last tests check the shipped weights themselves.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bot.listening import ACTION_THRESHOLD, analyze, analyze_post, engine
from bot.listening.decide import calibrated, reply_reading
from bot.listening.learn import Model, TextModel, features, models, post_features, text_models

WEAK_SIGNAL_POST = "everything feels pointless and i am so tired of it all"
EXAM_POST = "i failed my exam today and i feel crushed"


def _use(monkeypatch: pytest.MonkeyPatch, fake: dict[str, Model]) -> None:
    monkeypatch.setattr(engine, "models", lambda: fake)


def _sure(value: float, **extra: float) -> Model:
    """A model that gives every text the same score (bias only)."""
    return Model(bias=math.log(value / (1.0 - value)), weights={}, threshold=0.5, extra=extra)


def _crisis_model(
    monkeypatch: pytest.MonkeyPatch, value: float, *, veto: float = 0.1, indicator: str = "hopelessness"
) -> None:
    """Make the crisis text model give every text ``value`` (threshold 0.5 with or without a signal)."""
    model = TextModel(
        bias=math.log(value / (1.0 - value)),
        weights={},
        idf={},
        threshold=0.5,
        extra={"veto": veto, "unsignalled": 0.5},
    )
    monkeypatch.setattr(engine, "text_models", lambda: {"decide:crisis": model})
    _use(monkeypatch, {f"indicator:{indicator}": _sure(0.9)})


def test_a_confident_crisis_reading_raises_a_weak_signal_to_concern(monkeypatch: pytest.MonkeyPatch) -> None:
    _crisis_model(monkeypatch, 0.99)
    crisis = analyze_post(WEAK_SIGNAL_POST).crisis
    assert crisis.level == "concern"
    (indicator,) = crisis.indicators
    assert indicator.indicator == "hopelessness"
    start, end = indicator.span
    assert 0 <= start < end <= len(WEAK_SIGNAL_POST)


def test_an_unsure_crisis_reading_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    _crisis_model(monkeypatch, 0.3)
    assert analyze_post(WEAK_SIGNAL_POST).crisis.level == "none"


def test_the_model_never_raises_a_crisis_a_guard_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    _crisis_model(monkeypatch, 0.999, indicator="explicit_ideation")
    assert analyze_post("this exam is literally killing me lol").crisis.level == "none"
    recovered = "i tried to kill myself when i was 16. now i'm doing so much better"
    assert analyze_post(recovered).crisis.level == "none"


def test_a_pattern_crisis_stands_unless_the_model_is_nearly_sure_it_is_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    post = "i want to kill myself tonight"
    _crisis_model(monkeypatch, 0.2, veto=0.1)
    assert analyze_post(post).crisis.level == "urgent"
    _crisis_model(monkeypatch, 0.05, veto=0.1)
    assert analyze_post(post).crisis.level == "none"


def test_in_a_reply_only_the_writers_own_words_count(monkeypatch: pytest.MonkeyPatch) -> None:
    _crisis_model(monkeypatch, 0.999)
    own = analyze("honestly same. everything feels pointless and i am so tired of it all")
    assert own.crisis.level == "concern"
    asked = analyze("does everything feel pointless to you right now?")
    assert asked.crisis.level == "none"


def test_a_confident_flag_reading_adds_an_explained_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    _use(
        monkeypatch,
        {
            "decide:flag": _sure(0.95),
            "decide:roadblock": _sure(0.95),
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
    assert flagged[0].confidence >= ACTION_THRESHOLD


def test_guilt_is_only_a_learned_flag_when_the_post_speaks_of_ending_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _use(
        monkeypatch,
        {
            "decide:flag": _sure(0.99),
            "decide:roadblock": _sure(0.3),
            "code:guilt_or_debate_life": _sure(0.9),
        },
    )
    assert analyze("think about your family", post=EXAM_POST).action != "flag"


def test_a_pattern_flag_the_model_doubts_is_held_back(monkeypatch: pytest.MonkeyPatch) -> None:
    post, reply = "i failed my driving test", "what's wrong with you lol"
    _use(monkeypatch, {"decide:flag": _sure(0.9), "decide:roadblock": _sure(0.9)})
    assert analyze(reply, post=post).action == "flag"
    _use(monkeypatch, {"decide:flag": _sure(0.01), "decide:roadblock": _sure(0.01)})
    held = analyze(reply, post=post)
    assert held.action == "none"
    assert all(r.confidence < ACTION_THRESHOLD for r in held.roadblocks)


def test_advice_is_never_a_learned_nudge_when_the_post_asked_for_it(monkeypatch: pytest.MonkeyPatch) -> None:
    _use(
        monkeypatch,
        {
            "decide:flag": _sure(0.01),
            "decide:roadblock": _sure(0.99),
            "code:advice_unasked": _sure(0.99),
            "code:minimizing": _sure(0.2),
        },
    )
    asked = analyze("maybe try a planner, it helped me", post="any tips for staying organised this semester?")
    assert all(r.code != "advice_unasked" for r in asked.roadblocks)


def test_confidence_follows_the_model_on_the_sensitivity_scale() -> None:
    assert calibrated(0.5, 0.5, floor=0.2, bar=0.6, top=0.97) == pytest.approx(0.6)
    assert calibrated(1.0, 0.5, floor=0.2, bar=0.6, top=0.97) == pytest.approx(0.97)
    assert calibrated(0.0, 0.5, floor=0.2, bar=0.6, top=0.97) == pytest.approx(0.2)
    assert calibrated(0.25, 0.5, floor=0.2, bar=0.6, top=0.97) < 0.6


def test_the_reading_features_name_codes_moves_and_the_post() -> None:
    feats = reply_reading(
        [("labeling_shaming", 0.8, 0, 5), ("advice_unasked", 0.5, 6, 9)],
        ["validation"],
        action_threshold=0.6,
        post_codes=["advice"],
        own_crisis=False,
        addressed=True,
        word_count=12,
    )
    assert {"rb:labeling_shaming", "rb+:labeling_shaming", "tier+:flag", "rb:advice_unasked"} <= set(feats)
    assert "rb+:advice_unasked" not in feats
    assert {"mv:validation", "ctx:advice", "ctx:addressed", "len:mid"} <= set(feats)


def test_features_include_character_grams_and_post_words() -> None:
    feats = features("ur so dramatic")
    assert "_dra" in feats and "tic_" in feats and "ur so" in feats
    assert post_features("my dog died") == {"post:my", "post:dog", "post:died"}


def test_shipped_weights_are_small_and_carry_cross_validated_thresholds() -> None:
    path = Path(engine.__file__).parent / "data" / "scorer.json"
    assert path.stat().st_size < 5_000_000
    loaded = models()
    for name in ("decide:flag", "decide:roadblock"):
        assert 0.2 <= loaded[name].threshold < 1.0
    crisis = text_models()["decide:crisis"]
    assert 0.0 <= crisis.extra["veto"] <= crisis.threshold < 1.0
    assert 0.0 < text_models()["decide:urgent"].threshold < 1.0
    payload = json.loads(path.read_text(encoding="utf-8"))
    assert {"decide:flag", "decide:crisis"} <= set(payload["cross_validation"])
