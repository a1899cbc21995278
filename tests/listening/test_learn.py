"""The learned scorer: loads, scores, trains from a corpus folder, and never flags on its own."""

from __future__ import annotations

import json
from pathlib import Path

from bot.listening import analyze
from bot.listening.learn import Model, TextModel, features, models, text_terms, train_all


def test_features_include_words_pairs_and_creative_spellings() -> None:
    feats = features("i want to k!ll mys3lf")
    assert "want" in feats and "i want" in feats
    assert "kill" in feats and "myself" in feats


def test_shipped_models_load_and_score_between_zero_and_one() -> None:
    loaded = models()
    assert {"decide:flag", "decide:roadblock", "code:hostility"} <= set(loaded)
    for model in loaded.values():
        assert 0.0 <= model.score(features("hello there")) <= 1.0


def test_a_model_scores_by_its_weights() -> None:
    model = Model(bias=-2.0, weights={"kms": 5.0}, threshold=0.5)
    assert model.score(["kms"]) > 0.9
    assert model.score(["hello"]) < 0.2


def test_the_scorer_never_raises_a_flag_without_a_pattern() -> None:
    post = "my sister keeps borrowing my clothes without asking"
    analysis = analyze("hmm ok whatever you say i guess", post=post)
    assert analysis.action != "flag"


def _write(path: Path, rows: list[dict[str, object]]) -> None:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")


def test_training_from_a_corpus_folder(tmp_path: Path) -> None:
    crisis = [
        {
            "id": f"c{i}",
            "text": "i want to die tonight",
            "level": "concern",
            "indicators": ["explicit_ideation"],
        }
        for i in range(8)
    ]
    crisis += [
        {"id": f"n{i}", "text": "this homework is killing me lol", "level": "none", "indicators": []}
        for i in range(8)
    ]
    replies = [
        {"id": f"r{i}", "post": "sad", "reply": "you should just quit", "codes": ["advice_unasked"]}
        for i in range(8)
    ]
    replies += [{"id": f"k{i}", "post": "sad", "reply": "that sounds so hard", "codes": []} for i in range(8)]
    posts = [{"id": f"p{i}", "text": "my dog died", "family": "sad"} for i in range(6)]
    posts += [{"id": f"q{i}", "text": "i got the job!!", "family": "joyful"} for i in range(6)]
    _write(tmp_path / "crisis_dev.jsonl", crisis)
    _write(tmp_path / "roadblocks_dev.jsonl", replies)
    _write(tmp_path / "reflection_dev.jsonl", posts)
    # The decision models learn only from the training folder (text the patterns were not written against).
    (tmp_path / "train").mkdir()
    _write(tmp_path / "train" / "crisis_train.jsonl", crisis)
    _write(tmp_path / "train" / "roadblocks_train.jsonl", replies)
    out = tmp_path / "scorer.json"
    payload = train_all(tmp_path, out, log=False)
    assert out.exists()
    assert {"decide:roadblock", "indicator:explicit_ideation"} <= set(payload["models"])
    decision = payload["text_models"]["decide:crisis"]
    model = TextModel(decision["bias"], decision["weights"], decision["idf"], decision["threshold"])
    innocent = text_terms("this homework is killing me lol")
    assert model.score(text_terms("i want to die tonight")) > model.score(innocent)
