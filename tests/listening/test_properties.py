"""Property tests: analyze and reflect never raise on arbitrary Unicode and stay fast per call."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.listening import analyze, analyze_post, reflect, warm_up

PER_CALL_LIMIT_SECONDS = 0.2  # generous: the real figures are in `heard bench`

chat_text = st.one_of(
    st.text(max_size=600),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.lists(
        st.sampled_from(
            [
                "you",
                "should",
                "kms",
                "i'm",
                "so",
                "**",
                "`",
                "```",
                "<@1>",
                "http://x.y",
                "😂",
                "lol",
                "why",
                "!",
                "?",
                "\n",
                "'",
                '"',
                "k!ll",
                "ｙｏｕ",
                "İ",
                "\u200b",
                ">",
                "at least",
                "die",
                "sooo",
            ]
        ),
        max_size=80,
    ).map(" ".join),
)


def setup_module() -> None:
    warm_up()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reply=chat_text, post=st.one_of(st.none(), chat_text))
def test_analyze_never_raises_and_spans_fit(reply: str, post: str | None) -> None:
    start = time.process_time()
    analysis = analyze(reply, post=post)
    assert time.process_time() - start < PER_CALL_LIMIT_SECONDS
    assert analysis.action in ("none", "nudge", "flag")
    for item in (*analysis.roadblocks, *analysis.moves, *analysis.crisis.indicators):
        start_index, end_index = item.span
        assert 0 <= start_index <= end_index <= len(reply)
    for block in analysis.roadblocks:
        assert 0.0 <= block.confidence <= 1.0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(post=chat_text, variant=st.integers(min_value=0, max_value=50))
def test_reflect_never_raises(post: str, variant: int) -> None:
    start = time.process_time()
    reflection = reflect(post, variant=variant)
    assert time.process_time() - start < PER_CALL_LIMIT_SECONDS
    assert 1 <= len(reflection.suggestions) <= 3
    assert reflection.question


@settings(max_examples=80, deadline=None)
@given(text=chat_text)
def test_analyze_post_never_reports_roadblocks(text: str) -> None:
    assert analyze_post(text).roadblocks == ()
