"""Roadblocks: a positive and hard negatives for every code, and the context rules around them.

The examples are written for these tests (not taken from the corpus).
"""

from __future__ import annotations

import pytest

from bot.listening import SENSITIVITY_THRESHOLDS, analyze
from bot.listening.types import FLAG_CODES, ROADBLOCK_CODES

SAD_POST = "my rabbit died this morning and the hutch just sits there empty. i keep checking on it"
EXAM_POST = "bombed my stats final after pulling two all nighters. so tired and honestly kind of crushed"
CRISIS_POST = "i can't do this anymore. everyone would be better off without me"

POSITIVES: list[tuple[str, str, str]] = [
    ("advice_unasked", "have you tried meditating before bed? it fixed my sleep", EXAM_POST),
    ("advice_unasked", "you should really look into a study group next term", EXAM_POST),
    ("directing", "just get over it and move on, it was one test", EXAM_POST),
    ("directing", "stop overthinking it. go to bed.", EXAM_POST),
    ("warning", "keep pulling all nighters and you'll end up failing everything", EXAM_POST),
    ("moralizing", "you ought to be grateful you even get to go to uni", EXAM_POST),
    ("arguing", "statistically one final barely moves your gpa", EXAM_POST),
    ("minimizing", "lol it's not that deep, it's just one final", EXAM_POST),
    ("feeling_policing", "don't be sad, it's only a rabbit", SAD_POST),
    ("feeling_policing", "there's no reason to feel crushed over a grade", EXAM_POST),
    ("toxic_positivity", "everything happens for a reason!! good vibes only", SAD_POST),
    ("comparison", "at least you had him for a few years, some people never get a pet", SAD_POST),
    (
        "hijacking",
        "i know exactly how you feel. my dog died last year and i cried for a month straight",
        SAD_POST,
    ),
    ("interrogating", "why didn't you study earlier? why would you leave it to the last night?", EXAM_POST),
    ("deflecting", "anyway did you see the new season dropped?? so good", SAD_POST),
    ("judging_blaming", "honestly that's on you, you brought this on yourself by cramming", EXAM_POST),
    ("judging_blaming", "you should've started revising weeks ago", EXAM_POST),
    ("labeling_shaming", "you're being such a drama queen about a rabbit", SAD_POST),
    ("labeling_shaming", "stop being a crybaby lol", EXAM_POST),
    ("diagnosing", "sounds like you have adhd tbh, classic executive dysfunction", EXAM_POST),
    ("diagnosing", "you're only upset because you're a perfectionist deep down", EXAM_POST),
    ("guilt_or_debate_life", "think about how your family would feel, that would be so selfish", CRISIS_POST),
    ("guilt_or_debate_life", "suicide is never the answer, you have so much to live for", CRISIS_POST),
    ("hostility", "nobody cares lol, go cry somewhere else", SAD_POST),
    ("hostility", "you're a pathetic idiot", EXAM_POST),
]

HARD_NEGATIVES: list[tuple[str, str]] = [
    # advice that was asked for
    ("what helped me was doing past papers under timed conditions", "any tips for my resit? i'm lost"),
    # advice after asking permission
    ("would it help to hear what worked for me? no pressure if you just need to vent", EXAM_POST),
    (
        "if you want ideas, one thing that helped me was a short walk before studying. "
        "you know yourself best though",
        EXAM_POST,
    ),
    # a reflection and one open question
    (
        "that sounds exhausting, two all nighters and it still didn't go your way. "
        "what's been the hardest part?",
        EXAM_POST,
    ),
    # validation and a kind "at least" about the replier
    ("it makes total sense that you feel crushed. at least i can say i get it, i've been there", EXAM_POST),
    # brief self-disclosure that hands the focus back
    (
        "same thing happened to me with my guinea pig last year, it was rough. how are you holding up?",
        SAD_POST,
    ),
    # the poster's own "should", reflected back
    ("you said you feel like you should be over it already. that's a lot of pressure to carry", SAD_POST),
    # quoting a rude person to support the poster
    ("your brother said \"you're so dramatic\"?? that's not ok at all", SAD_POST),
    # "why" used warmly
    ("no wonder you're tired, you've been running on nothing", EXAM_POST),
    # humour the poster started
    ("lmaooo the audacity of that exam", "my stats final asked about a topic we never covered lmao 💀"),
    # crisis-aware support
    (
        "i'm really glad you told us. are you safe right now? you don't have to go through this alone",
        CRISIS_POST,
    ),
    # negated label
    ("you're not dramatic at all, losing him hurts", SAD_POST),
    ("i don't think you're lazy, you're exhausted", EXAM_POST),
    # kind phrases that look like commands
    ("take care of yourself tonight ❤️ sending hugs", SAD_POST),
    ("you don't have to explain anything, grief is weird", SAD_POST),
    ("you deserve rest after that week", EXAM_POST),
]


@pytest.mark.parametrize(("code", "reply", "post"), POSITIVES)
def test_each_code_is_found(code: str, reply: str, post: str) -> None:
    analysis = analyze(reply, post=post)
    assert code in analysis.codes, (reply, analysis.codes)
    found = next(r for r in analysis.roadblocks if r.code == code)
    start, end = found.span
    assert 0 <= start < end <= len(reply)
    assert found.tier == ("flag" if code in FLAG_CODES else "nudge")
    assert 0.0 <= found.confidence <= 1.0
    assert found.reason and found.try_instead


