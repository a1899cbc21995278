"""Matching is linear-time: adversarial inputs stay fast, and doubling the input roughly doubles the time."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from bot.listening import analyze, reflect, warm_up
from bot.listening.bench import adversarial_inputs

LIMIT_SECONDS = 0.1  # the floor is 20 ms (see `heard bench`); tests allow for a busy machine


def setup_module() -> None:
    warm_up()


def _best_of(call: Callable[[], object], repeats: int = 5) -> float:
    """Return the smallest CPU time of a few runs (CPU time, so other busy processes do not count)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        call()
        best = min(best, time.process_time() - start)
    return best


@pytest.mark.parametrize(("name", "text"), sorted(adversarial_inputs().items()))
def test_adversarial_input_is_fast(name: str, text: str) -> None:
    assert len(text) <= 4000
    elapsed = _best_of(lambda: analyze(text, post=text))
    assert elapsed < LIMIT_SECONDS, f"{name}: {elapsed * 1000:.1f} ms"
    assert _best_of(lambda: reflect(text)) < LIMIT_SECONDS, name


@pytest.mark.parametrize("unit", ["you should really ", "a", "kms 😭 ", "why did you ", "**_", "k.m.s."])
def test_time_grows_linearly_with_length(unit: str) -> None:
    short = (unit * 4000)[:1000]
    long = (unit * 4000)[:4000]
    short_time = _best_of(lambda: analyze(short))
    long_time = _best_of(lambda: analyze(long))
    # Linear would be 4x; quadratic would be 16x. Allow generous noise above linear.
    assert long_time < max(short_time * 9, 0.01), (unit, short_time, long_time)
