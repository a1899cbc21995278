"""Reflections: styles, pronoun flips, feeling reuse, safe messaging, rotation."""

from __future__ import annotations

import re

import pytest

from bot.listening import reflect
from bot.listening.reflecting import flip_pronouns

FIRST_PERSON = re.compile(r"\b(?:i|me|my|mine|myself|i'm|im|i've|ive|i'd|we|us|our|ours)\b", re.IGNORECASE)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("my mom and i had a fight", "you and your mom had a fight"),
        ("am i the only one", "are you the only one"),
        ("i was so embarrassed", "you were so embarrassed"),
        ("we broke up", "you broke up"),
        ("i've been crying and i don't know why", "you've been crying and you don't know why"),
        ("im tired of myself", "you're tired of yourself"),
        ("nobody texts me back", "nobody texts you back"),
        ("idk what to do", "you don't know what to do"),
    ],
)
def test_pronouns_flip_to_second_person(source: str, expected: str) -> None:
    assert flip_pronouns(source) == expected


POSTS = [
    "my mom and I haven't talked since the wedding and i miss her a lot",
    "ive been so anxious about my driving test tomorrow, i barely slept",
    "am I the only one who feels lonely at uni even with people around",
    "got the internship!! but it's in another city and im kind of scared to move alone",
    "work dumped three projects on me this week and i'm running on fumes",
    "my dog passed yesterday. the house is so quiet",
    "<@123456789012345678> told me to check https://example.com and ```print('hi')``` but i was so hurt",
]


@pytest.mark.parametrize("post", POSTS)
def test_reflections_are_second_person_short_and_clean(post: str) -> None:
    for variant in range(3):
        reflection = reflect(post, variant=variant)
        assert 2 <= len(reflection.suggestions) <= 3
        assert reflection.question.endswith("?")
        assert reflection.question.split()[0].lower().startswith(("what", "how"))
        for suggestion in reflection.suggestions:
            text = suggestion.text
            assert not FIRST_PERSON.search(text), text
            assert text.endswith("."), text
            assert len(re.findall(r"[.!?]", text)) <= 2, text
            assert "<@" not in text and "http" not in text and "```" not in text
            assert "should" not in text.lower() and "at least" not in text.lower()
            assert "know exactly" not in text.lower()
        assert len({s.style for s in reflection.suggestions}) == len(reflection.suggestions)


def test_the_posters_own_feeling_word_is_reused() -> None:
    reflection = reflect("ive been so anxious about my driving test tomorrow")
    assert any("anxious" in s.text for s in reflection.suggestions)
    assert reflection.feelings[0].family == "scared"


def test_an_unnamed_feeling_is_inferred_tentatively() -> None:
    reflection = reflect("my grandad passed away on sunday and the funeral is friday")
    assert reflection.feelings[0].family == "sad"
    feeling = next(s for s in reflection.suggestions if s.style == "feeling")
    assert feeling.text.startswith(("Maybe", "It sounds like you might", "It could be", "I wonder"))


def test_mixed_feelings_get_a_double_sided_reflection() -> None:
    reflection = reflect("so excited about the new job but also really nervous about messing up")
    assert "double_sided" in {s.style for s in reflection.suggestions}


def test_crisis_posts_get_support_and_never_repeat_method_details() -> None:
    post = "i have a bottle of pills next to me and i want to die tonight"
    reflection = reflect(post)
    assert reflection.crisis.level == "urgent"
    assert "crisis_support" in {s.style for s in reflection.suggestions}
    for text in [s.text for s in reflection.suggestions] + [reflection.question]:
        assert "pill" not in text.lower() and "bottle" not in text.lower() and "die" not in text.lower()


def test_variants_rotate_the_wording() -> None:
    post = "my dog passed yesterday. the house is so quiet"
    first = [s.text for s in reflect(post, variant=0).suggestions]
    second = [s.text for s in reflect(post, variant=1).suggestions]
    assert first != second


def test_reflections_are_not_verbatim_copies_of_the_post() -> None:
    post = "the house is so quiet without him"
    for suggestion in reflect(post).suggestions:
        assert suggestion.text.lower().rstrip(".") != post


@pytest.mark.parametrize(
    ("post", "family"),
    [
        ("my coworker keeps taking credit for my ideas in meetings", "mad"),
        ("nobody remembered my birthday this year", "sad"),
        ("someone keeps following me home from the bus stop", "scared"),
        ("i've been doing overtime every day for a month and i'm running on fumes", "depleted"),
        ("we paid off our debt today after 6 years!!!", "joyful"),
        ("i finished my first painting in ten years and it's actually good", "powerful"),
        ("quiet sunday, cat on my lap, tea, nowhere to be", "peaceful"),
        ("the landlord kept our deposit for no reason", "mad"),
        ("my parents might split up and idk what's going to happen to us", "scared"),
        ("i don't have anyone to talk to anymore", "sad"),
    ],
)
def test_the_feeling_family_is_read_from_the_kind_of_event(post: str, family: str) -> None:
    assert reflect(post).feelings[0].family == family


def test_a_question_post_is_reflected_as_wondering() -> None:
    reflection = reflect("am i the only one who feels lonely even with friends around")
    content = next(s.text for s in reflection.suggestions if s.style == "content")
    assert "wondering if you are the only one" in content


def test_a_death_is_never_reflected_as_a_bit_down() -> None:
    reflection = reflect("our dog had to be put down this morning")
    assert reflection.feelings[0].family == "sad"
    assert reflection.feelings[0].intensity != "low"
    assert "down" not in reflection.feelings[0].words  # "put down" is not the poster's feeling word


def test_a_shared_subject_stays_together_in_a_long_post() -> None:
    reflection = reflect("my dad and i got into it again last night and now he won't look at me")
    content = next(s.text for s in reflection.suggestions if s.style == "content")
    assert "you and your dad" in content


def test_an_object_pronoun_at_the_end_is_kept() -> None:
    reflection = reflect("me and my cousin stopped talking and i really miss her")
    content = next(s.text for s in reflection.suggestions if s.style == "content")
    assert not content.rstrip(".").endswith("miss")


def test_a_cue_inside_a_contraction_does_not_count() -> None:
    # "won" (a good outcome) must not be read inside "won't".
    assert reflect("my brother won't talk to me after the argument").feelings[0].family != "joyful"
