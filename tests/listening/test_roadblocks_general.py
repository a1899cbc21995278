"""Roadblocks said in many voices: the general forms added for replies by other authors.

Every example is written for these tests (not taken from any corpus). Each group pairs the forms a
pattern family should catch with the innocent look-alikes it must leave alone.
"""

from __future__ import annotations

import pytest

from bot.listening import analyze

SELF_DOUBT_POST = (
    "honestly today was awful. i messed everything up again and i feel like such a failure, "
    "i dont know why i even bother"
)
WORK_POST = "i feel like everyone at work hates me and i dont know what i did wrong"
CRISIS_POST = "i cant do this anymore. i just want it all to stop, i've been thinking about ending it"
MOVING_POST = "my best friend is moving across the country next week and i'm pretending i'm fine"
ROOMMATE_POST = "my roommate keeps eating my food and i'm so done with it"

# (post, reply): a moderator should see these.
FLAGGED: list[tuple[str, str]] = [
    # armchair diagnoses, with or without "you have"
    (WORK_POST, "sounds like body dysmorphia ngl"),
    (WORK_POST, "u prob have histrionic personality lol"),
    (WORK_POST, "classic imposter syndrome, its all in ur head"),
    (WORK_POST, "ur clearly bipolar, the mood swings are obvious"),
    (WORK_POST, "u kind of sound bpd tbh"),
    (WORK_POST, "u give major autistic vibes"),
    (WORK_POST, "ur probably just insecure and reading into it"),
    (WORK_POST, "thats not depression thats laziness"),
    # labels
    (SELF_DOUBT_POST, "needy much lol"),
    (SELF_DOUBT_POST, "tbh ur kinda insufferable about this stuff"),
    (SELF_DOUBT_POST, "u sound like a spoiled brat"),
    (SELF_DOUBT_POST, "u have zero self awareness"),
    (SELF_DOUBT_POST, "sounds like something a child would say"),
    (SELF_DOUBT_POST, "bro ur 30 and crying over a game"),
    # blame
    (WORK_POST, "maybe if u communicated more they wouldnt hate u"),
    (WORK_POST, "thats bc u never stand up for urself"),
    (WORK_POST, "ur literally the problem in every story u post"),
    (WORK_POST, "did u even try to talk to them"),
    (WORK_POST, "u were warned"),
    (WORK_POST, "nobody owes u anything"),
    (ROOMMATE_POST, "shouldnt have bought snacks if u cant share tbh"),
    # contempt
    (WORK_POST, "this is why ppl dont text u back"),
    (WORK_POST, "lol broke"),
    (WORK_POST, "who even asked"),
    (WORK_POST, "u must be fun at parties"),
    (WORK_POST, "not my problem lol"),
    # agreeing with a put-down
    ("nobody would even notice if i was gone", "ur right probably"),
    ("my mom called me a monster for yelling", "monster is right lol"),
    # guilt about living, in a crisis thread
    (CRISIS_POST, "thats a permanent fix for a temporary problem, dont do it"),
    (CRISIS_POST, "ur mom already lost ur dad, u want her to lose u too?"),
    (CRISIS_POST, "do u know what that would do to ur mom"),
    (CRISIS_POST, "u'd ruin her life"),
    (CRISIS_POST, "ppl with cancer would kill to live"),
    (CRISIS_POST, "ur gonna traumatize whoever finds u"),
]

# (post, reply): kind or neutral replies that share words with the forms above.
NOT_FLAGGED: list[tuple[str, str]] = [
    (WORK_POST, "ur boss is so entitled omg, that's not on u"),
    (WORK_POST, "ur autistic son sounds amazing btw"),
    (WORK_POST, "ur depressed friend is lucky to have u"),
    (WORK_POST, "my brother is such a baby about this stuff too lol, how are u doing with it"),
    (WORK_POST, "i'm such a mess today too lol, anyway how are u holding up?"),
    (WORK_POST, "when u say ur depressed, what does that look like day to day?"),
    (WORK_POST, "ur not the problem here, they are"),
    (WORK_POST, "that's why everyone here loves u"),
    (WORK_POST, "the person who raised you would be so proud of how you're handling this"),
    (WORK_POST, "u deserve to be treated better than that"),
    (WORK_POST, "what do u think would happen if u told them?"),
    (WORK_POST, "i'm glad ur still here and talking. what's making it loudest lately?"),
    (WORK_POST, "u clearly give a lot to that job, it makes sense this stings"),
    (CRISIS_POST, "i'm really glad u told us. are u safe right now?"),
    (MOVING_POST, "u have a lot on ur plate, that sounds so lonely"),
]

