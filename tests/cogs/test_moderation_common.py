"""The pure helpers of the moderator tooling: excerpts, thresholds and code switches, helplines, texts."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.listening.types import Analysis, Roadblock
from cogs._moderation_common import (
    clean_helplines,
    excerpt_of,
    flaggable_roadblocks,
    jump_link,
    moderation_texts,
    sensitivity_thresholds,
)


def roadblock(code: str, confidence: float, span: tuple[int, int] = (0, 4), tier: str = "flag") -> Roadblock:
    """A roadblock with placeholder wording."""
    return Roadblock(code=code, tier=tier, span=span, confidence=confidence, reason="r", try_instead="t")  # type: ignore[arg-type]


def test_excerpt_keeps_only_matched_spans() -> None:
    text = "I hear you, but honestly that's your own fault and you're pathetic. Anyway."
    start = text.index("your own fault")
    second = text.index("pathetic")
    excerpt = excerpt_of(text, [(start, start + 14), (second, second + 8)])
    assert excerpt == "your own fault … pathetic"


def test_excerpt_neutralises_mentions_links_and_markdown() -> None:
    text = "<@123> **you** are a joke https://example.com/x @everyone"
    excerpt = excerpt_of(text, [(0, len(text))])
    assert excerpt is not None
    assert "<@123>" not in excerpt and "@everyone" not in excerpt and "https://" not in excerpt
    assert "\\*\\*you\\*\\*" in excerpt and "[link]" in excerpt


def test_excerpt_merges_overlaps_and_ignores_bad_spans() -> None:
    text = "abcdefghij"
    assert excerpt_of(text, [(0, 4), (2, 6), (8, 8), (20, 30)]) == "abcdef"
    assert excerpt_of(text, []) is None
    assert excerpt_of("   ", [(0, 3)]) is None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=4000), st.lists(st.tuples(st.integers(-5, 4100), st.integers(-5, 4100)), max_size=6))
def test_excerpt_is_never_longer_than_200(text: str, spans: list[tuple[int, int]]) -> None:
    excerpt = excerpt_of(text, spans)
    assert excerpt is None or 0 < len(excerpt) <= 200


def test_flaggable_applies_threshold_tier_and_switches() -> None:
    analysis = Analysis(
        text="x",
        roadblocks=(
            roadblock("judging_blaming", 0.9),
            roadblock("judging_blaming", 0.7),
            roadblock("labeling_shaming", 0.5),
            roadblock("advice_unasked", 0.99, tier="nudge"),
            roadblock("hostility", 0.95),
        ),
        action="flag",
    )
    codes = [(r.code, r.confidence) for r in flaggable_roadblocks(analysis, threshold=0.6)]
    assert codes == [("hostility", 0.95), ("judging_blaming", 0.9)]
    lower = [r.code for r in flaggable_roadblocks(analysis, threshold=0.45)]
    assert lower == ["hostility", "judging_blaming", "labeling_shaming"]
    switched = [r.code for r in flaggable_roadblocks(analysis, threshold=0.45, disabled={"hostility"})]
    assert switched == ["judging_blaming", "labeling_shaming"]


def test_sensitivities_are_ordered() -> None:
    thresholds = sensitivity_thresholds()
    assert thresholds["conservative"] > thresholds["balanced"] > thresholds["sensitive"] > 0


def test_clean_helplines() -> None:
    assert clean_helplines("• US: 988\n\n - UK: 116 123 <@&55>\n") == ["US: 988", "UK: 116 123"]
    assert clean_helplines("   \n\n") == []
    assert clean_helplines("x" * 201) is None
    assert clean_helplines("\n".join(f"line {n}" for n in range(11))) is None


def test_jump_links() -> None:
    assert jump_link(1, 2, 3) == "https://discord.com/channels/1/2/3"
    assert jump_link(None, 2, 3) == "https://discord.com/channels/@me/2/3"


def test_member_facing_texts_follow_safe_messaging() -> None:
    texts = moderation_texts()
    greeting = texts.get("checkin.greeting", name="alex")
    assert "software" in greeting and "not a crisis service" in greeting
    defaults = " ".join(texts.lines("helplines.defaults"))
    assert "988" in defaults and "741741" in defaults and "116 123" in defaults and "befrienders" in defaults
    everything = " ".join(
        texts.get(key)
        for key in (
            "checkin.noticed",
            "checkin.emergency",
            "checkin.helplines_heading",
            "crisis_alert.guidance",
        )
        if "{" not in texts.get(key)
    ).lower()
    for word in ("committed suicide", "successful", "failed attempt", "method"):
        assert word not in everything


def test_forgotten_members_are_named_neutrally() -> None:
    from cogs._moderation_common import member_ref

    assert member_ref(42) == "<@42> (`42`)"
    assert member_ref(42, with_id=False) == "<@42>"
    assert member_ref(0) == member_ref(None) == "a member who asked Heard to forget them"


def test_every_text_the_cogs_use_exists() -> None:
    import re
    from pathlib import Path

    texts = moderation_texts()
    root = Path(__file__).resolve().parents[2]
    used: set[str] = set()
    for name in ("cogs/moderation.py", "cogs/crisis.py", "cogs/_moderation_common.py"):
        used |= set(re.findall(r"""\.get\(\s*f?["']([a-z_]+\.[a-z_{}]+)["']""", (root / name).read_text()))
    assert used, "no text keys found"
    for key in sorted(used):
        if "{" in key:  # f-string keys such as replies.blocked_{problem}
            prefix = key.split("{")[0]
            for problem in ("missing_permissions", "channel_deleted", "no_channel"):
                assert texts._node(prefix + problem), key
            continue
        assert texts._node(key) is not None, key


def test_crisis_embed_renders_every_state_without_text() -> None:
    from bot.storage.crisis import CrisisAlert
    from cogs.crisis import crisis_embed

    for level in ("concern", "urgent"):
        for result in (None, "dm", "failed_dms_closed", "failed", "skipped"):
            for in_dm in (False, True):
                alert = CrisisAlert(
                    id=3,
                    guild_id=1,
                    author_id=0 if in_dm else 7,
                    channel_id=2,
                    message_id=5,
                    in_dm=in_dm,
                    level=level,
                    indicators=("hopelessness", "goodbye"),
                    occurrences=2,
                    latest_channel_id=2,
                    latest_message_id=6,
                    status="acknowledged",
                    checkin_result=result,
                    acknowledged_by=9,
                    acknowledged_at="2026-01-05T12:00:00.000000+00:00",
                    created_at="2026-01-05T12:00:00.000000+00:00",
                    last_seen_at="2026-01-05T12:00:00.000000+00:00",
                )
                embed = crisis_embed(alert).to_dict()
                assert embed["footer"]["text"] == "Heard crisis alert #3"
                rendered = str(embed)
                assert "Hopelessness" in rendered and "Taken by <@9>" in rendered
