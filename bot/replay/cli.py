"""``heard replay EXPORT.json [--jsonl OUT] [--html OUT.html] [--top N]`` — try Heard on your own history.

Heavy imports (the engine, matplotlib) happen inside the handler so other subcommands stay fast.
"""

from __future__ import annotations

import argparse
import logging
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.replay.report_html import HtmlTableSpool
    from bot.replay.run import ReplaySummary

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_BAD_EXPORT = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
MAX_JOBS = 64


def register(subparsers: Any) -> None:
    """Add the ``replay`` subcommand to the ``heard`` command line."""
    parser = subparsers.add_parser(
        "replay",
        help="run Heard over a DiscordChatExporter JSON export and report what it would have done",
        description=(
            "Run the listening engine over a DiscordChatExporter JSON export (export with --markdown false "
            "for the most faithful replay) and print what Heard would have flagged, nudged and escalated. "
            "Nothing is sent to Discord."
        ),
    )
    parser.add_argument("export", type=Path, metavar="EXPORT.json", help="the DiscordChatExporter JSON file")
    parser.add_argument(
        "--jsonl", type=Path, metavar="OUT", help="also write one JSON line per analysed message"
    )
    parser.add_argument(
        "--html", type=Path, metavar="OUT.html", help="also write a self-contained HTML report"
    )
    parser.add_argument(
        "--top", type=int, default=10, metavar="N", help="examples to show per list (default 10)"
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="run the engine in N worker processes (default 1; up to the number of CPU cores helps)",
    )
    parser.set_defaults(handler=run_replay)


def run_replay(args: argparse.Namespace) -> int:
    """Run the replay for parsed ``args`` and return the exit code (0 ok, 1 bad export, 2 usage)."""
    problem = _check_arguments(args)
    if problem:
        print(f"heard replay: {problem}", file=sys.stderr)
        return EXIT_USAGE

    from bot.replay.export import ExportError
    from bot.replay.outputs import AtomicTextFile, JsonlSink, ProgressBar
    from bot.replay.report_html import HtmlTableSpool
    from bot.replay.report_text import format_summary
    from bot.replay.run import ResultSink, replay_export

    outputs = [path for path in (args.jsonl, args.html) if path is not None]
    progress = ProgressBar()
    jsonl: JsonlSink | None = None
    try:
        # Output files are written under temporary names and renamed only if the whole run succeeds.
        with ExitStack() as stack:
            sinks: list[ResultSink] = []
            if args.jsonl is not None:
                jsonl = JsonlSink(stack.enter_context(AtomicTextFile(args.jsonl)))
                sinks.append(jsonl)
            spool: HtmlTableSpool | None = None
            if args.html is not None:
                spool = HtmlTableSpool()
                stack.callback(spool.close)
                sinks.append(spool)
            summary = replay_export(args.export, top=args.top, sinks=sinks, progress=progress, jobs=args.jobs)
            progress.finish()
            if spool is not None:
                _write_html(args.html, summary, spool)
    except KeyboardInterrupt:
        progress.finish()
        written = f"; nothing was written to {' or '.join(map(str, outputs))}" if outputs else ""
        print(f"heard replay: interrupted{written}.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (ExportError, OSError) as error:
        progress.finish()
        if isinstance(error, ExportError):
            print(f"heard replay: {error}", file=sys.stderr)
        else:
            print(f"heard replay: could not read or write a file: {error}", file=sys.stderr)
        if outputs:
            names = " or ".join(str(path) for path in outputs)
            print(f"heard replay: nothing was written to {names}.", file=sys.stderr)
        return EXIT_BAD_EXPORT
    sys.stdout.write(format_summary(summary))
    if jsonl is not None:
        print(f"\nPer-message results: {args.jsonl} ({jsonl.lines:,} lines).")
    if args.html is not None:
        print(f"HTML report: {args.html}")
    log.info(
        "replay finished: %d messages, %.0f messages/s", summary.messages_read, summary.messages_per_second
    )
    return EXIT_OK


def _check_arguments(args: argparse.Namespace) -> str | None:
    """Return a one-line problem with the arguments, or None if they are usable."""
    export: Path = args.export
    if not export.exists():
        return f"{export} does not exist"
    if export.is_dir():
        return f"{export} is a folder; give the export's .json file"
    if args.top < 0:
        return "--top must be 0 or more"
    if not 1 <= args.jobs <= MAX_JOBS:
        return f"--jobs must be between 1 and {MAX_JOBS}"
    for option, path in (("--jsonl", args.jsonl), ("--html", args.html)):
        if path is None:
            continue
        if path.resolve() == export.resolve():
            return f"{option} would overwrite the export itself"
        if path.is_dir():
            return f"{option} {path} is a folder; give a file name"
        parent = path.parent if str(path.parent) else Path(".")
        if not parent.is_dir():
            return f"{option}: the folder {parent} does not exist"
    if args.jsonl is not None and args.html is not None and args.jsonl.resolve() == args.html.resolve():
        return "--jsonl and --html must be different files"
    return None


def _write_html(path: Path, summary: ReplaySummary, spool: HtmlTableSpool) -> None:
    """Render the chart (when the export has dated replies) and write the HTML page atomically."""
    from bot.insights.chart import render_listening_health
    from bot.replay.outputs import AtomicTextFile
    from bot.replay.report_html import write_page

    chart_png: bytes | None = None
    if summary.days:
        first, last = summary.days[0].day, summary.days[-1].day
        weeks = (last - first).days // 7 + 1
        chart = render_listening_health(
            summary.days,
            weeks=weeks,
            today=last,
            title="Listening health (replay)",
            nudge_label="nudges Heard would send",
        )
        chart_png = chart.png
    with AtomicTextFile(path) as out:
        write_page(out, summary, spool, chart_png)
