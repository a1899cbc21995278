"""``heard eval``: measure the engine on the labelled corpus in ``bot/listening/corpus``.

Prints per-code precision/recall/F1, the action confusion matrix, flag precision/recall, roadblock F1,
crisis recall and false-positive rate, and the reflection checks. The held-out split is only ever read
here, to report; ``--errors`` (which prints misread examples for tuning) refuses to run on it.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from bot.listening.types import FLAG_CODES, ROADBLOCK_CODES

SPLITS = ("dev", "heldout", "all", "train")
_ACTIONS = ("none", "nudge", "flag")
_FIRST_PERSON_RX = re.compile(
    r"\b(?:i|me|my|mine|myself|i'm|im|i've|ive|i'd|we|us|our|ours|ourselves)\b", re.IGNORECASE
)
_FORBIDDEN_RX = re.compile(
    r"\b(?:you should|u should|you need to|you have to|have you tried|try to|why don't you|at least|"
    r"bright side|silver lining|everything happens|i know exactly|i know how you feel|depression|bipolar|"
    r"adhd|bpd|ptsd|ocd|disorder|diagnos\w*|pills?|rope|gun|knife|blades?|razor|overdose|bleach|"
    r"kill|suicide|kms|unalive|stupid|dramatic|overreact\w*|should've|shouldn't)\b|<@|<#|https?://|```",
    re.IGNORECASE,
)


@dataclass(slots=True)
class Counts:
    """True positives, false positives and false negatives for one label."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        """Return tp / (tp + fp), or 1.0 when nothing was predicted."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """Return tp / (tp + fn), or 1.0 when nothing was expected."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        """Return the harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(slots=True)
class Report:
    """Everything ``heard eval`` measures, ready to print or assert on."""

    split: str
    roadblock_items: int = 0
    per_code: dict[str, Counts] = field(default_factory=dict)
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    flag: Counts = field(default_factory=Counts)
    any_roadblock: Counts = field(default_factory=Counts)
    micro: Counts = field(default_factory=Counts)
    crisis_items: int = 0
    crisis_positive: int = 0
    crisis_hits: int = 0
    crisis_negative: int = 0
    crisis_false_alarms: int = 0
    urgent_expected: int = 0
    urgent_hits: int = 0
    level_exact: int = 0
    indicator_counts: dict[str, Counts] = field(default_factory=dict)
    reflection_items: int = 0
    leftover_pronouns: int = 0
    family_hits: int = 0
    forbidden: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def crisis_recall(self) -> float:
        """Return the share of risky texts the engine marked concern or urgent."""
        return self.crisis_hits / self.crisis_positive if self.crisis_positive else 1.0

    @property
    def crisis_fpr(self) -> float:
        """Return the share of safe texts the engine marked concern or urgent."""
        return self.crisis_false_alarms / self.crisis_negative if self.crisis_negative else 0.0

    @property
    def family_hit_rate(self) -> float:
        """Return the share of reflection posts whose main feeling family was read correctly."""
        return self.family_hits / self.reflection_items if self.reflection_items else 1.0


def corpus_dir() -> Path:
    """Return the directory holding the labelled corpus files."""
    return Path(str(resources.files("bot.listening") / "corpus"))


def _files(kind: str, split: str, directory: Path) -> list[Path]:
    if split == "train":
        # The other authors' training files; only meaningful with a scorer trained without them.
        return sorted((directory / "train").glob(f"{kind}_train*.jsonl"))
    names = ("dev", "heldout") if split == "all" else (split,)
    return [
        directory / f"{kind}_{name}.jsonl" for name in names if (directory / f"{kind}_{name}.jsonl").exists()
    ]


def _lines(paths: Sequence[Path]) -> Iterator[dict[str, Any]]:
    for path in paths:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                line = line.strip()
                if line:
                    try:
                        item = json.loads(line)
                    except json.JSONDecodeError:
                        continue
                    if isinstance(item, dict):
                        yield item


def _expected_action(codes: Sequence[str]) -> str:
    if any(code in FLAG_CODES for code in codes):
        return "flag"
    return "nudge" if codes else "none"


