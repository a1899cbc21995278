"""The engine's command line: ``heard analyze``, ``heard reflect``, ``heard eval`` and ``heard bench``.

Only ``argparse`` is imported here; the engine itself is imported inside each handler.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable
from typing import Any, TextIO

MAX_INPUT_CHARS = 4000


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``analyze``, ``reflect``, ``eval`` and ``bench`` subcommands to the ``heard`` parser."""
    analyze = subparsers.add_parser(
        "analyze",
        help="explain how a reply listens (roadblocks, listening moves, crisis language, feelings)",
        description="Analyse one reply, or a stream of JSON lines with --jsonl.",
    )
    analyze.add_argument("text", nargs="?", help="the reply to analyse")
    analyze.add_argument("--post", help="the post the reply answers (gives context)")
    analyze.add_argument("--json", action="store_true", help="print the result as JSON")
    analyze.add_argument(
        "--jsonl",
        action="store_true",
        help='read {"id", "reply", "post"?} (or {"id", "text"} for a post on its own) lines from stdin',
    )
    analyze.set_defaults(handler=run_analyze)

    reflect = subparsers.add_parser(
        "reflect",
        help="suggest reflective paraphrases of a post",
        description="Suggest reflections for one post, or a stream of JSON lines with --jsonl.",
    )
    reflect.add_argument("text", nargs="?", help="the post to reflect")
    reflect.add_argument("--variant", type=int, default=0, help="rotate the wording (0, 1, 2...)")
    reflect.add_argument("--json", action="store_true", help="print the result as JSON")
    reflect.add_argument("--jsonl", action="store_true", help='read {"id", "text"} lines from stdin')
    reflect.set_defaults(handler=run_reflect)

    evaluate = subparsers.add_parser(
        "eval",
        help="measure the engine on the labelled corpus",
        description="Print per-code precision/recall/F1, the action confusion matrix, crisis recall and "
        "false-positive rate, and the reflection checks.",
    )
    evaluate.add_argument(
        "--split",
        choices=("dev", "heldout", "train", "all"),
        default="dev",
        help="train: the other authors' training files (flattered: the models learned from them)",
    )
    evaluate.add_argument(
        "--errors", action="store_true", help="also print misread examples (dev or train only, for tuning)"
    )
    evaluate.set_defaults(handler=run_eval)

    bench = subparsers.add_parser(
        "bench",
        help="measure the engine's speed and memory",
        description="Analyses/s, p50/p99 latency at 280 and 4,000 characters, reflections/s, import time, "
        "peak RSS and the worst time over adversarial inputs.",
    )
    bench.add_argument("--quick", action="store_true", help="fewer iterations (for smoke tests)")
    bench.set_defaults(handler=run_bench)


# --------------------------------------------------------------------------------------------------
# analyze


def run_analyze(args: argparse.Namespace) -> int:
    """Handle ``heard analyze``: one reply (readable or --json) or a JSON-lines stream."""
    from bot.listening import analyze

    if args.jsonl:
        return _stream(sys.stdin, sys.stdout, sys.stderr, _analyze_line)
    text = args.text
    if text is None:
        print("heard analyze: give the reply text, or use --jsonl to read lines from stdin", file=sys.stderr)
        return 2
    problem = _text_problem(text)
    if problem:
        print(f"heard analyze: {problem}", file=sys.stderr)
        return 1
    if args.post is not None and len(args.post) > MAX_INPUT_CHARS:
        print(f"heard analyze: the post is over {MAX_INPUT_CHARS:,} characters", file=sys.stderr)
        return 1
    analysis = analyze(text, post=args.post)
    if args.json:
        print(json.dumps(analysis.to_dict(), ensure_ascii=False))
        return 0
    print(explain(analysis))
    return 0


def _text_problem(text: Any) -> str | None:
    if not isinstance(text, str):
        return "the text must be a string"
    if not text.strip():
        return "the text is empty"
    if len(text) > MAX_INPUT_CHARS:
        return f"the text is over {MAX_INPUT_CHARS:,} characters ({len(text):,})"
    return None


def _analyze_line(item: dict[str, Any]) -> dict[str, Any]:
    from bot.listening import analyze, analyze_post

    if "reply" in item:
        reply = item["reply"]
        problem = _text_problem(reply)
        if problem:
            raise ValueError(f'"reply": {problem}')
        post = item.get("post")
        if post is not None and not isinstance(post, str):
            raise ValueError('"post" must be a string or absent')
        if isinstance(post, str) and len(post) > MAX_INPUT_CHARS:
            raise ValueError(f'"post" is over {MAX_INPUT_CHARS:,} characters')
        analysis = analyze(reply, post=post or None)
    elif "text" in item:
        problem = _text_problem(item["text"])
        if problem:
            raise ValueError(f'"text": {problem}')
        analysis = analyze_post(item["text"])
    else:
        raise ValueError('each line needs "reply" (a reply) or "text" (a post on its own)')
    return {"id": item.get("id"), **analysis.to_dict()}


