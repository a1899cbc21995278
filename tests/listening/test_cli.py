"""The engine's CLI, run as real subprocesses: analyze, reflect, jsonl streams, bad input, eval, bench."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def heard(*args: str, stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )


def test_analyze_explains_a_reply() -> None:
    result = heard("analyze", "you're so dramatic", "--post", "i cried all night")
    assert result.returncode == 0, result.stderr
    assert "action: flag" in result.stdout
    assert "labeling_shaming" in result.stdout
    assert "try:" in result.stdout


def test_analyze_json() -> None:
    result = heard("analyze", "have you tried yoga?", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["action"] == "nudge"
    assert data["roadblocks"][0]["code"] == "advice_unasked"
    assert set(data) == {"action", "roadblocks", "moves", "crisis", "feelings"}


def test_analyze_rejects_empty_and_too_long_text() -> None:
    empty = heard("analyze", "   ")
    assert empty.returncode == 1 and "empty" in empty.stderr
    long = heard("analyze", "a" * 4001)
    assert long.returncode == 1 and "4,000" in long.stderr
    assert "Traceback" not in empty.stderr + long.stderr


def test_analyze_jsonl_streams_and_reports_bad_lines() -> None:
    lines = [
        json.dumps({"id": "a", "reply": "you should just quit", "post": "my job is awful"}),
        "this is not json",
        json.dumps({"id": "b", "text": "i want to kms tonight"}),
        json.dumps({"id": "c"}),
        json.dumps({"id": "d", "reply": "x" * 4001}),
        json.dumps([1, 2]),
        json.dumps({"id": "e", "reply": "that sounds so hard. how are you doing?"}),
    ]
    result = heard("analyze", "--jsonl", stdin="\n".join(lines) + "\n")
    assert result.returncode == 1
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [item["id"] for item in out] == ["a", "b", "e"]
    assert out[0]["action"] == "nudge"
    assert out[0]["roadblocks"][0].keys() == {"code", "tier", "span", "confidence", "reason", "try_instead"}
    assert out[1]["crisis"]["level"] == "urgent"
    assert out[1]["roadblocks"] == []
    assert "line 2" in result.stderr and "not valid JSON" in result.stderr
    assert "'c'" in result.stderr and "'d'" in result.stderr
    assert "line 6" in result.stderr
    assert "Traceback" not in result.stderr


def test_reflect_and_reflect_jsonl() -> None:
    single = heard("reflect", "my mom and I fought again and i feel so alone")
    assert single.returncode == 0, single.stderr
    assert "[question]" in single.stdout
    lines = [json.dumps({"id": 1, "text": "failed my driving test again"}), json.dumps({"id": 2, "text": ""})]
    stream = heard("reflect", "--jsonl", stdin="\n".join(lines))
    assert stream.returncode == 1
    out = [json.loads(line) for line in stream.stdout.splitlines()]
    assert out[0]["id"] == 1
    assert set(out[0]) == {"id", "suggestions", "question", "feelings"}
    assert out[0]["suggestions"][0].keys() == {"text", "style"}
    assert "id 2" in stream.stderr


def test_large_stream_is_processed_line_by_line() -> None:
    lines = "\n".join(json.dumps({"id": n, "reply": "have you tried sleeping more?"}) for n in range(2000))
    result = heard("analyze", "--jsonl", stdin=lines)
    assert result.returncode == 0, result.stderr[:500]
    assert len(result.stdout.splitlines()) == 2000


def test_eval_prints_the_report() -> None:
    result = heard("eval", "--split", "dev", timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    for heading in (
        "precision",
        "action confusion",
        "flag precision",
        "crisis",
        "false-positive rate",
        "leftover first-person pronouns",
        "feeling-family hit",
        "forbidden content",
    ):
        assert heading in result.stdout


def test_eval_refuses_to_show_heldout_examples() -> None:
    result = heard("eval", "--split", "heldout", "--errors")
    assert result.returncode == 2
    assert "dev" in result.stderr


def test_bench_quick_runs() -> None:
    result = heard("bench", "--quick", timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "analyses/s" in result.stdout and "adversarial worst" in result.stdout
