"""``heard bench``: speed and memory of the engine, measured in one process.

Times are CPU time of this process (so other busy processes on a shared machine do not inflate them),
except import time, which is the wall time of a fresh interpreter.

Reports analyses per second on typical 200–300 character replies (one core), p50/p99 latency at 280
and 4,000 characters, reflections per second, import time (in a fresh interpreter), peak RSS and the
worst time over adversarial inputs (long runs, nested markdown, emoji, punctuation). Every timed reply
is a different text (cut from the sample replies at a random place), so the engine's memory of
recently read texts only helps where it helps the bot too: the posts, read once per reply.
"""

from __future__ import annotations

import random
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TextIO

_REPLIES = (
    "that sounds so exhausting, especially with everything at work piling up at once. what's been the "
    "hardest part of this week for you? no pressure to answer if you just needed to get it out",
    "honestly you should just quit, nobody deserves a manager like that. have you tried talking to hr? "
    "also maybe start looking for something else now so you aren't stuck there forever lol",
    "it's not that deep bro, everyone fails a test sometimes. at least you have another chance next "
    "month, just study harder and stop stressing about it so much, you'll be fine",
    "i'm really sorry, losing a pet is so hard. it makes total sense that the house feels empty without "
    "him. how are you doing today? sending you a big hug if you want one",
    "ugh same, my landlord did the exact same thing last year and i had to move out in like two weeks, "
    "it was a nightmare. anyway did you see the new episode last night? it was wild",
    "you're being so dramatic about this tbh, it's just one comment from someone you barely know. grow "
    "up and move on, people say stuff like that all the time and nobody cares",
)
_POSTS = (
    "my mom and I haven't spoken in three weeks since the fight and i miss her so much it hurts",
    "failed my orgo midterm. studied like 30 hrs for it and still got a 52. idk why i even bother",
    "got into my dream school but it's 3000 miles away and i'm excited but also so scared",
    "work has been nonstop, double shifts all week and i can't sleep. i'm so burnt out",
)


@dataclass(slots=True)
class BenchResult:
    """The measured figures."""

    analyses_per_second: float = 0.0
    analyses_per_second_with_post: float = 0.0
    p50_280_us: float = 0.0
    p99_280_us: float = 0.0
    p50_4000_us: float = 0.0
    p99_4000_us: float = 0.0
    reflections_per_second: float = 0.0
    import_ms: float = 0.0
    warmup_ms: float = 0.0
    peak_rss_mb: float = 0.0
    adversarial_worst_ms: float = 0.0
    adversarial_worst_case: str = ""
    adversarial: dict[str, float] = field(default_factory=dict)


def adversarial_inputs() -> dict[str, str]:
    """Return named inputs built to trip up regexes: long runs, nesting, emoji, punctuation."""
    return {
        "4000 x 'a'": "a" * 4000,
        "4000 x 'k'": "k" * 4000,
        "4000 spaces": " " * 4000,
        "nested markdown": ("**_~~||" * 250 + "you should " + "||~~_**" * 250)[:4000],
        "4000 emoji": "😂" * 4000,
        "mixed emoji and words": ("kms 😭🪦 " * 500)[:4000],
        "punctuation run": "!?.," * 1000,
        "dots and letters": "k.m.s." * 666,
        "backticks": "`" * 4000,
        "unclosed code block": "```" + "you should " * 363,
        "repeated phrase": ("you should really " * 250)[:4000],
        "repeated why": ("why did you " * 400)[:4000],
        "no spaces words": ("youshouldjusttry" * 250)[:4000],
        "mentions": ("<@123456789012345678> " * 190)[:4000],
        "leet run": ("k!ll " * 800)[:4000],
        "apostrophes": "'" * 4000,
        "quotes": '"' * 4000,
        "newlines": "\n" * 4000,
        "zalgo": ("y\u0301\u0302\u0303o\u0304u\u0305 " * 400)[:4000],
        "long word run with letters": ("a" * 99 + " ") * 40,
    }


def _timed(call: Callable[[], object]) -> float:
    """Return the CPU time of one call (CPU time: other busy processes on the machine do not count)."""
    start = time.process_time()
    call()
    return time.process_time() - start


def _percentile(samples: Sequence[float], share: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, int(share * len(ordered)))
    return ordered[index]


def _import_ms() -> float:
    code = "import time; t=time.perf_counter(); import bot.listening; print(time.perf_counter()-t)"
    best = float("inf")
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        best = min(best, float(out.stdout.strip()) * 1000)
    return best


