"""``heard replay`` as a subprocess: summary, outputs written whole or not at all, clear errors."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

from bot.replay.synthetic import write_export as write_synthetic
from tests.replay.helpers import SAMPLE, child_env

TIMEOUT = 180


def heard(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``python -m bot`` with ``args`` and return the finished process."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=cwd,
        env=child_env(),
    )


def test_replay_of_the_sample_prints_summary_and_writes_outputs(tmp_path: Path) -> None:
    jsonl, page = tmp_path / "out.jsonl", tmp_path / "report.html"
    done = heard("replay", SAMPLE, "--jsonl", jsonl, "--html", page, "--top", "3", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Heard replay of #vent (Peer Support)" in out
    assert "Read 3 messages" in out and "messages/s" in out
    assert "Skipped 1: 1 from bots" in out
    assert "https://discord.com/channels/869237470565392384/885169254029213696/885169254029213698" in out
    assert "Crisis escalations: 0" in out
    lines = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert [line["id"] for line in lines] == ["885169254029213697", "885169254029213698"]
    assert page.read_text().startswith("<!doctype html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl", "report.html"], "no temp files left"
    assert "\x1b[" not in done.stderr, "no progress bar when stderr is not a terminal"


def test_truncated_export_writes_nothing_and_says_so(tmp_path: Path) -> None:
    full = write_synthetic(tmp_path / "full.json", 400).path
    broken = tmp_path / "broken.json"
    broken.write_bytes(full.read_bytes()[:-5000])
    jsonl, page = tmp_path / "out.jsonl", tmp_path / "report.html"
    done = heard("replay", broken, "--jsonl", jsonl, "--html", page, cwd=tmp_path)
    assert done.returncode == 1
    assert "heard replay: the export ends early (truncated?) at message #" in done.stderr
    assert f"nothing was written to {jsonl} or {page}" in done.stderr
    assert "Traceback" not in done.stderr
    assert not jsonl.exists() and not page.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.json", "full.json"], "no partial files"


def test_wrong_type_is_reported_with_the_field(tmp_path: Path) -> None:
    document = json.loads(SAMPLE.read_text())
    document["messages"][1]["author"] = "bob"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document))
    done = heard("replay", bad, cwd=tmp_path)
    assert done.returncode == 1
    assert "message #2 (id 885169254029213698): field 'author' should be an object" in done.stderr
    assert "Traceback" not in done.stderr


def test_usage_problems_exit_2_with_one_line(tmp_path: Path) -> None:
    missing = heard("replay", tmp_path / "nope.json", cwd=tmp_path)
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    folder = heard("replay", SAMPLE, "--jsonl", tmp_path / "no" / "such" / "dir.jsonl", cwd=tmp_path)
    assert folder.returncode == 2 and "does not exist" in folder.stderr
    same = heard("replay", SAMPLE, "--html", SAMPLE, cwd=tmp_path)
    assert same.returncode == 2 and "overwrite the export" in same.stderr
    negative = heard("replay", SAMPLE, "--top", "-1", cwd=tmp_path)
    assert negative.returncode == 2 and "--top" in negative.stderr
    no_workers = heard("replay", SAMPLE, "--jobs", "0", cwd=tmp_path)
    assert no_workers.returncode == 2 and "--jobs must be between 1 and 64" in no_workers.stderr
    for done in (missing, folder, same, negative, no_workers):
        assert "Traceback" not in done.stderr


def test_progress_bar_is_drawn_when_stderr_is_a_terminal(tmp_path: Path) -> None:
    export = write_synthetic(tmp_path / "gen.json", 2000).path
    controller, terminal = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bot", "replay", str(export), "--top", "0"],
            stdout=subprocess.PIPE,
            stderr=terminal,
            text=True,
            timeout=TIMEOUT,
            env=child_env(),
        )
        os.close(terminal)
        terminal = -1
        drawn = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the other side closed: everything was read
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(controller)
        if terminal >= 0:
            os.close(terminal)
    assert done.returncode == 0
    text = drawn.decode("utf-8", "replace")
    assert "█" in text and "messages" in text and "/s" in text
    assert text.endswith("\r\x1b[2K"), "the bar clears its line before the summary"
    assert "Top flagged" not in done.stdout, "--top 0 lists no examples"
