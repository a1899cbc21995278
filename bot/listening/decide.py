"""The final say: what the patterns read, weighed together with the words by a small learned model.

The pattern tables find candidate roadblocks, listening moves and crisis signals, each with a span that
explains it. They were written by people, and people miss phrasings and over-trust others. So the last
step is a logistic-regression model (trained only on the project's own corpora; see ``learn.py``) whose
inputs are the patterns' reading (which codes and moves fired, how strongly, what the post was like) plus
the words. It decides whether a reply is a flag, a nudge or fine, and whether a post is a crisis; the spans
still come from the patterns, or from the sentence that weighed most when the patterns found nothing.

This module only turns a reading into the model's features; it knows nothing of Discord or storage.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.listening.types import tier_of

_SHORT_WORDS = 6
_LONG_WORDS = 60


def length_feature(word_count: int) -> str:
    """Return a coarse length bucket (a one-liner reads differently from a long reply)."""
    if word_count < _SHORT_WORDS:
        return "len:short"
    return "len:long" if word_count > _LONG_WORDS else "len:mid"


def reply_reading(
    found: Iterable[tuple[str, float, int, int]],
    moves: Iterable[str],
    *,
    action_threshold: float,
    post_codes: Sequence[str],
    own_crisis: bool,
    addressed: bool,
    word_count: int,
) -> list[str]:
    """Return the decision features of a reply's pattern reading (each has a ``:``, so none can equal a
    word feature; post words are ``post:`` features, so none can equal these).

    ``found`` is the patterns' ``(code, confidence, start, end)`` roadblocks, ``moves`` the listening
    moves, ``post_codes`` what the post was like (``advice`` asked for, ``humour``, ``crisis``,
    ``self_critical``, or ``none`` without a post).
    """
    feats = [f"ctx:{code}" for code in post_codes]
    for code, confidence, _, _ in found:
        feats.append(f"rb:{code}")
        if confidence >= action_threshold:
            feats.append(f"rb+:{code}")
            feats.append(f"tier+:{tier_of(code)}")
    feats.extend(f"mv:{move}" for move in moves)
    if own_crisis:
        feats.append("ctx:own_crisis")
    if addressed:
        feats.append("ctx:addressed")
    feats.append(length_feature(word_count))
    return feats


def crisis_reading(
    indicators: Iterable[tuple[str, bool]],
    guards: Iterable[str],
    markers: Iterable[str],
    *,
    level: str,
    word_count: int,
) -> list[str]:
    """Return the decision features of a text's crisis reading.

    ``indicators`` is ``(code, strong)`` for each indicator pattern that held, ``guards`` the kinds of
    guard that matched (idiom, gaming, negation...), ``markers`` the urgency kinds (plan, means, time...),
    ``level`` the patterns' own level.
    """
    feats = [f"level:{level}", length_feature(word_count)]
    for code, strong in indicators:
        feats.append(f"ind:{code}")
        if strong:
            feats.append(f"ind+:{code}")
    feats.extend(f"guard:{kind}" for kind in guards)
    feats.extend(f"urg:{kind}" for kind in markers)
    return feats


def calibrated(probability: float, threshold: float, *, floor: float, bar: float, top: float) -> float:
    """Map a model probability onto the engine's confidence scale.

    ``threshold`` (the model's decision point) maps to ``bar`` (the action threshold); certainty maps to
    ``top``; zero maps to ``floor``. Moderation sensitivity settings then move along the same scale.
    """
    if probability >= threshold:
        span = max(1e-6, 1.0 - threshold)
        return bar + (top - bar) * (probability - threshold) / span
    return floor + (bar - floor) * probability / max(1e-6, threshold)


def strongest(scores: Sequence[tuple[str, float]]) -> str | None:
    """Return the name with the highest score, or None when there is none."""
    return max(scores, key=lambda item: item[1])[0] if scores else None
