"""The self-contained HTML page of ``heard replay --html``: summary, chart, and the table of what Heard found.

Everything is inline (CSS, the chart as a base64 PNG), so the page makes no network requests. Every piece of
exported text is HTML-escaped; the spans the engine found are wrapped in ``<mark>`` after escaping the text
around them. Table rows are spooled to a temporary file while the export streams, so memory stays bounded;
at most :data:`MAX_TABLE_ROWS` rows are kept, and the page says so when there were more.
"""

from __future__ import annotations

import base64
import html
import tempfile
from collections.abc import Sequence
from datetime import date
from typing import TextIO

from bot.listening.types import Analysis, Span
from bot.replay.report_text import ACTION_LABELS, SKIP_LABELS, reflection_question_ratio
from bot.replay.run import MessageResult, ReplaySummary

MAX_TABLE_ROWS = 5000
TABLE_TEXT_CHARS = 1200

STYLE = """
:root { color-scheme: light; --ink:#1e1f22; --muted:#4e5058; --card:#f4f5f7; --line:#d5d9df;
  --flag:#d55e00; --nudge:#0072b2; --crisis:#8e1b5a; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
  color: var(--ink); background: #e9ebee; }
main { max-width: 1180px; margin: 0 auto; }
h1 { margin: 0 0 4px; font-size: 26px; } h2 { margin: 28px 0 10px; font-size: 19px; }
.sub { color: var(--muted); margin: 0 0 16px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: 12px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
.card b { display: block; font-size: 24px; }
.card span { color: var(--muted); font-size: 13px; }
table { width: 100%; border-collapse: collapse; background: var(--card); border: 1px solid var(--line); }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #dfe2e7; font-size: 13px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.text { white-space: pre-wrap; overflow-wrap: anywhere; max-width: 520px; }
mark { border-radius: 3px; padding: 0 2px; color: inherit; }
mark.flag { background: #f6c9a8; outline: 1px solid var(--flag); }
mark.nudge { background: #bfdcf2; outline: 1px solid var(--nudge); }
mark.crisis { background: #f0c2dc; outline: 1px solid var(--crisis); }
.tag { display: inline-block; border-radius: 999px; padding: 0 8px; font-size: 12px; color: #fff; }
.tag.flag { background: var(--flag); } .tag.nudge { background: var(--nudge); }
.tag.crisis { background: var(--crisis); }
ul.reasons { margin: 0; padding-left: 18px; } ul.reasons li { margin-bottom: 4px; }
.try { color: var(--muted); }
img.chart { width: 100%; max-width: 1100px; border-radius: 10px; border: 1px solid var(--line); }
.note { color: var(--muted); font-size: 13px; }
a { color: #005a9e; }
"""


class HtmlTableSpool:
    """Collects the table rows (flagged, nudged and crisis messages) in a temporary file while replay runs."""

    def __init__(self) -> None:
        """Open the spool file (deleted when closed)."""
        self._spool: TextIO = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        self.rows = 0
        self.rows_dropped = 0

    def write(self, result: MessageResult) -> None:
        """Add the message's row if Heard would have acted on it."""
        analysis = result.analysis
        if analysis.action == "none" and analysis.crisis.level == "none":
            return
        if self.rows >= MAX_TABLE_ROWS:
            self.rows_dropped += 1
            return
        self.rows += 1
        self._spool.write(_row(self.rows, result))

    def copy_rows(self, out: TextIO) -> None:
        """Write the spooled rows to ``out``."""
        self._spool.seek(0)
        while chunk := self._spool.read(1 << 16):
            out.write(chunk)

    def close(self) -> None:
        """Delete the spool file."""
        self._spool.close()


