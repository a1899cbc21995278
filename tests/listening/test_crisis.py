"""Crisis language: every indicator has positives and hard negatives; levels follow the safety rules.

Examples are written for these tests (not taken from the corpus).
"""

from __future__ import annotations

import pytest

from bot.listening import analyze, analyze_post
from bot.listening.types import CRISIS_INDICATORS

POSITIVES: list[tuple[str, str]] = [
    ("explicit_ideation", "honestly i just want to die, i'm so tired of all of it"),
    ("explicit_ideation", "been having suicidal thoughts again since the move"),
    ("coded_ideation", "lowkey wanna unalive myself after that meeting"),
    ("coded_ideation", "k.m.s fr, i can't keep doing this"),
    ("coded_ideation", "i just want to go to sleep and never wake up"),
    ("explicit_ideation", "k!ll mys3lf lol no i mean it"),
    ("coded_ideation", "thinking about the sewer slide again ngl"),
    ("burdensomeness", "everyone would honestly be better off without me"),
    ("burdensomeness", "i'm nothing but a burden to my family"),
    ("hopelessness", "nothing is ever going to get better and there's no point in living"),
    ("entrapment", "there's no way out of this and i can't take it anymore"),
    ("goodbye", "this is my last message. thank you all for everything, goodbye"),
    ("goodbye", "been giving away all my stuff to friends this week"),
    ("means_seeking", "how many of my sleeping pills would it take to not wake up"),
    ("third_party", "my best friend keeps saying she wants to kill herself and i don't know what to do"),
    ("third_party", "asking for a friend, what's the least painful way to go"),
    ("recent_self_harm", "i cut again last night after two months clean"),
    ("command_voices", "the voices keep telling me to hurt myself"),
]

MORE_POSITIVES: list[str] = [
    "i don't think i can do this much longer",
    "honestly i'd be fine if i just didn't wake up tomorrow",
    "it'd be so easy to just drive into a wall on the way home",
    "i keep picturing my own funeral",
    "sh urges are so bad tonight i might relapse",
    "if i'm gone tomorrow just know i loved you guys",
    "i'm so done with life fr",
    "i don't wanna be alive anymore",
    "been thinking about swerving into traffic on my commute",
    "idk how much longer i can keep going",
    "i cut myself on purpose last night",
    "i want to jump in front of a train",
    "bye everyone. thank you for everything 🖤",
    "i wnat to die so bad",
    "my family would be happier w/o me",
    "honestly what's the point of living anymore",
    "dont know if ill still be here next week",
    "i can't see any way out of this mess",
    "i slit my wrist last night",
    # General forms (not one sentence each): thinking about it every day, so close, why keep living...
    "i think about dying every single day",
    "i'm so close to just ending everything",
    "why should i keep living",
    "i'm the reason my parents fight. if i wasn't here they'd be fine",
    "relapsed on sh after 8 months",
    "how many tylenol would be too much",
    "my sister has been cutting and i don't know how to help",
    "i'd rather be dead than keep doing this",
    "what if i just didn't come home tonight",
]


@pytest.mark.parametrize("text", MORE_POSITIVES)
def test_crisis_in_many_wordings_is_read(text: str) -> None:
    assert analyze_post(text).crisis.level != "none", text