def explain(analysis: Any) -> str:
    """Return a readable, multi-line explanation of an :class:`~bot.listening.types.Analysis`."""
    text: str = analysis.text
    lines = [f"action: {analysis.action}"]
    if analysis.roadblocks:
        lines.append("roadblocks:")
        for block in analysis.roadblocks:
            start, end = block.span
            lines.append(
                f"  - {block.code} ({block.tier}, confidence {block.confidence:.2f}) on {text[start:end]!r}"
            )
            lines.append(f"    why: {block.reason}")
            lines.append(f"    try: {block.try_instead}")
    else:
        lines.append("roadblocks: none")
    if analysis.moves:
        lines.append("listening moves:")
        for move in analysis.moves:
            start, end = move.span
            lines.append(f"  - {move.move} on {text[start:end]!r}")
    else:
        lines.append("listening moves: none found")
    crisis = analysis.crisis
    if crisis.level != "none":
        kinds = ", ".join(crisis.kinds)
        lines.append(f"crisis: {crisis.level} ({kinds}) — route to the safety path, not a style nudge")
    else:
        lines.append("crisis: none")
    if analysis.feelings:
        felt = "; ".join(f"{f.family} ({', '.join(f.words)}; {f.intensity})" for f in analysis.feelings)
        lines.append(f"feelings: {felt}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# reflect


def run_reflect(args: argparse.Namespace) -> int:
    """Handle ``heard reflect``: one post (readable or --json) or a JSON-lines stream."""
    from bot.listening import reflect

    if args.jsonl:
        return _stream(sys.stdin, sys.stdout, sys.stderr, _reflect_line)
    if args.text is None:
        print("heard reflect: give the post text, or use --jsonl to read lines from stdin", file=sys.stderr)
        return 2
    problem = _text_problem(args.text)
    if problem:
        print(f"heard reflect: {problem}", file=sys.stderr)
        return 1
    reflection = reflect(args.text, variant=args.variant)
    if args.json:
        print(json.dumps(reflection.to_dict(), ensure_ascii=False))
        return 0
    for suggestion in reflection.suggestions:
        print(f"[{suggestion.style}] {suggestion.text}")
    print(f"[question] {reflection.question}")
    if reflection.crisis.level != "none":
        print(
            "(this post has crisis language: suggestions stay with the feeling and open the door to support)"
        )
    return 0


def _reflect_line(item: dict[str, Any]) -> dict[str, Any]:
    from bot.listening import reflect

    if "text" not in item:
        raise ValueError('each line needs "text" (the post)')
    problem = _text_problem(item["text"])
    if problem:
        raise ValueError(f'"text": {problem}')
    variant = item.get("variant", 0)
    if not isinstance(variant, int):
        raise ValueError('"variant" must be a whole number')
    return {"id": item.get("id"), **reflect(item["text"], variant=variant).to_dict()}


# --------------------------------------------------------------------------------------------------
# JSON-lines streaming


def _stream(
    source: Iterable[str],
    out: TextIO,
    err: TextIO,
    handle: Callable[[dict[str, Any]], dict[str, Any]],
) -> int:
    """Process one JSON object per line, writing one line per good input; report bad lines and go on."""
    failed = 0
    for number, raw in enumerate(source, start=1):
        line = raw.strip()
        if not line:
            continue
        label = f"line {number}"
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            failed += 1
            print(f"heard: {label}: not valid JSON ({error.msg} at column {error.colno})", file=err)
            continue
        if not isinstance(item, dict):
            failed += 1
            print(f"heard: {label}: expected a JSON object", file=err)
            continue
        if "id" in item:
            label = f"{label} (id {item['id']!r})"
        try:
            result = handle(item)
        except ValueError as error:
            failed += 1
            print(f"heard: {label}: {error}", file=err)
            continue
        out.write(json.dumps(result, ensure_ascii=False))
        out.write("\n")
    out.flush()
    return 1 if failed else 0


# --------------------------------------------------------------------------------------------------
# eval and bench


def run_eval(args: argparse.Namespace) -> int:
    """Handle ``heard eval``: print the corpus measurements for a split."""
    from bot.listening.evaluate import evaluate, print_report

    if args.errors and args.split not in ("dev", "train"):
        print(
            "heard eval: --errors only works with --split dev or train (the held-out split is for reporting)",
            file=sys.stderr,
        )
        return 2
    report = evaluate(args.split, collect_errors=args.errors)
    print_report(report, sys.stdout)
    return 0


def run_bench(args: argparse.Namespace) -> int:
    """Handle ``heard bench``: print speed and memory figures."""
    from bot.listening.bench import print_bench, run

    print_bench(run(quick=args.quick), sys.stdout)
    return 0