def test_every_code_has_a_positive_example() -> None:
    assert {code for code, _, _ in POSITIVES} == set(ROADBLOCK_CODES)


@pytest.mark.parametrize(("reply", "post"), HARD_NEGATIVES)
def test_hard_negatives_are_left_alone(reply: str, post: str) -> None:
    analysis = analyze(reply, post=post)
    assert analysis.action == "none", (reply, [(r.code, r.confidence) for r in analysis.roadblocks])


# Flag-tier replies written in many voices (the patterns generalise beyond fixed sentences).
MORE_FLAGS: list[tuple[str, str]] = [
    ("i keep getting ghosted after first dates", "maybe you're just boring to talk to"),
    ("my teacher humiliated me in class", "you probably deserved it tbh"),
    ("i'm lonely all the time", "i wonder why 🙄"),
    ("my friends forgot my birthday", "maybe they don't actually like you"),
    ("i want to die", "nobody's going to miss you anyway"),
    ("i keep messing up at work", "are you stupid or something?"),
    ("i was assaulted", "what were you wearing"),
    ("i feel ugly", "well you're not wrong lol"),
    ("i don't want to live", "selfish much?"),
    ("i self harmed again", "you're just doing it for attention at this point"),
    ("i got food poisoning", "you should know better than to eat gas station sushi"),
    ("i yelled at my mom", "wow, you're a terrible daughter"),
    ("i got dumped", "he probably got bored of you"),
    ("i failed my driving test", "what's wrong with you lol"),
    ("my boss yelled at me", "sounds like a you problem"),
    ("i keep losing my keys", "you def have adhd lol"),
    ("i cried at work", "you should be ashamed of yourself"),
    ("i got a c on my essay", "ur just lazy tbh"),
]

MORE_KIND: list[tuple[str, str]] = [
    ("my ex cheated on me", "that's disgusting of him, you deserved so much better"),
    ("i got the job!!", "omg go you!! you deserve it so much"),
    ("lol i tripped in front of my crush 💀", "LMAOO noo that's so embarrassing, i'm dead 😭"),
    ("i feel ugly", "i get that feeling, it's really rough. what's been bringing it up?"),
    (
        "my mom says i'm lazy",
        "that must sting coming from your mom. you don't sound lazy, you sound exhausted",
    ),
    ("i think i'm ugly", "i don't think you're ugly at all, and that voice in your head is lying"),
    ("i yelled at my mom", "you're not a terrible daughter for losing your temper once. how are things now?"),
    ("my friend said i'm the problem", "you're not the problem just because one person said so"),
    ("i failed my driving test", "there's nothing wrong with you, those examiners are brutal"),
]


@pytest.mark.parametrize(("post", "reply"), MORE_FLAGS)
def test_judgmental_replies_in_many_voices_are_flagged(post: str, reply: str) -> None:
    assert analyze(reply, post=post).action == "flag", reply


@pytest.mark.parametrize(("post", "reply"), MORE_KIND)
def test_strong_words_used_kindly_are_not_flagged(post: str, reply: str) -> None:
    assert analyze(reply, post=post).action == "none", reply


def test_action_is_flag_for_flag_tier_and_nudge_otherwise() -> None:
    assert analyze("you're such a crybaby", post=EXAM_POST).action == "flag"
    assert analyze("have you tried flashcards?", post=EXAM_POST).action == "nudge"
    assert analyze("that sounds really hard. how are you feeling now?", post=EXAM_POST).action == "none"


def test_advice_is_fine_when_the_post_asked_for_it() -> None:
    reply = "you should try the pomodoro thing, 25 minutes on and 5 off"
    assert analyze(reply, post=EXAM_POST).action == "nudge"
    assert analyze(reply, post="any tips for focusing? i keep zoning out").action == "none"


def test_guilt_needs_a_crisis_context() -> None:
    reply = "think about your family"
    assert "guilt_or_debate_life" in analyze(reply, post=CRISIS_POST).codes
    assert "guilt_or_debate_life" not in analyze(reply, post=EXAM_POST).codes


def test_try_instead_is_built_from_the_posts_feelings() -> None:
    analysis = analyze("have you tried flashcards?", post=EXAM_POST)
    assert "crushed" in analysis.roadblocks[0].try_instead or "tired" in analysis.roadblocks[0].try_instead


def test_sensitivity_thresholds_are_ordered() -> None:
    assert SENSITIVITY_THRESHOLDS["sensitive"] < SENSITIVITY_THRESHOLDS["balanced"]
    assert SENSITIVITY_THRESHOLDS["balanced"] < SENSITIVITY_THRESHOLDS["conservative"]
    analysis = analyze("you're so dramatic", post=SAD_POST)
    assert all(r.confidence >= SENSITIVITY_THRESHOLDS["sensitive"] for r in analysis.roadblocks)


def test_spans_point_into_the_original_text_even_after_cleanup() -> None:
    reply = "**Honestly**   yoooou’re sooo DRAMATIC"
    analysis = analyze(reply, post=SAD_POST)
    block = next(r for r in analysis.roadblocks if r.code == "labeling_shaming")
    assert "DRAMATIC" in reply[block.span[0] : block.span[1]]
