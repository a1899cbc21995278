"""Heard's listening engine: pure Python, no Discord, no storage.

>>> from bot.listening import analyze, reflect
>>> analyze("you're so dramatic", post="i cried all night").action
'flag'

Data tables live in ``bot/listening/data`` and are compiled on first use (so importing is cheap).
"""

from __future__ import annotations

from bot.listening.constants import ACTION_THRESHOLD, MAX_CHARS, SENSITIVITY_THRESHOLDS
from bot.listening.types import (
    Analysis,
    Crisis,
    CrisisIndicator,
    Feeling,
    Move,
    Reflection,
    Roadblock,
    Suggestion,
)


def analyze(reply: str, *, post: str | None = None) -> Analysis:
    """Analyse a reply (and the post it answers, if known): roadblocks, moves, crisis, feelings, action."""
    from bot.listening.engine import analyze_text

    return analyze_text(reply, post)


def analyze_post(text: str) -> Analysis:
    """Analyse a post on its own: crisis language, feelings and listening moves (never roadblocks)."""
    from bot.listening.engine import analyze_text

    return analyze_text(text, as_post=True)


def reflect(post: str, *, variant: int = 0) -> Reflection:
    """Suggest two or three reflective paraphrases of a post plus one open question.

    ``variant`` rotates the wording, so asking again ("Other ideas") gives different suggestions.
    """
    from bot.listening.reflecting import build_reflection

    return build_reflection(post, variant=variant)


def warm_up() -> None:
    """Load and compile every table and the learned scorer now (a few seconds) instead of on first use."""
    from bot.listening.learn import models
    from bot.listening.tables import tables

    compiled = tables()
    compiled.main.compile_all()
    compiled.crisis.compile_all()
    models()


__all__ = [
    "ACTION_THRESHOLD",
    "MAX_CHARS",
    "SENSITIVITY_THRESHOLDS",
    "Analysis",
    "Crisis",
    "CrisisIndicator",
    "Feeling",
    "Move",
    "Reflection",
    "Roadblock",
    "Suggestion",
    "analyze",
    "analyze_post",
    "reflect",
    "warm_up",
]
