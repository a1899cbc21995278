"""A small learned scorer that backs up the pattern tables.

Logistic regression over words and word pairs, trained ONLY on the project's own dev corpus
(``bot/listening/corpus/*_dev.jsonl``, written by Heard's contributors; no public dataset, no member
messages). The patterns stay the first reader and the source of every explanation; the scorer only adds
what they missed, when it is confident, and its finding is explained by the sentence that scored highest.

Retrain (about ten seconds) after the dev corpus changes::

    python -m bot.listening.learn

The weights are written to ``bot/listening/data/scorer.json`` and loaded once, on first use.
"""

from __future__ import annotations

import json
import math
import random
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Any

from bot.listening.normalize import deleet, normalize

_WORD_RX = re.compile(r"[a-z0-9][a-z0-9']*|[\u2600-\u27bf\U0001f000-\U0001faff]")
_SCORER_FILE = "scorer.json"
_MIN_WEIGHT = 0.25  # smaller weights barely move a score; dropping them keeps the file small


def features(view: str) -> list[str]:
    """Return the features of a matching view: words, creative spellings read as letters, word pairs."""
    words = _WORD_RX.findall(view)
    read = deleet(view)
    if read is not view:
        seen = set(words)
        words.extend(w for w in _WORD_RX.findall(read) if w not in seen)
    pairs = [f"{a} {b}" for a, b in pairwise(words)]
    return words + pairs


@dataclass(frozen=True, slots=True)
class Model:
    """One binary logistic-regression model: a bias, weights per feature and a decision threshold."""

    bias: float
    weights: Mapping[str, float]
    threshold: float

    def score(self, feats: Iterable[str]) -> float:
        """Return the probability (0-1) that the label applies."""
        unique = feats if isinstance(feats, (set, frozenset)) else set(feats)
        total = self.bias + sum(filter(None, map(self.weights.get, unique)))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, total))))

    def contribution(self, feats: Iterable[str]) -> float:
        """Return the summed weight of ``feats`` (which sentence drove a score)."""
        unique = feats if isinstance(feats, (set, frozenset)) else set(feats)
        return float(sum(filter(None, map(self.weights.get, unique))))


@cache
def models() -> dict[str, Model]:
    """Load the trained models once; an empty mapping if the weights file is missing."""
    path = resources.files("bot.listening") / "data" / _SCORER_FILE
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {
        name: Model(bias=float(m["bias"]), weights=m["weights"], threshold=float(m["threshold"]))
        for name, m in data["models"].items()
    }


# --------------------------------------------------------------------------------------------------
# Training (run as a script; not used at analysis time)


def _train(
    examples: Sequence[tuple[list[str], int]], *, epochs: int = 15, rate: float = 0.3, l2: float = 1e-3
) -> tuple[float, dict[str, float]]:
    """Fit a logistic regression with AdaGrad; returns (bias, weights)."""
    weights: dict[str, float] = {}
    grad_sq: dict[str, float] = {}
    bias = 0.0
    bias_sq = 1e-8
    positives = sum(label for _, label in examples) or 1
    negatives = (len(examples) - positives) or 1
    balance = {1: len(examples) / (2 * positives), 0: len(examples) / (2 * negatives)}
    order = list(range(len(examples)))
    rng = random.Random(13)
    for _ in range(epochs):
        rng.shuffle(order)
        for index in order:
            feats, label = examples[index]
            unique = set(feats)
            total = bias + sum(weights.get(f, 0.0) for f in unique)
            prob = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, total))))
            error = (prob - label) * balance[label]
            bias_sq += error * error
            bias -= rate * error / math.sqrt(bias_sq)
            for feat in unique:
                gradient = error + l2 * weights.get(feat, 0.0)
                grad_sq[feat] = grad_sq.get(feat, 1e-8) + gradient * gradient
                weights[feat] = weights.get(feat, 0.0) - rate * gradient / math.sqrt(grad_sq[feat])
    return bias, {f: round(w, 3) for f, w in weights.items() if abs(w) >= _MIN_WEIGHT}


