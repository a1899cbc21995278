"""A small learned scorer that backs up the pattern tables.

Logistic regression over word uni/bi-grams of the engine's normalised text and character 4-grams of the
de-leeted text, trained ONLY on corpora the project wrote itself: the dev split
(``bot/listening/corpus/*_dev.jsonl``) and the independent training split by a second author
(``bot/listening/corpus/train/*_train.jsonl``). No public dataset, no member messages; the held-out split
is never read here. The patterns stay the first reader and the source of most explanations; the scorer adds
what they missed when it is confident, and its finding is explained by the sentence that scored highest.

Decision thresholds are chosen from out-of-fold probabilities (5-fold cross-validation over dev + train),
and so is the regularisation strength. Retrain (about a minute; needs scikit-learn, a training-only
dependency — analysis stays pure Python) after either corpus changes::

    python -m bot.listening.learn

The weights are written to ``bot/listening/data/scorer.json`` and loaded once, on first use.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Any

from bot.listening.normalize import deleet, normalize

_WORD_RX = re.compile(r"[a-z0-9][a-z0-9']*|[\u2600-\u27bf\U0001f000-\U0001faff]")
_EMOJI_RX = re.compile(r"[\u2600-\u27bf\U0001f000-\U0001faff]")
_SCORER_FILE = "scorer.json"
_MIN_WEIGHT = 0.05  # smaller weights barely move a score; dropping them keeps the file small
_CHAR_WORDS = 250  # character n-grams are read from this many words (keeps long texts cheap)
_GRAM = 4
_FOLDS = 5
_REGULARISATION = (0.3, 1.0, 3.0)  # candidate inverse L2 strengths; the best out-of-fold log-loss wins


def features(view: str) -> list[str]:
    """Return the features of a matching view: words, word pairs and character 4-grams.

    Words come from the view and from its de-leeted reading (creative spellings read as letters); the
    character 4-grams inside each de-leeted word (padded with ``_``) catch spellings and forms never seen.
    """
    words = _WORD_RX.findall(view)
    read = deleet(view)
    if read is not view:
        read_words = _WORD_RX.findall(read)
        seen = set(words)
        words.extend(w for w in read_words if w not in seen)
    else:
        read_words = words
    pairs = [f"{a} {b}" for a, b in pairwise(words)]
    grams = [gram for word in read_words[:_CHAR_WORDS] for gram in _word_grams(word)]
    return words + pairs + grams


def feature_set(view: str, words: Sequence[str] | None = None) -> set[str]:
    """Return the distinct features of a matching view: the set of ``features(view)``, built faster.

    This is what the engine scores (a model reads each distinct feature once); each word's character
    4-grams are cut once and remembered. ``words`` may pass the view's ``[a-z0-9][a-z0-9']*`` words when
    the caller already has them; they are used only if the view holds no emoji (then they are the same).
    """
    known = words is not None and _EMOJI_RX.search(view) is None
    words = list(words) if known and words is not None else _WORD_RX.findall(view)
    read = deleet(view)
    if read is not view:
        read_words = _WORD_RX.findall(read)
        seen = set(words)
        words.extend([w for w in read_words if w not in seen])
    else:
        read_words = words
    found = set(words)
    found.update([a + " " + b for a, b in pairwise(words)])
    found.update(*map(_word_grams, set(read_words[:_CHAR_WORDS])))
    return found


@lru_cache(maxsize=1 << 15)
def _word_grams(word: str) -> tuple[str, ...]:
    """Return the character 4-grams of ``word`` padded with ``_`` (none for words of one or two letters)."""
    if len(word) <= 2:
        return ()
    padded = f"_{word}_"
    return tuple(padded[i : i + _GRAM] for i in range(len(padded) - _GRAM + 1))


def post_features(view: str) -> frozenset[str]:
    """Return the features a post adds to its reply's: its words, prefixed ``post:``."""
    return frozenset(f"post:{w}" for w in _WORD_RX.findall(view))


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

    def score_parts(self, *parts: AbstractSet[str]) -> float:
        """Return the probability for the union of feature sets that share no feature (e.g. reply, post)."""
        total = self.bias + sum(sum(filter(None, map(self.weights.get, part))) for part in parts)
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


@dataclass(frozen=True, slots=True)
class Fit:
    """A trained model with the out-of-fold figures that chose its threshold."""

    bias: float
    weights: dict[str, float]
    threshold: float
    regularisation: float
    out_of_fold: list[tuple[float, int]]


