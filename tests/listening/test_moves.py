"""Listening moves are recognised, with spans into the reply."""

from __future__ import annotations

import pytest

from bot.listening import analyze

POST = "my landlord is raising the rent again and i don't know how i'll cover it"


@pytest.mark.parametrize(
    ("move", "reply"),
    [
        ("reflection", "it sounds like you're stuck between a rent hike and nowhere else to go"),
        ("feeling_acknowledgement", "ugh that sounds so stressful, i'm really sorry"),
        ("validation", "that makes total sense, anyone would be anxious about that"),
        ("open_question", "what feels most urgent to you right now?"),
        ("affirmation", "it took a lot of courage to ask for help with this"),
        ("permission_asking", "would you like some ideas, or do you just want to vent?"),
        (
            "self_disclosure_brief",
            "i went through the same thing last year, it was awful. how are you holding up?",
        ),
    ],
)
def test_moves_are_found(move: str, reply: str) -> None:
    analysis = analyze(reply, post=POST)
    moves = {m.move for m in analysis.moves}
    assert move in moves, (reply, moves)
    for found in analysis.moves:
        start, end = found.span
        assert 0 <= start < end <= len(reply)


def test_a_closed_question_is_not_an_open_question() -> None:
    assert "open_question" not in {m.move for m in analyze("what a week.", post=POST).moves}


def test_a_reflection_then_one_question_is_fine() -> None:
    analysis = analyze("that sounds really scary. what's worrying you most?", post=POST)
    assert analysis.action == "none"
    assert {"feeling_acknowledgement", "open_question"} <= {m.move for m in analysis.moves}


def test_stacked_why_questions_are_interrogating() -> None:
    analysis = analyze("why did you sign that lease? why didn't you read it? why", post=POST)
    assert "interrogating" in analysis.codes