NEGATIVES: list[str] = [
    "this chem homework is killing me lol",
    "i'd die for a taco right now",
    "dead 😂😂 that meme",
    "finally killed the boss after dying like 20 times",
    "kill yourself in game to respawn at the last checkpoint",
    "i'm not suicidal, just really burnt out from work",
    "i would never hurt myself, i just needed to vent",
    "two years clean from self harm today!! so proud",
    "the song goes 'i wanna die young' and it's stuck in my head",
    "in the book the main character wants to die and it hit hard",
    "i killed it at my presentation today",
    "dying to see the new movie this weekend",
    "kill the heat once the sauce starts bubbling",
    "what's the point of this meeting honestly",
    "ugh i'm exhausted, work has been nonstop",
    "i wish i could disappear from this group project lol",
    "i tried to kill myself when i was 16. now i'm doing so much better",
    "i'd rather die than sit through another zoom meeting lol",
    "gonna jump in the pool after work",
    "i scraped my knee on purpose to get out of pe lol jk i tripped",
    "nobody would notice if i left the call early right?",
    "no way out of this group project lmao",
    "rip to my old laptop, it finally died",
    "won't be around this weekend, visiting family",
    "bye guys, thanks for everything today, see you tomorrow",
    "gonna jump off the high dive at the pool lol",
    "everyone would be better off without my singing lol",
    "i got the promotion but i'm scared i won't be good at it",
    "deleted tiktok for good, my screen time was insane",
    "i won't be here tomorrow, dentist appointment",
    "can't take another day of this heat",
    "my inner voice keeps telling me to buy more plants",
    "i'd rather die than go back to that dentist",
    "i'm at the bridge with my dog, the sunset is unreal",
    "just took my meds, feeling chill now",
    "can you overdose on vitamin c? asking bc of a cold",
    "i don't want to live in this city anymore, looking at flats",
    "i'm leaving this server for good, too much drama here",
    "the end of the semester is so close, one last exam and i'm free",
    "my emo playlist is all songs about wanting to die lol, i'm 30 and thriving now",
]


@pytest.mark.parametrize(("indicator", "text"), POSITIVES)
def test_each_indicator_is_found(indicator: str, text: str) -> None:
    crisis = analyze_post(text).crisis
    assert crisis.level in ("concern", "urgent"), text
    assert indicator in crisis.kinds, (text, crisis.kinds)
    for found in crisis.indicators:
        start, end = found.span
        assert 0 <= start < end <= len(text)


def test_every_indicator_has_a_positive_example() -> None:
    covered = {code for code, _ in POSITIVES} | {"retraction"}
    assert covered == set(CRISIS_INDICATORS)


@pytest.mark.parametrize("text", NEGATIVES)
def test_idioms_gaming_fiction_negation_and_recovery_are_not_crisis(text: str) -> None:
    assert analyze_post(text).crisis.level == "none", (text, analyze_post(text).crisis.kinds)


def test_a_retraction_after_a_disclosure_stays_elevated() -> None:
    crisis = analyze_post("i want to end it all. jk lol ignore that").crisis
    assert crisis.level != "none"
    assert "retraction" in crisis.kinds


def test_a_retraction_that_names_the_disclosure_stays_elevated() -> None:
    crisis = analyze_post("i was just kidding about the pills thing, i'm all good now haha").crisis
    assert crisis.level != "none"
    assert "retraction" in crisis.kinds


def test_saying_one_means_it_lifts_the_joke_guard() -> None:
    assert analyze_post("dying lol. no seriously, i want to die").crisis.level != "none"
    assert analyze_post("i want to die lol. no seriously").crisis.level != "none"


def test_a_retraction_on_its_own_is_not_a_crisis() -> None:
    assert analyze_post("jk lol ignore that, wrong channel").crisis.level == "none"


@pytest.mark.parametrize(
    "text",
    [
        "i'm going to kill myself tonight after everyone's asleep",
        "i already took all my pills, i just wanted to say bye",
        "i have the rope ready and i want to end it",
        "i've got a plan and a date, i want to die",
        "i'm ctb this weekend, nothing is ever gonna change",
        "just burned myself again and i can't take this anymore",
        "im on the bridge rn and i want to die",
        "pills are counted. i want to die",
    ],
)
def test_plan_means_time_or_act_in_progress_is_urgent(text: str) -> None:
    assert analyze_post(text).crisis.level == "urgent", text


def test_concern_without_plan_or_time_is_not_urgent() -> None:
    assert analyze_post("sometimes i wish i didn't exist").crisis.level == "concern"


def test_a_reply_can_carry_crisis_language_too() -> None:
    assert analyze("same honestly, i want to die too", post="work is hell").crisis.level != "none"


@pytest.mark.parametrize(
    "reply",
    [
        "honestly you should just quit, nobody deserves a manager like that",
        "you're being so dramatic about this, nobody cares about one comment",
        "i'm so sorry, losing him is so hard. how are you holding up?",
    ],
)
def test_ordinary_replies_are_not_read_as_crisis(reply: str) -> None:
    assert analyze(reply, post="my manager yelled at me again today").crisis.level == "none"
    assert analyze(reply).crisis.level == "none"