def _matrix(rows: Sequence[Sequence[str]], vocabulary: dict[str, int] | None = None) -> Any:
    """Return a binary sparse matrix of ``rows`` (and the vocabulary, built when not given)."""
    from scipy.sparse import csr_matrix  # training-only dependency

    build = vocabulary is None
    vocab: dict[str, int] = {} if vocabulary is None else vocabulary
    indptr, indices = [0], []
    for feats in rows:
        for feat in set(feats):
            index = vocab.get(feat)
            if index is None and build:
                index = vocab[feat] = len(vocab)
            if index is not None:
                indices.append(index)
        indptr.append(len(indices))
    data = [1.0] * len(indices)
    return csr_matrix((data, indices, indptr), shape=(len(rows), len(vocab)), dtype=float), vocab


def _fit_lr(rows: Sequence[Sequence[str]], labels: Sequence[int], strength: float) -> tuple[float, dict]:
    from sklearn.linear_model import LogisticRegression  # training-only dependency

    matrix, vocab = _matrix(rows)
    model = LogisticRegression(C=strength, max_iter=2000, solver="liblinear")
    model.fit(matrix, list(labels))
    names = {index: feat for feat, index in vocab.items()}
    weights = {names[i]: round(float(w), 3) for i, w in enumerate(model.coef_[0]) if abs(w) >= _MIN_WEIGHT}
    return float(model.intercept_[0]), weights


def _out_of_fold(
    rows: Sequence[Sequence[str]], labels: Sequence[int], strength: float, groups: Sequence[str]
) -> list[tuple[float, int]]:
    """Return out-of-fold probabilities; items sharing a group (one post's replies) stay in one fold."""
    fold_of = {g: hash_fold(g) for g in set(groups)}
    scored: list[tuple[float, int]] = [(0.0, 0)] * len(rows)
    for fold in range(_FOLDS):
        train = [i for i, g in enumerate(groups) if fold_of[g] != fold]
        test = [i for i, g in enumerate(groups) if fold_of[g] == fold]
        if not test or len({labels[i] for i in train}) < 2:
            continue
        bias, weights = _fit_lr([rows[i] for i in train], [labels[i] for i in train], strength)
        model = Model(bias, weights, 0.5)
        for i in test:
            scored[i] = (model.score(rows[i]), labels[i])
    return scored


def hash_fold(group: str) -> int:
    """Return a stable fold number for ``group`` (not Python's salted hash)."""
    return sum(ord(c) * (i + 1) for i, c in enumerate(group)) % _FOLDS


def _log_loss(scored: Sequence[tuple[float, int]]) -> float:
    eps = 1e-6
    return -sum(math.log(max(eps, p if y else 1.0 - p)) for p, y in scored) / max(1, len(scored))


def threshold_for_precision(scored: Sequence[tuple[float, int]], min_precision: float) -> float:
    """Return the lowest threshold whose out-of-fold precision reaches ``min_precision`` (0.99 if none)."""
    for candidate in [x / 100 for x in range(50, 99)]:
        tp = sum(1 for p, y in scored if p >= candidate and y)
        fp = sum(1 for p, y in scored if p >= candidate and not y)
        if tp >= 3 and tp / (tp + fp) >= min_precision:
            return candidate
    return 0.99


def threshold_for_fpr(scored: Sequence[tuple[float, int]], max_fpr: float) -> float:
    """Return the lowest threshold whose out-of-fold false-positive rate is at most ``max_fpr``."""
    negatives = sum(1 for _, y in scored if not y) or 1
    for candidate in [x / 100 for x in range(30, 99)]:
        fp = sum(1 for p, y in scored if p >= candidate and not y)
        if fp / negatives <= max_fpr:
            return candidate
    return 0.99


def fit(
    rows: Sequence[Sequence[str]],
    labels: Sequence[int],
    groups: Sequence[str],
    *,
    choose: str = "none",
    target: float = 0.5,
) -> Fit | None:
    """Train one model; with ``choose`` set, pick C and the threshold from out-of-fold probabilities."""
    if sum(labels) < 5 or sum(labels) == len(labels):
        return None
    if choose == "none":
        bias, weights = _fit_lr(rows, labels, 1.0)
        return Fit(bias, weights, 0.5, 1.0, [])
    best: tuple[float, float, list[tuple[float, int]]] | None = None
    for strength in _REGULARISATION:
        scored = _out_of_fold(rows, labels, strength, groups)
        loss = _log_loss(scored)
        if best is None or loss < best[0]:
            best = (loss, strength, scored)
    assert best is not None
    _, strength, scored = best
    if choose == "precision":
        threshold = threshold_for_precision(scored, target)
    else:
        threshold = threshold_for_fpr(scored, target)
    bias, weights = _fit_lr(rows, labels, strength)
    return Fit(bias, weights, threshold, strength, scored)


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                item = json.loads(line)
                if isinstance(item, dict):
                    yield item


