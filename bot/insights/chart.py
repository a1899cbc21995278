"""The listening-health chart: a PNG of the last N weeks, drawn with matplotlib (Agg, no pyplot state).

Four panels, aggregate counts only (never per member):

* flags by code (stacked bars, the five most common codes plus "other"),
* flag outcomes (open / resolved / false alarm, stacked) with nudges sent as a line,
* reflections per open question, with the motivational-interviewing reference lines 1:1 (fair) and 2:1 (good),
* the share of replies with a listening move and the false-alarm rate, in percent.

The picture is a light-grey card with its own background and dark text, so it reads the same in Discord's
dark and light themes; colours are the Okabe–Ito colour-blind-safe palette.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from bot.insights.daily import DailyCounts

CARD = "#D5D9DF"
PANEL = "#F4F5F7"
INK = "#1E1F22"
MUTED = "#4E5058"
GRID = "#C4C8CE"
CODE_COLOURS = ("#0072B2", "#D55E00", "#CC79A7", "#009E73", "#E69F00", "#7A7A7A")
OUTCOME_COLOURS = {"open": "#8A8F98", "resolved": "#009E73", "false_alarm": "#E69F00"}
OUTCOME_LABELS = {"open": "open", "resolved": "resolved", "false_alarm": "false alarm"}
NUDGE_COLOUR = "#0072B2"
MOVE_COLOUR = "#009E73"
RATIO_COLOUR = "#0072B2"
FAIR_RATIO = 1.0
GOOD_RATIO = 2.0
TOP_CODES = 5
MAX_WEEKS = 104


@dataclass(frozen=True, slots=True)
class WeekBucket:
    """One week's sums (``start`` to ``end`` inclusive) — the numbers a bar or point on the chart shows."""

    start: date
    end: date
    replies_seen: int = 0
    replies_with_move: int = 0
    reflections: int = 0
    open_questions: int = 0
    nudges_sent: int = 0
    flags_by_code: dict[str, int] = field(default_factory=dict)
    flag_outcomes: dict[str, int] = field(default_factory=dict)

    @property
    def flags(self) -> int:
        """Return the number of flags raised this week."""
        return sum(self.flags_by_code.values())

    @property
    def false_alarm_rate(self) -> float | None:
        """Return false alarms / flags a moderator decided (None when nothing was decided)."""
        decided = self.flag_outcomes.get("resolved", 0) + self.flag_outcomes.get("false_alarm", 0)
        return self.flag_outcomes.get("false_alarm", 0) / decided if decided else None

    @property
    def reflection_ratio(self) -> float | None:
        """Return reflections per open question (None without open questions)."""
        return self.reflections / self.open_questions if self.open_questions else None

    @property
    def move_share(self) -> float | None:
        """Return the share of replies with at least one listening move (None without replies)."""
        return self.replies_with_move / self.replies_seen if self.replies_seen else None


@dataclass(frozen=True, slots=True)
class ListeningHealthChart:
    """The rendered PNG and the weekly numbers behind it (oldest week first)."""

    png: bytes
    weeks: tuple[WeekBucket, ...]

    @property
    def totals(self) -> WeekBucket:
        """Return the sums over all weeks shown."""
        return _sum_weeks(self.weeks)

    def describe(self) -> str:
        """Return a short text version of the chart (alt text, and the message next to the image)."""
        total = self.totals
        parts = [
            f"{plural(len(self.weeks), 'week')} from {total.start:%d %b %Y} to {total.end:%d %b %Y}",
            f"{plural(total.replies_seen, 'reply', 'replies')}, "
            f"{_percent(total.move_share)} with a listening move",
            f"reflections per open question {_ratio_text(total.reflection_ratio)} (1:1 fair, 2:1 good)",
            f"{plural(total.flags, 'flag')}{_false_alarm_text(total)}, "
            f"{plural(total.nudges_sent, 'nudge')} sent",
        ]
        return "; ".join(parts) + "."