def _cross_scores(examples: Sequence[tuple[list[str], int]], folds: int = 3) -> list[tuple[float, int]]:
    """Return out-of-fold probabilities, to choose a threshold without grading on training data."""
    scored: list[tuple[float, int]] = []
    for fold in range(folds):
        train = [e for i, e in enumerate(examples) if i % folds != fold]
        test = [e for i, e in enumerate(examples) if i % folds == fold]
        bias, weights = _train(train)
        model = Model(bias, weights, 0.5)
        scored.extend((model.score(feats), label) for feats, label in test)
    return scored


def _threshold(scored: Sequence[tuple[float, int]], *, min_precision: float, floor: float) -> float:
    """Return the lowest threshold whose out-of-fold precision reaches ``min_precision``."""
    best = 0.99
    for candidate in [x / 100 for x in range(int(floor * 100), 99)]:
        predicted = [(p >= candidate, label) for p, label in scored]
        tp = sum(1 for hit, label in predicted if hit and label)
        fp = sum(1 for hit, label in predicted if hit and not label)
        if tp and tp / (tp + fp) >= min_precision:
            best = candidate
            break
    return best


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                item = json.loads(line)
                if isinstance(item, dict):
                    yield item


def _reply_features(reply: str, post: str | None) -> list[str]:
    feats = features(normalize(reply).text)
    if post:
        feats += [f"post:{f}" for f in features(normalize(post).text) if " " not in f]
    return feats


def train_all(corpus: Path, out: Path) -> dict[str, Any]:
    """Train every model from the dev split in ``corpus`` and write the weights to ``out``."""
    from bot.listening.types import CRISIS_INDICATORS, FEELING_FAMILIES, FLAG_CODES, ROADBLOCK_CODES

    trained: dict[str, Any] = {}

    def fit(
        name: str,
        examples: list[tuple[list[str], int]],
        min_precision: float,
        floor: float,
        *,
        tune: bool = True,
    ) -> None:
        if sum(label for _, label in examples) < 5:
            return
        threshold = (
            _threshold(_cross_scores(examples), min_precision=min_precision, floor=floor) if tune else 0.5
        )
        bias, weights = _train(examples)
        trained[name] = {"bias": round(bias, 4), "threshold": threshold, "weights": weights}
        print(f"{name}: {len(examples)} examples, threshold {threshold:.2f}, {len(weights)} weights")

    crisis = list(_jsonl(corpus / "crisis_dev.jsonl"))
    crisis_feats = [features(normalize(str(i["text"])).text) for i in crisis]
    fit(
        "crisis",
        [(f, int(i["level"] != "none")) for f, i in zip(crisis_feats, crisis, strict=True)],
        0.9,
        0.5,
    )
    for indicator in CRISIS_INDICATORS:
        rows = [
            (f, int(indicator in i.get("indicators", []))) for f, i in zip(crisis_feats, crisis, strict=True)
        ]
        fit(f"indicator:{indicator}", rows, 0.5, 0.3, tune=False)

    replies = list(_jsonl(corpus / "roadblocks_dev.jsonl"))
    reply_feats = [_reply_features(str(i["reply"]), i.get("post")) for i in replies]
    fit(
        "roadblock",
        [(f, int(bool(i["codes"]))) for f, i in zip(reply_feats, replies, strict=True)],
        0.92,
        0.5,
    )
    for code in ROADBLOCK_CODES:
        if code in FLAG_CODES:
            continue  # the scorer only ever suggests nudges; flags come from explainable patterns
        rows = [(f, int(code in i["codes"])) for f, i in zip(reply_feats, replies, strict=True)]
        fit(f"code:{code}", rows, 0.5, 0.3, tune=False)

    posts = list(_jsonl(corpus / "reflection_dev.jsonl"))
    post_feats = [features(normalize(str(i["text"])).text) for i in posts]
    for family in FEELING_FAMILIES:
        rows = [(f, int(i.get("family") == family)) for f, i in zip(post_feats, posts, strict=True)]
        fit(f"family:{family}", rows, 0.5, 0.3, tune=False)

    payload = {
        "about": "Logistic regression trained on Heard's own dev corpus only: python -m bot.listening.learn",
        "models": trained,
    }
    out.write_text(json.dumps(payload, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return payload


def main(argv: Sequence[str] | None = None) -> int:
    """Train the scorer from the dev corpus and save it next to the other data tables."""
    del argv
    package = Path(__file__).resolve().parent
    train_all(package / "corpus", package / "data" / _SCORER_FILE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