# (code, reply, post): nudge-tier general forms.
NUDGES: list[tuple[str, str, str]] = [
    ("warning", "they're definitely gonna find out and it'll be way worse", WORK_POST),
    ("warning", "ur grades are gonna tank if u keep this up", SELF_DOUBT_POST),
    ("minimizing", "one bad day wont matter in a week", SELF_DOUBT_POST),
    ("minimizing", "everyone feels like an outsider sometimes", WORK_POST),
    ("minimizing", "kids adapt so fast, u'll make new friends easy", MOVING_POST),
    ("toxic_positivity", "rejection is just redirection!! 🌟", WORK_POST),
    ("toxic_positivity", "trust the universe ✨", MOVING_POST),
    ("comparison", "some ppl would give anything to have a friend like that", MOVING_POST),
    ("arguing", "well maybe they just had a bad week, u cant assume its about u", WORK_POST),
    ("arguing", "u cant really blame them for being busy", WORK_POST),
    ("hijacking", "my best friend moved too, i was even more lonely than u", MOVING_POST),
    ("deflecting", "anyway what games u playing lately", MOVING_POST),
    ("directing", "time to start going out more", MOVING_POST),
]


@pytest.mark.parametrize(("post", "reply"), FLAGGED)
def test_general_forms_are_flagged(post: str, reply: str) -> None:
    analysis = analyze(reply, post=post)
    assert analysis.action == "flag", (reply, [(r.code, r.confidence) for r in analysis.roadblocks])


@pytest.mark.parametrize(("post", "reply"), NOT_FLAGGED)
def test_look_alikes_are_not_flagged(post: str, reply: str) -> None:
    analysis = analyze(reply, post=post)
    assert analysis.action != "flag", (reply, [(r.code, r.confidence) for r in analysis.roadblocks])


@pytest.mark.parametrize(("code", "reply", "post"), NUDGES)
def test_general_nudge_forms_are_found(code: str, reply: str, post: str) -> None:
    analysis = analyze(reply, post=post)
    assert code in analysis.codes, (reply, analysis.codes)


def test_guilt_forms_stay_quiet_outside_a_crisis_thread() -> None:
    analysis = analyze("think about how disappointed ur mom would be", post=ROOMMATE_POST)
    assert "guilt_or_debate_life" not in analysis.codes


def test_agreement_is_only_cruel_after_a_put_down() -> None:
    cruel = analyze("ur right probably", post="nobody would even notice if i was gone")
    assert "hostility" in cruel.codes
    kind = analyze("ur right probably, the bus is faster", post="is the bus faster than the train?")
    assert "hostility" not in kind.codes


@pytest.mark.parametrize(
    ("move", "reply"),
    [
        ("feeling_acknowledgement", "eating alone every day sounds really isolating"),
        ("feeling_acknowledgement", "that must have felt so dismissive"),
        ("validation", "4am spirals are the worst"),
        ("validation", "having no space of your own would wear anyone down"),
        ("validation", "you're definitely not alone in this"),
        ("open_question", "omg tell us everything"),
    ],
)
def test_commiserating_moves_are_recognised(move: str, reply: str) -> None:
    analysis = analyze(reply, post=WORK_POST)
    assert move in {m.move for m in analysis.moves}, (reply, analysis.moves)


@pytest.mark.parametrize(
    "reply",
    [
        "at least you know now and can email the prof if you want to",
        "at least ur allowed to be over it, anyone would be",
    ],
)
def test_at_least_used_kindly_is_not_a_roadblock(reply: str) -> None:
    analysis = analyze(reply, post=SELF_DOUBT_POST)
    assert "comparison" not in analysis.codes, (reply, analysis.codes)


def test_at_least_as_a_silver_lining_is_still_comparison() -> None:
    analysis = analyze("at least ur not homeless lol", post=SELF_DOUBT_POST)
    assert "comparison" in analysis.codes