def weekly_buckets(days: Iterable[DailyCounts], *, weeks: int, today: date) -> list[WeekBucket]:
    """Sum daily rows into ``weeks`` seven-day buckets ending on ``today`` (oldest first).

    Rows outside the window are ignored; several rows for the same day (channels) are added up.
    """
    weeks = max(1, min(weeks, MAX_WEEKS))
    first_day = today - timedelta(days=7 * weeks - 1)
    sums: list[dict[str, Any]] = [
        {"replies_seen": 0, "replies_with_move": 0, "reflections": 0, "open_questions": 0, "nudges_sent": 0,
         "flags_by_code": Counter(), "flag_outcomes": Counter()}
        for _ in range(weeks)
    ]  # fmt: skip
    for row in days:
        if not first_day <= row.day <= today:
            continue
        bucket = sums[(row.day - first_day).days // 7]
        bucket["replies_seen"] += row.replies_seen
        bucket["replies_with_move"] += row.replies_with_move
        bucket["reflections"] += row.reflections
        bucket["open_questions"] += row.open_questions
        bucket["nudges_sent"] += row.nudges_sent
        bucket["flags_by_code"].update(row.flags_by_code)
        bucket["flag_outcomes"].update(row.flag_outcomes)
    buckets = []
    for number, values in enumerate(sums):
        start = first_day + timedelta(days=7 * number)
        values["flags_by_code"] = {k: v for k, v in values["flags_by_code"].items() if v}
        values["flag_outcomes"] = {k: v for k, v in values["flag_outcomes"].items() if v}
        buckets.append(WeekBucket(start=start, end=start + timedelta(days=6), **values))
    return buckets


def render_listening_health(
    days: Iterable[DailyCounts],
    *,
    weeks: int,
    today: date,
    title: str = "Listening health",
    nudge_label: str = "nudges sent",
) -> ListeningHealthChart:
    """Draw the listening-health chart for the ``weeks`` weeks ending ``today`` and return PNG + numbers.

    ``nudge_label`` names the nudges line (a replay says what Heard *would* have sent).
    """
    from matplotlib.figure import Figure

    buckets = weekly_buckets(days, weeks=weeks, today=today)
    figure = Figure(figsize=(11, 7.2), dpi=110, facecolor=CARD, layout="constrained")
    totals = _sum_weeks(buckets)
    figure.suptitle(title, color=INK, fontsize=17, fontweight="bold", x=0.01, ha="left")
    axes = figure.subplots(2, 2)
    labels = [_week_label(bucket.start) for bucket in buckets]
    positions = list(range(len(buckets)))
    for ax in axes.flat:
        _style(ax, positions, labels)
    _flags_by_code(axes[0][0], buckets, positions)
    _outcomes_and_nudges(axes[0][1], buckets, positions, nudge_label)
    _ratio_panel(axes[1][0], buckets, positions)
    _rates_panel(axes[1][1], buckets, positions)
    figure.supxlabel(
        f"{plural(len(buckets), 'week')} to {today:%d %b %Y} · "
        f"{plural(totals.replies_seen, 'reply', 'replies')} · {plural(totals.flags, 'flag')} · "
        f"{plural(totals.nudges_sent, 'nudge')} · "
        "community totals only, no individual members",
        color=MUTED, fontsize=9, x=0.01, ha="left",
    )  # fmt: skip
    figure.get_layout_engine().set(h_pad=0.12, w_pad=0.12)  # type: ignore[union-attr,call-arg]
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", facecolor=CARD, metadata={"Software": "Heard"})
    return ListeningHealthChart(png=buffer.getvalue(), weeks=tuple(buckets))


def _style(ax: Any, positions: list[int], labels: list[str]) -> None:
    """Give a panel the card's colours, a light grid and readable week labels (thinned when many)."""
    ax.set_facecolor(PANEL)
    for spine in ax.spines.values():
        spine.set_color(GRID)
    ax.tick_params(colors=MUTED, labelsize=9)
    ax.grid(axis="y", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    step = max(1, -(-len(positions) // 10))
    ax.set_xticks(positions[::step], labels[::step], rotation=0)
    ax.set_xlim(-0.6, len(positions) - 0.4)


def _title(ax: Any, text: str, note: str = "") -> None:
    """Set a panel title in the card's ink, with an optional muted note on a second line."""
    ax.set_title(text + (f"\n{note}" if note else ""), color=INK, fontsize=11.5, loc="left")


def _no_data(ax: Any, message: str) -> None:
    """Write a centred note on an empty panel."""
    ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center", color=MUTED, fontsize=11)
    ax.set_ylim(0, 1)
    ax.set_yticks([])


def _flags_by_code(ax: Any, buckets: Sequence[WeekBucket], positions: list[int]) -> None:
    """Stacked bars: flags per week by code (the most common codes, the rest as 'other')."""
    totals: Counter[str] = Counter()
    for bucket in buckets:
        totals.update(bucket.flags_by_code)
    _title(ax, "Flags by code")
    if not totals:
        _no_data(ax, "No flags in these weeks")
        return
    shown = [code for code, _ in totals.most_common(TOP_CODES)]
    series = {code: [b.flags_by_code.get(code, 0) for b in buckets] for code in shown}
    other = [b.flags - sum(b.flags_by_code.get(code, 0) for code in shown) for b in buckets]
    if any(other):
        series["other"] = other
    bottom = [0] * len(buckets)
    for colour, (code, values) in zip(CODE_COLOURS, series.items(), strict=False):
        ax.bar(positions, values, bottom=bottom, color=colour, label=code.replace("_", " "), width=0.7)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_ylim(0, max(bottom) * 1.5 + 1)
    ax.yaxis.get_major_locator().set_params(integer=True)
    _legend(ax)


def _outcomes_and_nudges(
    ax: Any, buckets: Sequence[WeekBucket], positions: list[int], nudge_label: str
) -> None:
    """Stacked bars of flag outcomes per week, with the nudges sent as a line."""
    _title(ax, "Flag outcomes and nudges sent")
    nudges = [b.nudges_sent for b in buckets]
    if not any(b.flags or b.flag_outcomes for b in buckets) and not any(nudges):
        _no_data(ax, "No flags or nudges in these weeks")
        return
    bottom = [0] * len(buckets)
    for outcome in ("resolved", "false_alarm", "open"):
        values = [b.flag_outcomes.get(outcome, 0) for b in buckets]
        if outcome == "resolved":  # any other decision a moderator made counts as resolved
            values = [
                v + sum(n for k, n in b.flag_outcomes.items() if k not in OUTCOME_COLOURS)
                for v, b in zip(values, buckets, strict=True)
            ]
        label = f"flags: {OUTCOME_LABELS[outcome]}"
        if outcome == "open" and not any(b.flag_outcomes for b in buckets):
            values = [b.flags for b in buckets]  # no decisions recorded at all (e.g. a replay)
            label = "flags (no decisions recorded)"
        if any(values):
            ax.bar(positions, values, bottom=bottom, width=0.7, color=OUTCOME_COLOURS[outcome], label=label)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.plot(positions, nudges, color=NUDGE_COLOUR, marker="o", linewidth=2.2, label=nudge_label)
    ax.set_ylim(0, max([*bottom, *nudges]) * 1.4 + 1)
    ax.yaxis.get_major_locator().set_params(integer=True)
    _legend(ax)


def _ratio_panel(ax: Any, buckets: Sequence[WeekBucket], positions: list[int]) -> None:
    """Reflections per open question per week, with the 1:1 (fair) and 2:1 (good) reference lines."""
    _title(ax, "Reflections per open question")
    ratios = [b.reflection_ratio for b in buckets]
    top = max([GOOD_RATIO * 1.3, *[r * 1.15 for r in ratios if r is not None]])
    for level, name in ((FAIR_RATIO, "1:1 fair"), (GOOD_RATIO, "2:1 good")):
        ax.axhline(level, color=MUTED, linestyle="--", linewidth=1.2)
        ax.text(1.0, level, f" {name}", transform=ax.get_yaxis_transform(), color=MUTED, fontsize=9,
                va="bottom", ha="right")  # fmt: skip
    ax.set_ylim(0, top)
    if all(r is None for r in ratios):
        ax.text(0.5, 0.5, "No open questions in these weeks", transform=ax.transAxes, ha="center",
                va="center", color=MUTED, fontsize=11)  # fmt: skip
        return
    _broken_line(ax, positions, ratios, RATIO_COLOUR, "reflections : questions")


def _rates_panel(ax: Any, buckets: Sequence[WeekBucket], positions: list[int]) -> None:
    """Percent lines: replies with a listening move, and the false-alarm rate of decided flags."""
    _title(ax, "Replies with a listening move · false alarms (%)")
    shares = [None if s is None else s * 100 for s in (b.move_share for b in buckets)]
    false_alarms = [None if r is None else r * 100 for r in (b.false_alarm_rate for b in buckets)]
    ax.set_ylim(0, 105)
    if all(v is None for v in shares) and all(v is None for v in false_alarms):
        ax.text(0.5, 0.5, "No replies in these weeks", transform=ax.transAxes, ha="center", va="center",
                color=MUTED, fontsize=11)  # fmt: skip
        return
    _broken_line(ax, positions, shares, MOVE_COLOUR, "replies with a listening move")
    if any(v is not None for v in false_alarms):
        _broken_line(ax, positions, false_alarms, OUTCOME_COLOURS["false_alarm"], "false-alarm rate",
                     linestyle="--")  # fmt: skip
    _legend(ax)


def _broken_line(
    ax: Any,
    positions: list[int],
    values: list[float | None],
    colour: str,
    label: str,
    linestyle: str = "-",
) -> None:
    """Plot a line with markers that leaves gaps for weeks without a value."""
    xs = [p for p, v in zip(positions, values, strict=True) if v is not None]
    ys = [v for v in values if v is not None]
    plotted = [float("nan") if v is None else v for v in values]
    ax.plot(positions, plotted, color=colour, linewidth=2.2, linestyle=linestyle, label=label)
    ax.plot(xs, ys, color=colour, linestyle="none", marker="o", markersize=5.5)


def _legend(ax: Any) -> None:
    """Add a compact legend in the card's colours."""
    legend = ax.legend(loc="upper left", fontsize=8.5, frameon=True, ncols=2)
    legend.get_frame().set_facecolor(PANEL)
    legend.get_frame().set_edgecolor(GRID)
    for text in legend.get_texts():
        text.set_color(INK)


def _sum_weeks(buckets: Sequence[WeekBucket]) -> WeekBucket:
    """Return one bucket summing all the given weeks."""
    flags: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    for bucket in buckets:
        flags.update(bucket.flags_by_code)
        outcomes.update(bucket.flag_outcomes)
    return WeekBucket(
        start=buckets[0].start,
        end=buckets[-1].end,
        replies_seen=sum(b.replies_seen for b in buckets),
        replies_with_move=sum(b.replies_with_move for b in buckets),
        reflections=sum(b.reflections for b in buckets),
        open_questions=sum(b.open_questions for b in buckets),
        nudges_sent=sum(b.nudges_sent for b in buckets),
        flags_by_code=dict(flags),
        flag_outcomes=dict(outcomes),
    )


def plural(count: int, word: str, plural_word: str | None = None) -> str:
    """Return ``count`` and the word, singular or plural, like ``1 reply`` or ``2,000 replies``."""
    return f"{count:,} {word if count == 1 else (plural_word or word + 's')}"


def _week_label(start: date) -> str:
    """Return a short label for the week starting ``start``, like ``Nov 16``."""
    return f"{start:%b} {start.day}"


def _false_alarm_text(bucket: WeekBucket) -> str:
    """Return the false-alarm share of decided flags as words, like ' (25% false alarms)', or ''."""
    if not bucket.flags:
        return ""
    rate = bucket.false_alarm_rate
    return " (none decided yet)" if rate is None else f" ({rate:.0%} false alarms)"


def _percent(value: float | None) -> str:
    """Return a share as a whole percentage, or 'n/a'."""
    return "n/a" if value is None else f"{value:.0%}"


def _ratio_text(value: float | None) -> str:
    """Return a ratio as text like '1.4:1', or 'n/a'."""
    return "n/a" if value is None else f"{value:.1f}:1"
