"""The member features' wording and input checks (pure functions, no Discord)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
from cogs._member_common import (
    fit_message,
    format_coaching,
    format_nudge,
    format_reflection,
    member_texts,
    nudge_content,
    quote,
    quote_clause,
    text_problem,
)

SOFTWARE_LINE = "software-written suggestions to adapt in your own words"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "nothing here"),
        ("   \n\t ", "nothing here"),
        ("x" * 4001, "4,000 characters"),
        ("😭😭😭 💀", "emoji only"),
        ("<:sob:123456789012345678> <a:cry:123456789012345679>", "emoji only"),
        ("https://example.com/some/page", "just a link"),
        ("<https://example.com>", "just a link"),
        ("```py\nprint('hi')\n```", "code block"),
        ("<@123456789012345678> <#123456789012345678> @everyone", "mentions"),
        ("!!! ??? ...", "couldn't find any words"),
    ],
)
def test_unusable_text_gets_a_kind_sentence(text: str, expected: str) -> None:
    problem = text_problem(text)
    assert problem is not None and expected in problem


@pytest.mark.parametrize(
    "text",
    [
        "i'm so tired of everything",
        "x" * 4000,
        "my sister said this: ```you never listen``` and it hurt",
        "<@123456789012345678> i feel like nobody gets it 😭 https://example.com",
        "**bold** _feelings_ ~~strike~~ ||spoiler||",
        "je suis épuisée",
    ],
)
def test_usable_text_passes(text: str) -> None:
    assert text_problem(text) is None


def test_empty_message_has_its_own_sentence() -> None:
    problem = text_problem("", from_message=True)
    assert problem is not None and "no text I can read" in problem


def test_quote_is_short_single_line_and_markdown_safe() -> None:
    assert quote("hello\n\n  world") == "hello world"
    assert quote("a" * 200).endswith("…") and len(quote("a" * 200)) <= 90
    assert "\\*" in quote("**bold**")
    assert "@\u200beveryone" in quote("@everyone look")
    assert quote("abcdef", (2, 4)) == "cd"


def test_quoted_clause_runs_to_the_end_of_its_sentence() -> None:
    text = "that sounds hard. have you tried making a schedule? it helped me"
    assert quote_clause(text, (18, 32)) == "have you tried making a schedule?"
    assert quote_clause("that sounds exhausting. ok", (0, 11)) == "that sounds exhausting"
    assert quote_clause("x" * 200, (0, 5)) == "xxxxx"


def reflection(*, crisis: bool = False) -> Reflection:
    """A hand-made engine reflection."""
    return Reflection(
        suggestions=(
            Suggestion("It sounds like you're exhausted.", "feeling"),
            Suggestion("You've been carrying a lot on your own.", "content"),
        ),
        question="What's been the hardest part?",
        feelings=(Feeling("depleted", ("exhausted",), "high"), Feeling("sad", ("lonely",), "mid")),
        crisis=Crisis("concern", (CrisisIndicator("hopelessness", (0, 4)),)) if crisis else Crisis(),
    )


def test_reflection_answer_has_suggestions_question_feelings_and_software_line() -> None:
    text = format_reflection(reflection())
    assert "• It sounds like you're exhausted." in text
    assert "• You've been carrying a lot on your own." in text
    assert "What's been the hardest part?" in text
    assert "exhausted, lonely" in text
    assert SOFTWARE_LINE in text
    assert "crisis service" not in text


def test_reflection_of_a_crisis_post_adds_the_safety_line() -> None:
    assert "not a crisis service" in format_reflection(reflection(crisis=True))


def advice_analysis() -> Analysis:
    """A hand-made analysis of a reply with one move and one roadblock."""
    text = "that sounds exhausting. you should just quit"
    return Analysis(
        text=text,
        roadblocks=(
            Roadblock(
                "advice_unasked",
                "nudge",
                (24, 44),
                0.9,
                "jumps to a fix before they felt heard",
                "Try reflecting first: 'That sounds exhausting.'",
            ),
        ),
        moves=(Move("feeling_acknowledgement", (0, 22)),),
        action="nudge",
    )


def test_coaching_names_moves_roadblocks_and_an_opening_reflection() -> None:
    text = format_coaching(advice_analysis(), reflection())
    assert "What your reply already does well" in text
    assert "Names their feeling: “that sounds exhausting”" in text
    assert "Worth another look" in text
    assert "“you should just quit”: Jumps to a fix before they felt heard." in text
    assert "Try reflecting first" in text
    assert "“It sounds like you're exhausted.”" in text
    assert SOFTWARE_LINE in text


def test_coaching_a_kind_reply_says_so() -> None:
    kind = Analysis(text="that sounds so hard", moves=(Move("validation", (0, 19)),))
    text = format_coaching(kind, None)
    assert "wouldn't change a thing" in text
    assert "Worth another look" not in text
    assert "Check my reply" in text  # the tip about getting a reflection for the post


def test_nudge_has_one_warm_sentence_try_instead_reflection_and_opt_out() -> None:
    content = nudge_content(advice_analysis(), reflection(), place="<#1>", jump_url="https://discord.com/x")
    text = format_nudge(content, intro_guild=None)
    lines = text.splitlines()
    assert lines[0] == (
        "Thanks for showing up for someone in <#1>: "
        "your reply jumps to advice before reflecting what they shared."
    )
    assert "\nTry reflecting first: 'That sounds exhausting.'\n" in text  # already says "Try"
    assert "“It sounds like you're exhausted.”" in text
    assert SOFTWARE_LINE in text
    assert "/nudges off" in text
    assert "Hi, I'm **Heard**" not in text


def test_first_nudge_introduces_heard() -> None:
    content = nudge_content(advice_analysis(), None, place="<#1>", jump_url=None)
    text = format_nudge(content, intro_guild="Peer Support")
    assert text.startswith("Hi, I'm **Heard**, a bot **Peer Support** uses")
    assert "/nudges off" in text


def test_nudge_from_stored_codes_only_uses_a_generic_tip() -> None:
    content = nudge_content(None, None, place="<#1>", jump_url=None, codes=("minimizing",))
    text = format_nudge(content, intro_guild=None)
    assert "might make their problem sound smaller" in text
    assert "**Try instead:** " + member_texts().get("nudge.tip_generic") in text


def test_every_roadblock_code_has_a_nudge_phrase() -> None:
    from bot.listening.types import ROADBLOCK_CODES

    phrases = member_texts().table("nudge.phrases")
    assert set(ROADBLOCK_CODES) <= set(phrases)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=5000))
def test_text_problem_never_raises(text: str) -> None:
    problem = text_problem(text)
    assert problem is None or problem.strip()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=3000), min_size=1, max_size=20))
def test_fit_message_always_fits_discords_limit_and_keeps_the_last_line(lines: list[str]) -> None:
    text = fit_message(lines)
    assert len(text) <= 2000
    if len(lines[-1]) <= 2000:
        assert text.endswith(lines[-1])
    else:
        assert text.endswith("…")


def test_coaching_a_long_draft_with_many_roadblocks_fits_in_one_message() -> None:
    text = "you should stop. " * 230
    roadblocks = tuple(
        Roadblock("directing", "nudge", (n * 17, n * 17 + 15), 0.5 + n / 100, "x" * 300, "Try: " + "y" * 300)
        for n in range(12)
    )
    analysis = Analysis(text=text, roadblocks=roadblocks, action="nudge")
    answer = format_coaching(analysis, reflection())
    assert len(answer) <= 2000
    assert answer.count("\n• ") <= 4
    assert answer.endswith(member_texts().get("software_line"))
