"""The plain-text summary ``heard replay`` prints: counts by action and code, crisis, top examples, speed."""

from __future__ import annotations

from collections.abc import Iterable

from bot.insights.chart import plural
from bot.listening.types import tier_of
from bot.replay.run import Example, ReplaySummary

ACTION_LABELS: dict[str, str] = {
    "flag": "flag (sent to moderators)",
    "nudge": "nudge (private note to the author)",
    "none": "nothing to do",
}
SKIP_LABELS: dict[str, str] = {
    "bot": "from bots",
    "system": "system messages (joins, pins, commands…)",
    "empty": "without text (attachments, stickers)",
    "forwarded": "forwarded from elsewhere",
}
EXAMPLE_PREVIEW_CHARS = 160


def reflection_question_ratio(reflections: int, questions: int) -> str:
    """Return the reflection-to-question ratio as text like ``1.4:1`` (``n/a`` without questions)."""
    if questions == 0:
        return "n/a (no open questions)" if reflections == 0 else f"{reflections}:0 (no open questions)"
    return f"{reflections / questions:.1f}:1"


def format_summary(summary: ReplaySummary) -> str:
    """Return the whole text report for a finished replay."""
    lines: list[str] = []
    header = summary.header
    where = f"#{header.channel_name}" if header.channel_name else str(summary.source)
    if header.guild_name:
        where += f" ({header.guild_name})"
    lines.append(f"Heard replay of {where}")
    lines.append(
        f"Read {summary.messages_read:,} messages in {summary.elapsed_seconds:.1f} s "
        f"({summary.messages_per_second:,.0f} messages/s)."
    )
    lines.append(
        f"Analysed {summary.analysed:,}: {plural(summary.replies, 'reply', 'replies')} to someone else's "
        f"message, {plural(summary.posts, 'message')} on their own."
    )
    if summary.replies_target_missing:
        lines.append(
            f"  {plural(summary.replies_target_missing, 'reply', 'replies')} answer a message that is not "
            "in the export; "
            "they were read as messages on their own."
        )
    skipped = sum(summary.skipped.values())
    if skipped:
        parts = ", ".join(
            f"{count:,} {SKIP_LABELS.get(reason, reason)}" for reason, count in summary.skipped.items()
        )
        lines.append(f"Skipped {skipped:,}: {parts}.")
    lines.append("")
    lines.append("What Heard would have done")
    lines.extend(
        _table(["Action", "Messages"], [[ACTION_LABELS[a], f"{summary.actions[a]:,}"] for a in ACTION_LABELS])
    )
    levels = summary.crisis_levels
    lines.append(
        f"Crisis escalations: {summary.crisis_total:,} "
        f"(urgent {levels['urgent']:,}, concern {levels['concern']:,})"
    )
    lines.append("")
    if summary.codes:
        lines.append("Roadblocks by code")
        rows = [
            [code, tier_of(code), f"{sum(c.values()):,}", f"{c['flag']:,}", f"{c['nudge']:,}"]
            for code, c in sorted(summary.codes.items(), key=lambda item: (-sum(item[1].values()), item[0]))
        ]
        lines.extend(_table(["Code", "Tier", "Messages", "Flagged", "Nudged"], rows))
    else:
        lines.append("No listening roadblocks found.")
    lines.append("")
    reflections, questions = summary.moves["reflection"], summary.moves["open_question"]
    lines.append(
        f"Listening moves: {sum(summary.moves.values()):,} "
        f"(reflections {reflections:,}, open questions {questions:,}; "
        f"reflection-to-question ratio {reflection_question_ratio(reflections, questions)}; "
        "1:1 is fair, 2:1 is good)."
    )
    for title, examples in (
        ("Top flagged", summary.top_flags),
        ("Top nudged", summary.top_nudges),
        ("Crisis escalations", summary.top_crisis),
    ):
        if examples:
            lines.append("")
            lines.append(f"{title} (top {len(examples)})")
            lines.extend(_examples(examples, crisis=title.startswith("Crisis")))
    return "\n".join(lines) + "\n"


def _examples(examples: Iterable[Example], *, crisis: bool) -> list[str]:
    """Return the lines for a numbered list of examples: labels, a one-line preview, the link."""
    lines: list[str] = []
    for number, example in enumerate(examples, start=1):
        analysis = example.analysis
        if crisis:
            label = f"{analysis.crisis.level}: {', '.join(analysis.crisis.kinds)}"
        else:
            label = ", ".join(f"{r.code} {r.confidence:.2f}" for r in analysis.roadblocks)
        # Control and formatting characters (terminal escapes, RTL overrides) become spaces.
        printable = "".join(char if char.isprintable() else " " for char in example.text)
        preview = " ".join(printable.split())
        if len(preview) > EXAMPLE_PREVIEW_CHARS:
            preview = preview[: EXAMPLE_PREVIEW_CHARS - 1] + "…"
        lines.append(f"  {number:>2}. [{label}] {example.timestamp}  “{preview}”")
        if example.link:
            lines.append(f"      {example.link}")
    return lines


def _table(headings: list[str], rows: list[list[str]]) -> list[str]:
    """Return an aligned text table (first column left-aligned, the rest right-aligned)."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headings, *rows, strict=False)]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True)]
        return "  " + "  ".join([first, *rest])

    return [line(headings), *[line(row) for row in rows]]