def highlight(text: str, marks: Sequence[tuple[Span, str, str]]) -> str:
    """Return ``text`` HTML-escaped with each ``(span, css_class, title)`` wrapped in a ``<mark>``.

    Spans are character offsets into ``text``; overlapping spans are merged into the first one, and spans
    outside the text are clipped, so any engine output gives well-formed HTML.
    """
    pieces: list[str] = []
    cursor = 0
    for (start, end), css_class, title in sorted(marks, key=lambda mark: (mark[0][0], -mark[0][1])):
        start, end = max(start, cursor), min(end, len(text))
        if start >= end:
            continue
        pieces.append(html.escape(text[cursor:start]))
        pieces.append(
            f'<mark class="{css_class}" title="{html.escape(title)}">{html.escape(text[start:end])}</mark>'
        )
        cursor = end
    pieces.append(html.escape(text[cursor:]))
    return "".join(pieces)


def _marks(analysis: Analysis) -> list[tuple[Span, str, str]]:
    """Return the spans to highlight: roadblocks by tier and crisis indicators."""
    marks: list[tuple[Span, str, str]] = [
        (r.span, r.tier, r.code.replace("_", " ")) for r in analysis.roadblocks
    ]
    marks += [(i.span, "crisis", i.indicator.replace("_", " ")) for i in analysis.crisis.indicators]
    return marks


def _row(number: int, result: MessageResult) -> str:
    """Return one table row for a message Heard would have acted on."""
    analysis = result.analysis
    message = result.message
    text = message.content
    clipped = len(text) > TABLE_TEXT_CHARS
    body = highlight(text[:TABLE_TEXT_CHARS], _marks(analysis)) + ("…" if clipped else "")
    tags = []
    if analysis.action != "none":
        tags.append(f'<span class="tag {analysis.action}">{analysis.action}</span>')
    if analysis.crisis.level != "none":
        tags.append(f'<span class="tag crisis">crisis: {analysis.crisis.level}</span>')
    codes = [html.escape(code.replace("_", " ")) for code in analysis.codes]
    codes += [html.escape(kind.replace("_", " ")) for kind in analysis.crisis.kinds]
    reasons = "".join(
        f"<li>{html.escape(r.reason)}<br><span class='try'>{html.escape(r.try_instead)}</span></li>"
        for r in analysis.roadblocks
    )
    if analysis.crisis.level != "none":
        reasons += "<li>Crisis language: Heard would have alerted the moderators.</li>"
    when = html.escape(message.timestamp.strftime("%Y-%m-%d %H:%M"))
    link = f'<a href="{html.escape(result.link)}">{when}</a>' if result.link else when
    kind = "reply" if result.kind == "reply" else "message"
    return (
        f"<tr><td class='num'>{number}</td><td>{link}<br><span class='note'>{kind}</span></td>"
        f"<td>{' '.join(tags)}</td><td>{'<br>'.join(codes)}</td><td class='text'>{body}</td>"
        f"<td><ul class='reasons'>{reasons}</ul></td></tr>\n"
    )


