"""Replaying exports through the real engine: reply resolution, counts, top examples, daily rows."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from bot.replay.outputs import JsonlSink
from bot.replay.run import ReplaySummary, message_link, replay_export
from bot.replay.synthetic import write_export as write_synthetic
from tests.replay.helpers import GUILD_ID, SAMPLE, message, write_export


def replay_with_lines(path: Path, **kwargs: Any) -> tuple[ReplaySummary, list[dict[str, Any]]]:
    """Replay ``path`` and return the summary and the JSONL records."""
    out = io.StringIO()
    summary = replay_export(path, sinks=[JsonlSink(out)], **kwargs)
    return summary, [json.loads(line) for line in out.getvalue().splitlines()]


def test_sample_export() -> None:
    summary, lines = replay_with_lines(SAMPLE)
    assert summary.messages_read == 3
    assert summary.analysed == 2 and summary.skipped == {"bot": 1}
    post, reply = lines
    assert post["kind"] == "post" and post["post_id"] is None
    assert reply["kind"] == "reply" and reply["post_id"] == post["id"]
    assert reply["link"] == f"https://discord.com/channels/{GUILD_ID}/885169254029213696/{reply['id']}"
    assert reply["action"] in {"flag", "nudge"}, "'you should just get over it' is not listening"
    assert "content" not in reply and "text" not in reply, "per-message results carry no message text"


def test_reply_whose_target_is_outside_the_export_is_read_on_its_own(tmp_path: Path) -> None:
    path = write_export(
        tmp_path / "x.json",
        [
            message(10, "I've been feeling so alone lately", author="1"),
            message(11, "That sounds really lonely. What's been the hardest part?", author="2", reply_to=10),
            message(12, "you should just get over it", author="3", reply_to=9),  # 9 is not in the export
        ],
    )
    summary, lines = replay_with_lines(path)
    by_id = {line["id"]: line for line in lines}
    assert by_id["11"]["kind"] == "reply" and by_id["11"]["post_id"] == "10"
    assert by_id["11"]["target_missing"] is False
    assert by_id["12"]["kind"] == "post" and by_id["12"]["target_missing"] is True
    assert summary.replies_target_missing == 1
    assert summary.replies == 1 and summary.posts == 2


def test_self_replies_and_replies_to_bots_are_not_answers_to_someone_else(tmp_path: Path) -> None:
    path = write_export(
        tmp_path / "x.json",
        [
            message(20, "work is a lot right now", author="1"),
            message(21, "and my sister is sick", author="1", reply_to=20),
            message(22, "Here are some resources", author="99", is_bot=True),
            message(23, "thanks bot", author="1", reply_to=22),
        ],
    )
    summary, lines = replay_with_lines(path)
    assert [line["kind"] for line in lines] == ["post", "post", "post"]
    assert summary.skipped == {"bot": 1}


def test_thread_messages_answer_the_thread_starter(tmp_path: Path) -> None:
    thread_id = "5000"
    path = write_export(
        tmp_path / "thread.json",
        [
            message(5000, "I failed my exam and I feel like such a failure", author="1"),
            message(5001, "That sounds really discouraging.", author="2"),
            message(5002, "thank you, it really is", author="1"),
        ],
        channel_type="GuildPublicThread",
        channel_id=thread_id,
    )
    _, lines = replay_with_lines(path)
    assert [(line["kind"], line["post_id"]) for line in lines] == [
        ("post", None),
        ("reply", "5000"),
        ("post", None),
    ]


def test_system_empty_and_forwarded_messages_are_skipped_and_counted(tmp_path: Path) -> None:
    forwarded = message(33, "", author="2")
    forwarded["reference"] = {"type": "Forward", "messageId": "1", "channelId": "2"}
    forwarded["forwardedMessage"] = {"content": "something from elsewhere"}
    path = write_export(
        tmp_path / "x.json",
        [
            message(30, "hello", author="1"),
            message(31, "", author="2", kind="GuildMemberJoin"),
            message(32, "   ", author="2"),
            forwarded,
        ],
    )
    summary, lines = replay_with_lines(path)
    assert len(lines) == 1
    assert summary.skipped == {"system": 1, "empty": 1, "forwarded": 1}


def test_generated_export_counts_add_up(tmp_path: Path) -> None:
    generated = write_synthetic(tmp_path / "gen.json", 3000, seed=11)
    progress_calls: list[tuple[int, int, int]] = []
    summary, lines = replay_with_lines(
        generated.path, top=5, progress=lambda *args: progress_calls.append(args)
    )
    s = summary
    assert s.messages_read == 3000
    assert s.analysed + sum(s.skipped.values()) == 3000
    assert s.skipped["bot"] == generated.bot_messages
    assert s.replies_target_missing == generated.replies_to_missing
    assert len(lines) == s.analysed
    assert sum(s.actions.values()) == s.analysed
    assert s.actions["flag"] > 0 and s.actions["nudge"] > 0
    assert len(s.top_flags) == 5 and len(s.top_nudges) == 5
    confidences = [max(r.confidence for r in e.analysis.roadblocks) for e in s.top_flags]
    assert confidences == sorted(confidences, reverse=True)
    assert all(e.link and e.link.startswith("https://discord.com/channels/") for e in s.top_flags)
    assert sum(day.replies_seen for day in s.days) == s.replies
    assert sum(day.nudges_sent for day in s.days) <= s.actions["nudge"]
    assert progress_calls and progress_calls[-1][0] == 3000
    assert s.messages_per_second > 0


def test_links_for_dm_exports_and_missing_channel() -> None:
    from bot.replay.export import ExportHeader

    assert message_link(ExportHeader("0", "Direct Messages", "42", None, None), "7") == (
        "https://discord.com/channels/@me/42/7"
    )
    assert message_link(ExportHeader(None, None, None, None, None), "7") is None


def test_worker_processes_give_the_same_results_in_the_same_order(tmp_path: Path) -> None:
    generated = write_synthetic(tmp_path / "gen.json", 4500, seed=5)  # three batches
    serial, serial_lines = replay_with_lines(generated.path, jobs=1)
    parallel, parallel_lines = replay_with_lines(generated.path, jobs=2)
    assert parallel_lines == serial_lines
    assert parallel.actions == serial.actions and parallel.codes == serial.codes
    assert [e.message_id for e in parallel.top_flags] == [e.message_id for e in serial.top_flags]
    assert parallel.days == serial.days
