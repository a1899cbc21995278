"""``heard replay --html``: escaping and highlighting, a self-contained page, and rendering in Chromium."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.replay.report_html import highlight
from tests.replay.helpers import child_env, message, write_export

BROWSER_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "/usr/bin/chromium")
HOSTILE = '<script>document.title="pwned"</script><img src=x onerror="alert(1)"> & "quotes"'


def find_browser() -> str | None:
    """Return a headless-capable Chromium on this machine, or None."""
    for candidate in BROWSER_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def test_highlight_escapes_text_and_marks_spans() -> None:
    text = "<b>you</b> should & just <go>"
    start = text.index("should")
    marked = highlight(text, [((start, start + 6), "nudge", "advice <unasked>")])
    assert marked == (
        "&lt;b&gt;you&lt;/b&gt; "
        '<mark class="nudge" title="advice &lt;unasked&gt;">should</mark>'
        " &amp; just &lt;go&gt;"
    )


def test_highlight_survives_overlapping_out_of_range_and_astral_spans() -> None:
    text = "🫶🏽 you're so dramatic 🙄"
    start = text.index("dramatic")
    marked = highlight(
        text,
        [
            ((start, start + 8), "flag", "labeling"),
            ((start + 2, start + 12), "nudge", "overlap"),
            ((500, 600), "flag", "outside"),
            ((5, 3), "flag", "backwards"),
        ],
    )
    assert marked.count("<mark") == 2
    assert html.unescape(re.sub(r"<[^>]+>", "", marked)) == text


def write_hostile_export(tmp_path: Path) -> Path:
    """An export whose flagged/nudged replies carry markup, markdown, mentions, code and links."""
    return write_export(
        tmp_path / "hostile.json",
        [
            message(1, "I feel like such a failure after my exam, idk what to say to my parents", author="1"),
            message(2, f"you're being dramatic, get over it {HOSTILE}", author="2", reply_to=1, minute=1),
            message(
                3, "**just** go for a run <@123> `rm -rf` https://evil.example/x.js", author="3", reply_to=1
            ),
            message(
                4,
                "you should just stop whining ```<iframe src=https://evil.example>```",
                author="4",
                reply_to=1,
            ),
        ],
    )


def run_replay_html(export: Path, page: Path) -> None:
    """Run ``heard replay --html`` as a subprocess and check it succeeded."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", "replay", str(export), "--html", str(page)],
        capture_output=True,
        text=True,
        timeout=180,
        env=child_env(),
    )
    assert done.returncode == 0, done.stderr


def test_page_is_self_contained_and_escaped(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    run_replay_html(write_hostile_export(tmp_path), page)
    source = page.read_text(encoding="utf-8")
    assert "<script" not in source.lower() and "<iframe" not in source.lower()
    assert "onerror=" not in source.replace("onerror=&quot;", "")
    assert html.escape(HOSTILE) in source or "&lt;script&gt;" in source
    # No external requests: no <link>, no <script>, every src is inline data, CSP forbids the rest.
    assert "<link" not in source
    assert all(src.startswith("data:") for src in re.findall(r"src='([^']*)'", source))
    assert "default-src 'none'" in source
    assert "data:image/png;base64," in source, "the chart is inline"
    assert "<mark" in source, "spans are highlighted"


def test_page_renders_in_headless_chromium(tmp_path: Path) -> None:
    browser = find_browser()
    if browser is None:
        pytest.skip("no Chromium on this machine (install Debian's 'chromium' package; .ci/run does)")
    page = tmp_path / "report.html"
    run_replay_html(write_hostile_export(tmp_path), page)
    common = [
        browser,
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--host-resolver-rules=MAP * ~NOTFOUND",
    ]
    dom = subprocess.run(
        [*common, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120
    ).stdout
    assert "<title>Heard replay — #vent</title>" in dom, "the script did not run (title unchanged)"
    assert 'id="messages"' in dom and dom.count("<tr>") >= 3
    assert "<mark" in dom
    assert re.search(r'<img class="chart" id="chart"[^>]*src="data:image/png;base64,', dom)
    assert "<script" not in dom.lower() and "<iframe" not in dom.lower()
    shot = tmp_path / "page.png"
    subprocess.run(
        [*common, "--window-size=1280,2000", f"--screenshot={shot}", page.as_uri()],
        capture_output=True,
        timeout=120,
    )
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 20_000