def _distinct_texts(count: int, low: int, high: int, rng: random.Random) -> list[str]:
    """Return ``count`` different texts of ``low``..``high`` characters cut from the sample replies.

    Every measured text is new, so the engine's memory of recently read texts (kept for posts, which
    are read again for every reply) does not flatter the figures.
    """
    pool = " ".join(_REPLIES)
    pool = pool * (2 + high // len(pool))
    seen: set[str] = set()
    texts: list[str] = []
    while len(texts) < count:
        start = rng.randrange(len(pool) // 2)
        text = pool[start : start + rng.randint(low, high)].strip()
        if text not in seen:
            seen.add(text)
            texts.append(text)
    return texts


def run(*, quick: bool = False) -> BenchResult:
    """Measure the engine and return the figures (``quick`` uses fewer iterations)."""
    result = BenchResult(import_ms=_import_ms())
    from bot.listening import analyze, analyze_post, reflect
    from bot.listening.tables import tables

    start = time.perf_counter()
    tables().main.compile_all()
    tables().crisis.compile_all()
    result.warmup_ms = (time.perf_counter() - start) * 1000
    rng = random.Random(7)
    replies = [r[:300] for r in _REPLIES]
    for reply in replies:
        analyze(reply)
        analyze(reply, post=_POSTS[0])
    rounds = 300 if quick else 3000
    texts = _distinct_texts(rounds + rounds // 2, 200, 300, rng)
    start = time.process_time()
    for text in texts[:rounds]:
        analyze(text)
    result.analyses_per_second = rounds / (time.process_time() - start)
    start = time.process_time()
    for index, text in enumerate(texts[rounds:]):
        analyze(text, post=_POSTS[index % len(_POSTS)])
    result.analyses_per_second_with_post = (rounds // 2) / (time.process_time() - start)

    for length, p50_name, p99_name in (
        (280, "p50_280_us", "p99_280_us"),
        (4000, "p50_4000_us", "p99_4000_us"),
    ):
        samples = [
            _timed(partial(analyze, text))
            for text in _distinct_texts(100 if quick else 500, length, length, rng)
        ]
        setattr(result, p50_name, _percentile(samples, 0.5) * 1e6)
        setattr(result, p99_name, _percentile(samples, 0.99) * 1e6)

    reflect_rounds = 100 if quick else 1000
    start = time.process_time()
    for index in range(reflect_rounds):
        reflect(_POSTS[index % len(_POSTS)], variant=index)
    result.reflections_per_second = reflect_rounds / (time.process_time() - start)

    for name, text in adversarial_inputs().items():
        worst = 0.0
        for _ in range(3):
            worst = max(worst, _timed(partial(analyze, text)))
            worst = max(worst, _timed(partial(analyze_post, text)))
            worst = max(worst, _timed(partial(reflect, text)))
        result.adversarial[name] = worst * 1000
    result.adversarial_worst_case, result.adversarial_worst_ms = max(
        result.adversarial.items(), key=lambda kv: kv[1]
    )
    result.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def print_bench(result: BenchResult, out: TextIO) -> None:
    """Print the benchmark figures with the floors they are held to."""
    write = out.write
    write(
        f"analyses/s (200-300 char replies, one core): {result.analyses_per_second:,.0f}   (floor 10,000)\n"
    )
    write(f"analyses/s with the post as context:         {result.analyses_per_second_with_post:,.0f}\n")
    write(f"latency at 280 chars:   p50 {result.p50_280_us:,.0f} us   p99 {result.p99_280_us:,.0f} us\n")
    write(
        f"latency at 4,000 chars: p50 {result.p50_4000_us:,.0f} us   p99 {result.p99_4000_us:,.0f} us"
        "   (floor p99 2,000 us)\n"
    )
    write(f"reflections/s: {result.reflections_per_second:,.0f}\n")
    write(f"import time (fresh interpreter): {result.import_ms:.1f} ms   (floor 150 ms)\n")
    write(f"first-use table compile: {result.warmup_ms:.0f} ms (once per process)\n")
    write(f"peak RSS: {result.peak_rss_mb:.1f} MB\n")
    write(
        f"adversarial worst: {result.adversarial_worst_ms:.2f} ms on {result.adversarial_worst_case!r}"
        "   (floor 20 ms)\n"
    )
    for name, ms in result.adversarial.items():
        write(f"  {name:<28} {ms:7.2f} ms\n")
