"""The engine's shortcuts read exactly what the plain paths read: features, split scores, remembered posts."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.listening import engine
from bot.listening.feelings import find_feeling_words
from bot.listening.learn import feature_set, features, models, post_features
from bot.listening.normalize import normalize
from bot.listening.tables import FEELING_TABLE

SAMPLES = (
    "i want to k!ll mys3lf",
    "ugh same 😭😭 my landlord did the exact same thing lol",
    "you're being so dramatic about this tbh, grow up",
    "feel feeling feels felt, the the the",
    "",
    "a",
)


@pytest.mark.parametrize("text", SAMPLES)
def test_feature_set_is_the_set_of_features(text: str) -> None:
    view = normalize(text).text
    assert feature_set(view) == set(features(view))
    words = engine.scan(text).words if text else []
    assert feature_set(view, words) == set(features(view))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab1!3 '😂-.?ky"), max_size=60))
def test_feature_set_matches_on_odd_text(text: str) -> None:
    view = normalize(text).text
    assert feature_set(view, engine.scan(text).words) == set(features(view))


def test_split_scores_add_up_to_the_union_score() -> None:
    model = models()["decide:flag"]
    reply = feature_set(normalize("honestly you're so lazy, just get over it").text)
    post = post_features(normalize("i failed my exam and feel awful").text)
    assert reply.isdisjoint(post)
    assert math.isclose(model.score_parts(reply, post), model.score(reply | post), rel_tol=1e-12)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["so", "sad", "not", "empty", "burnt-out", "3am", "feel", "tired", "really", "-", " "]
        ),
        max_size=12,
    )
)
def test_feeling_words_read_the_same_with_the_scans_words(parts: list[str]) -> None:
    text = " ".join(parts)
    result = engine.scan(text)
    table = engine.tables()
    hits = result.table_hits(FEELING_TABLE)
    assert find_feeling_words(result.view, hits, table, result.words) == find_feeling_words(
        result.view, hits, table
    )
