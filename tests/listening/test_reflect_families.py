"""Reading the feeling family of a post: typos, mixed feelings, someone else's words, idioms, event kinds."""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest

from bot.listening import reflect
from bot.listening.types import FEELING_FAMILIES


def _family(post: str) -> str:
    feelings = reflect(post).feelings
    return feelings[0].family if feelings else "none"


@pytest.mark.parametrize(
    ("post", "family"),
    [
        # a feeling word typed with one slip, or stretched
        ("sooo scaredd rn my mom found my vape", "scared"),
        ("lowkey anxous about the interview, mind goes blank", "scared"),
        ("im so exausted i could sleep for a week", "depleted"),
        # slang for a feeling
        ("tilted beyond belief, my duo threw the whole match", "mad"),
        ("my social battery is at 0%, nobody talk to me", "depleted"),
        ("ngl i'm kinda shook, my ex just showed up at my work", "scared"),
    ],
)
def test_typed_and_slang_feeling_words_are_read(post: str, family: str) -> None:
    assert _family(post) == family


@pytest.mark.parametrize(
    ("post", "family"),
    [
        ("a little nervous but mostly SO excited, we fly out tomorrow", "joyful"),
        ("relieved the surgery is over but still really scared about the biopsy", "scared"),
        ("proud that i graduated but mostly just sad my dad wasn't there", "sad"),
    ],
)
def test_the_main_feeling_of_a_mixed_post_wins(post: str, family: str) -> None:
    assert _family(post) == family


def test_quoted_words_are_someone_elses() -> None:
    post = 'i caught my boyfriend texting his ex "i miss you so much" at 2am'
    assert _family(post) == "mad"


def test_a_feeling_of_someone_else_counts_less() -> None:
    post = "we had to leave our dog at the shelter. he looked so confused when we walked away"
    assert _family(post) != "scared"


def test_an_ache_is_not_a_feeling() -> None:
    assert _family("studied 14 hours a day for the boards and my eyes hurt") == "depleted"


@pytest.mark.parametrize(
    "post",
    [
        "my sister's wedding was so emotional i nearly died of happiness",
        "i've been laughing so hard i'm literally dying, my dad found snapchat filters",
    ],
)
def test_figures_of_speech_are_not_events(post: str) -> None:
    assert _family(post) == "joyful"


@pytest.mark.parametrize(
    ("post", "family"),
    [
        ("my coworker keeps taking credit for my work in meetings", "mad"),
        ("my landlord entered my apartment without notice", "mad"),
        ("my husband hasn't come home and his phone goes straight to voicemail", "scared"),
        ("12 hour shift at the hospital and then charting at home", "depleted"),
        ("i've been covering two people's jobs since march and they still haven't hired anyone", "depleted"),
        ("90 days sober today", "powerful"),
        ("the sink broke and i fixed it myself, no plumber needed", "powerful"),
        ("nobody showed up to my birthday party", "sad"),
        ("my hamster passed this morning, buried him in the garden", "sad"),
        ("the doctor said i'm in remission", "joyful"),
        ("i finally made peace with my brother before he moved", "peaceful"),
    ],
)
def test_the_kind_of_event_suggests_a_family(post: str, family: str) -> None:
    assert _family(post) == family


def test_a_struggle_with_no_named_feeling_gets_the_gentlest_tentative_guess() -> None:
    reflection = reflect("i wish things were different this year, idk")
    assert reflection.feelings[0].family == "sad"
    assert reflection.feelings[0].words == ("down",)
    assert reflection.suggestions[0].text.startswith(("Maybe", "It sounds like you might", "It could be"))


def test_a_plain_question_names_no_feeling() -> None:
    assert reflect("what time does the stream start tonight").feelings == ()


@pytest.mark.parametrize("word", ["deleted", "reading", "please", "exited", "sacred", "started"])
def test_real_words_are_not_read_as_typos_of_feelings(word: str) -> None:
    assert _family(f"the file got {word} this afternoon") == "none"


def _reflect_data() -> dict[str, object]:
    text = resources.files("bot.listening.data").joinpath("reflect.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def test_every_event_rule_names_a_family_and_three_words() -> None:
    data = _reflect_data()
    rules = data["appraisal"]
    assert isinstance(rules, list) and rules
    for rule in rules:
        assert rule["family"] in FEELING_FAMILIES, rule["name"]
        assert len(rule["words"]) == 3, rule["name"]
        assert rule["cues"], rule["name"]
        assert all(cue == cue.lower() for cue in rule["cues"]), rule["name"]
    fallback = data["fallback"]
    assert isinstance(fallback, dict) and fallback["family"] in FEELING_FAMILIES