def write_page(out: TextIO, summary: ReplaySummary, spool: HtmlTableSpool, chart_png: bytes | None) -> None:
    """Write the whole page: summary cards, counts tables, the chart, and the spooled message table."""
    header = summary.header
    title = f"Heard replay — #{header.channel_name}" if header.channel_name else "Heard replay"
    esc = html.escape
    out.write("<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>")
    out.write("<meta name='viewport' content='width=device-width, initial-scale=1'>")
    out.write("<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; img-src data:; "
              "style-src 'unsafe-inline'\">")  # fmt: skip
    out.write(f"<title>{esc(title)}</title><style>{STYLE}</style></head><body><main>\n")
    out.write(f"<h1>{esc(title)}</h1>")
    where = esc(header.guild_name or "")
    period = _period(summary.days)
    out.write(
        f"<p class='sub'>{where}{' · ' if where else ''}{period}What Heard would have done with this "
        f"export — nothing was sent to anyone. Read {summary.messages_read:,} messages in "
        f"{summary.elapsed_seconds:.1f} s ({summary.messages_per_second:,.0f} messages/s).</p>\n"
    )
    cards = [
        (summary.analysed, "messages analysed"),
        (summary.actions["flag"], "would be flagged to moderators"),
        (summary.actions["nudge"], "would get a private nudge"),
        (summary.crisis_total, "crisis escalations"),
        (summary.replies, "replies to someone's message"),
        (summary.replies_target_missing, "replies whose message is not in the export"),
    ]
    out.write("<section class='cards' id='summary'>")
    for value, label in cards:
        out.write(f"<div class='card'><b>{value:,}</b><span>{esc(label)}</span></div>")
    out.write("</section>\n")
    _counts_tables(out, summary)
    out.write("<h2>Listening health</h2>")
    if chart_png:
        encoded = base64.b64encode(chart_png).decode("ascii")
        out.write(
            "<img class='chart' id='chart' alt='Listening-health chart: flags by code, nudges, reflections "
            "per open question and share of replies with a listening move' "
            f"src='data:image/png;base64,{encoded}'>"
        )
    else:
        out.write("<p class='note'>No dated replies in this export, so there is no chart.</p>")
    out.write("<h2>Messages Heard would have acted on</h2>")
    if spool.rows_dropped:
        out.write(
            f"<p class='note'>Showing the first {spool.rows:,} of {spool.rows + spool.rows_dropped:,}; "
            "use <code>--jsonl</code> for every message.</p>"
        )
    if spool.rows:
        out.write(
            "<table id='messages'><thead><tr><th class='num'>#</th><th>When</th><th>Action</th><th>Codes</th>"
            "<th>Message (what Heard noticed is highlighted)</th><th>Why</th></tr></thead><tbody>\n"
        )
        spool.copy_rows(out)
        out.write("</tbody></table>\n")
    else:
        out.write("<p class='note'>Nothing in this export would have been flagged, nudged or escalated.</p>")
    out.write(
        "<p class='note'>Made by Heard, which is software: it can be wrong. "
        "Excerpts come from your own export; keep this page private.</p></main></body></html>\n"
    )


def _counts_tables(out: TextIO, summary: ReplaySummary) -> None:
    """Write the actions table, the skipped counts and the roadblocks-by-code table."""
    esc = html.escape
    out.write("<h2>What Heard would have done</h2><table id='actions'><thead><tr><th>Action</th>"
              "<th class='num'>Messages</th></tr></thead><tbody>")  # fmt: skip
    for action, label in ACTION_LABELS.items():
        out.write(f"<tr><td>{esc(label)}</td><td class='num'>{summary.actions[action]:,}</td></tr>")
    levels = summary.crisis_levels
    out.write(
        f"<tr><td>crisis escalation (urgent {levels['urgent']:,}, concern {levels['concern']:,})</td>"
        f"<td class='num'>{summary.crisis_total:,}</td></tr></tbody></table>"
    )
    skipped = sum(summary.skipped.values())
    if skipped:
        parts = ", ".join(
            f"{n:,} {esc(SKIP_LABELS.get(reason, reason))}" for reason, n in summary.skipped.items()
        )
        out.write(f"<p class='note'>Not analysed: {parts}.</p>")
    reflections, questions = summary.moves["reflection"], summary.moves["open_question"]
    ratio = esc(reflection_question_ratio(reflections, questions))
    out.write(f"<p class='note'>Reflections per open question: {ratio} (1:1 is fair, 2:1 is good).</p>")
    if not summary.codes:
        return
    out.write("<h2>Roadblocks by code</h2><table id='codes'><thead><tr><th>Code</th><th class='num'>Messages"
              "</th><th class='num'>Flagged</th><th class='num'>Nudged</th></tr></thead><tbody>")  # fmt: skip
    for code, counts in sorted(summary.codes.items(), key=lambda item: (-sum(item[1].values()), item[0])):
        out.write(
            f"<tr><td>{esc(code.replace('_', ' '))}</td><td class='num'>{sum(counts.values()):,}</td>"
            f"<td class='num'>{counts['flag']:,}</td><td class='num'>{counts['nudge']:,}</td></tr>"
        )
    out.write("</tbody></table>\n")


def _period(days: Sequence[object]) -> str:
    """Return 'from X to Y · ' for the export's dated replies, or '' when there are none."""
    dated = [getattr(day, "day", None) for day in days]
    found = [d for d in dated if isinstance(d, date)]
    if not found:
        return ""
    return f"{min(found):%d %b %Y} to {max(found):%d %b %Y} · "