def reply_features(reply: str, post: str | None) -> list[str]:
    """Return the features of a reply, with its post's words when there is one."""
    feats = features(normalize(reply).text)
    if post:
        feats.extend(post_features(normalize(post).text))
    return feats


def _read(corpus: Path, kind: str) -> list[dict[str, Any]]:
    """Return the dev rows of ``kind`` and, when present, the training split's."""
    return list(_jsonl(corpus / f"{kind}_dev.jsonl")) + list(_jsonl(corpus / "train" / f"{kind}_train.jsonl"))


def _summary(name: str, result: Fit) -> str:
    scored = result.out_of_fold
    line = (
        f"{name}: C={result.regularisation} threshold {result.threshold:.2f}, {len(result.weights)} weights"
    )
    if scored:
        tp = sum(1 for p, y in scored if p >= result.threshold and y)
        fp = sum(1 for p, y in scored if p >= result.threshold and not y)
        positives = sum(y for _, y in scored) or 1
        negatives = (len(scored) - sum(y for _, y in scored)) or 1
        line += (
            f" | out-of-fold precision {tp / max(1, tp + fp):.3f} recall {tp / positives:.3f}"
            f" fpr {fp / negatives:.3f}"
        )
    return line


def train_all(corpus: Path, out: Path, *, log: bool = True) -> dict[str, Any]:
    """Train every model from the dev (and training) splits in ``corpus`` and write the weights to ``out``."""
    from bot.listening.types import CRISIS_INDICATORS, FEELING_FAMILIES, FLAG_CODES, ROADBLOCK_CODES

    trained: dict[str, Any] = {}
    figures: dict[str, str] = {}

    def keep(name: str, result: Fit | None) -> None:
        if result is None:
            return
        trained[name] = {
            "bias": round(result.bias, 4),
            "threshold": result.threshold,
            "weights": result.weights,
        }
        figures[name] = _summary(name, result)
        if log:
            print(figures[name])

    crisis = _read(corpus, "crisis")
    crisis_feats = [features(normalize(str(i["text"])).text) for i in crisis]
    crisis_groups = [str(i.get("id", n)) for n, i in enumerate(crisis)]
    keep(
        "crisis",
        fit(
            crisis_feats,
            [int(i["level"] != "none") for i in crisis],
            crisis_groups,
            choose="fpr",
            target=0.05,
        ),
    )
    for indicator in CRISIS_INDICATORS:
        labels = [int(indicator in i.get("indicators", [])) for i in crisis]
        keep(f"indicator:{indicator}", fit(crisis_feats, labels, crisis_groups))

    replies = _read(corpus, "roadblocks")
    reply_feats = [reply_features(str(i["reply"]), i.get("post")) for i in replies]
    reply_groups = [str(i.get("post") or i.get("id")) for i in replies]
    keep(
        "roadblock",
        fit(
            reply_feats,
            [int(bool(i["codes"])) for i in replies],
            reply_groups,
            choose="precision",
            target=0.95,
        ),
    )
    keep(
        "flag",
        fit(
            reply_feats,
            [int(any(c in FLAG_CODES for c in i["codes"])) for i in replies],
            reply_groups,
            choose="precision",
            target=0.9,
        ),
    )
    for code in ROADBLOCK_CODES:
        labels = [int(code in i["codes"]) for i in replies]
        keep(f"code:{code}", fit(reply_feats, labels, reply_groups))

    posts = _read(corpus, "reflection")
    post_feats = [features(normalize(str(i["text"])).text) for i in posts]
    post_groups = [str(i.get("id", n)) for n, i in enumerate(posts)]
    for family in FEELING_FAMILIES:
        labels = [int(i.get("family") == family) for i in posts]
        keep(f"family:{family}", fit(post_feats, labels, post_groups))

    payload = {
        "about": (
            "Logistic regression trained on Heard's own dev and training corpora only "
            "(python -m bot.listening.learn); thresholds from 5-fold out-of-fold probabilities."
        ),
        "cross_validation": figures,
        "models": trained,
    }
    out.write_text(json.dumps(payload, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return payload


def main(argv: Sequence[str] | None = None) -> int:
    """Train the scorer from the project's corpora and save it next to the other data tables.

    ``--out PATH`` writes elsewhere; ``--corpus DIR`` reads another folder (e.g. one split only, to check
    the engine on the other).
    """
    import argparse

    package = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(prog="python -m bot.listening.learn")
    parser.add_argument("--corpus", type=Path, default=package / "corpus")
    parser.add_argument("--out", type=Path, default=package / "data" / _SCORER_FILE)
    args = parser.parse_args(argv)
    train_all(args.corpus, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