def evaluate(split: str = "dev", *, directory: Path | None = None, collect_errors: bool = False) -> Report:
    """Run the engine over the corpus ``split`` and return the measurements."""
    from bot.listening import analyze, analyze_post, reflect

    if collect_errors and split not in ("dev", "train"):
        raise ValueError("misread examples are only shown for the dev and train splits")
    directory = directory or corpus_dir()
    report = Report(split=split, per_code={code: Counts() for code in ROADBLOCK_CODES})
    for item in _lines(_files("roadblocks", split, directory)):
        reply = str(item.get("reply", ""))
        expected = [str(c) for c in item.get("codes", [])]
        analysis = analyze(reply, post=item.get("post"))
        predicted = {r.code for r in analysis.roadblocks if r.confidence >= _action_threshold()}
        report.roadblock_items += 1
        for code in ROADBLOCK_CODES:
            counts = report.per_code[code]
            if code in predicted and code in expected:
                counts.tp += 1
                report.micro.tp += 1
            elif code in predicted:
                counts.fp += 1
                report.micro.fp += 1
            elif code in expected:
                counts.fn += 1
                report.micro.fn += 1
        wanted, got = _expected_action(expected), analysis.action
        report.confusion[(wanted, got)] += 1
        _tally(report.flag, wanted == "flag", got == "flag")
        _tally(report.any_roadblock, wanted != "none", got != "none")
        if collect_errors and set(expected) != predicted:
            report.errors.append(
                f"{item.get('id')}: expected {sorted(expected)} got {sorted(predicted)} | reply={reply!r}"
            )
    for item in _lines(_files("crisis", split, directory)):
        level = str(item.get("level", "none"))
        analysis = analyze_post(str(item.get("text", "")))
        report.crisis_items += 1
        got_level = analysis.crisis.level
        report.level_exact += got_level == level
        if level != "none":
            report.crisis_positive += 1
            report.crisis_hits += got_level != "none"
        else:
            report.crisis_negative += 1
            report.crisis_false_alarms += got_level != "none"
        if level == "urgent":
            report.urgent_expected += 1
            report.urgent_hits += got_level == "urgent"
        expected_kinds = set(item.get("indicators", []))
        got_kinds = set(analysis.crisis.kinds)
        for kind in expected_kinds | got_kinds:
            _tally(
                report.indicator_counts.setdefault(kind, Counts()), kind in expected_kinds, kind in got_kinds
            )
        if collect_errors and got_level != level:
            report.errors.append(
                f"{item.get('id')}: crisis expected {level} {sorted(expected_kinds)} got {got_level} "
                f"{sorted(got_kinds)} | {item.get('text')!r}"
            )
    for item in _lines(_files("reflection", split, directory)):
        reflection = reflect(str(item.get("text", "")))
        report.reflection_items += 1
        texts = [s.text for s in reflection.suggestions] + [reflection.question]
        leftover = any(_FIRST_PERSON_RX.search(text) for text in texts)
        report.leftover_pronouns += leftover
        family = reflection.feelings[0].family if reflection.feelings else "none"
        hit = family == item.get("family")
        report.family_hits += hit
        bad = any(_FORBIDDEN_RX.search(text) for text in texts)
        report.forbidden += bad
        if collect_errors and (not hit or leftover or bad):
            report.errors.append(
                f"{item.get('id')}: family expected {item.get('family')} got {family}"
                f"{' LEFTOVER' if leftover else ''}{' FORBIDDEN' if bad else ''} | {item.get('text')!r} -> "
                f"{[s.text for s in reflection.suggestions]}"
            )
    return report


def _action_threshold() -> float:
    from bot.listening import ACTION_THRESHOLD

    return ACTION_THRESHOLD


def _tally(counts: Counts, expected: bool, predicted: bool) -> None:
    if expected and predicted:
        counts.tp += 1
    elif predicted:
        counts.fp += 1
    elif expected:
        counts.fn += 1


def print_report(report: Report, out: TextIO) -> None:
    """Print ``report`` as plain-text tables."""
    write = out.write
    write(f"split: {report.split}\n\n")
    write(f"roadblocks ({report.roadblock_items} replies)\n")
    write(f"  {'code':<22}{'prec':>7}{'recall':>8}{'f1':>7}{'tp':>5}{'fp':>5}{'fn':>5}\n")
    for code, counts in report.per_code.items():
        write(
            f"  {code:<22}{counts.precision:>7.2f}{counts.recall:>8.2f}{counts.f1:>7.2f}"
            f"{counts.tp:>5}{counts.fp:>5}{counts.fn:>5}\n"
        )
    micro = report.micro
    write(f"  {'micro (all codes)':<22}{micro.precision:>7.2f}{micro.recall:>8.2f}{micro.f1:>7.2f}\n\n")
    write("action confusion (rows = expected, columns = engine)\n")
    write("  " + " " * 8 + "".join(f"{a:>8}" for a in _ACTIONS) + "\n")
    for wanted in _ACTIONS:
        write(f"  {wanted:<8}" + "".join(f"{report.confusion[(wanted, got)]:>8}" for got in _ACTIONS) + "\n")
    flag, anyrb = report.flag, report.any_roadblock
    write(f"\n  flag precision {flag.precision:.3f}  recall {flag.recall:.3f}  f1 {flag.f1:.3f}\n")
    write(
        f"  roadblock (flag or nudge) precision {anyrb.precision:.3f}  recall {anyrb.recall:.3f}  "
        f"f1 {anyrb.f1:.3f}\n\n"
    )
    write(f"crisis ({report.crisis_items} texts)\n")
    write(
        f"  recall {report.crisis_recall:.3f} ({report.crisis_hits}/{report.crisis_positive})  "
        f"false-positive rate {report.crisis_fpr:.3f} "
        f"({report.crisis_false_alarms}/{report.crisis_negative})\n"
    )
    write(
        f"  urgent recall {report.urgent_hits}/{report.urgent_expected}  exact level "
        f"{report.level_exact}/{report.crisis_items}\n"
    )
    for kind, counts in sorted(report.indicator_counts.items()):
        write(
            f"  {kind:<20} prec {counts.precision:.2f} recall {counts.recall:.2f} "
            f"(tp {counts.tp} fp {counts.fp} fn {counts.fn})\n"
        )
    write(f"\nreflection ({report.reflection_items} posts)\n")
    write(f"  leftover first-person pronouns: {report.leftover_pronouns}\n")
    write(
        f"  feeling-family hit: {report.family_hit_rate:.3f} "
        f"({report.family_hits}/{report.reflection_items})\n"
    )
    write(f"  forbidden content: {report.forbidden}\n")
    if report.errors:
        write(f"\nmisread examples ({len(report.errors)})\n")
        for line in report.errors:
            write(f"  {line}\n")
