"""Replay an export through the listening engine and sum up what Heard would have done.

One pass over the file: each member-written message is resolved (a reply → the message it answers, if that
message is in the export; a message in someone else's thread → the thread's first post), analysed once with
the real engine, handed to the output sinks (JSONL, HTML) and counted. Only counts and a bounded list of top
examples are kept in memory.
"""

from __future__ import annotations

import contextlib
import heapq
import multiprocessing
import multiprocessing.pool
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal, Protocol

from bot.insights.daily import DailyCounts, DayTally
from bot.listening.types import Analysis
from bot.replay.export import ANALYSED_TYPES, ExportHeader, ExportMessage, ExportReader
from bot.replay.index import MessageIndex

EXAMPLE_TEXT_CHARS = 1000
"""Examples keep at most this much of a message's text (the report shows them; the rest is not needed)."""

WARM_UP_POST = "I feel so tired and sad, I don't know what to do anymore"
WARM_UP_REPLY = "It sounds like you're exhausted. You should just try harder, what happened?"
BATCH_SIZE = 2000
"""Messages resolved before the engine runs on them (bounds memory; lets worker processes share work)."""
_START_METHOD = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
SkipReason = Literal["bot", "system", "empty", "forwarded"]
ProgressCallback = Callable[[int, int, int], None]
"""Called as ``progress(messages_read, bytes_read, total_bytes)`` every few hundred messages."""


@dataclass(frozen=True, slots=True)
class MessageResult:
    """The engine's reading of one exported message and how it was resolved."""

    message: ExportMessage
    kind: Literal["reply", "post"]
    post_id: str | None
    target_missing: bool
    analysis: Analysis
    link: str | None


class ResultSink(Protocol):
    """Something that receives every analysed message (the JSONL and HTML writers)."""

    def write(self, result: MessageResult) -> None:
        """Receive one result."""


@dataclass(frozen=True, slots=True)
class Example:
    """A message worth showing in the report's top lists."""

    message_id: str
    link: str | None
    timestamp: str
    text: str
    analysis: Analysis
    kind: Literal["reply", "post"]


@dataclass(slots=True)
class ReplaySummary:
    """Everything the replay counted, plus the top examples (bounded) and the speed."""

    header: ExportHeader
    source: Path
    messages_read: int = 0
    analysed: int = 0
    replies: int = 0
    posts: int = 0
    replies_target_missing: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    actions: Counter[str] = field(default_factory=Counter)
    codes: dict[str, Counter[str]] = field(default_factory=dict)
    crisis_levels: Counter[str] = field(default_factory=Counter)
    crisis_indicators: Counter[str] = field(default_factory=Counter)
    moves: Counter[str] = field(default_factory=Counter)
    top_flags: list[Example] = field(default_factory=list)
    top_nudges: list[Example] = field(default_factory=list)
    top_crisis: list[Example] = field(default_factory=list)
    days: list[DailyCounts] = field(default_factory=list)
    elapsed_seconds: float = 0.0

    @property
    def messages_per_second(self) -> float:
        """Return how many exported messages were read and analysed per second of wall time."""
        return self.messages_read / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0

    @property
    def crisis_total(self) -> int:
        """Return how many messages would have been escalated as crisis (concern or urgent)."""
        return sum(self.crisis_levels.values())


def message_link(header: ExportHeader, message_id: str) -> str | None:
    """Return the Discord link to a message of this export, or None if the export lacks the channel id."""
    if not header.channel_id:
        return None
    guild = header.guild_id if header.guild_id and header.guild_id != "0" else "@me"
    return f"https://discord.com/channels/{guild}/{header.channel_id}/{message_id}"


class _TopList:
    """The N highest-scoring examples seen so far (a min-heap, so memory stays at N)."""

    def __init__(self, size: int) -> None:
        """Keep at most ``size`` examples."""
        self._size = size
        self._heap: list[tuple[float, int, Example]] = []

    def offer(self, score: float, order: int, example_factory: Callable[[], Example]) -> None:
        """Keep the example if it is among the top N (earlier messages win ties)."""
        if self._size <= 0:
            return
        entry_key = (score, -order)
        if len(self._heap) < self._size:
            heapq.heappush(self._heap, (score, -order, example_factory()))
        elif entry_key > self._heap[0][:2]:
            heapq.heapreplace(self._heap, (score, -order, example_factory()))

    def sorted(self) -> list[Example]:
        """Return the kept examples, best first."""
        return [entry[2] for entry in sorted(self._heap, key=lambda entry: entry[:2], reverse=True)]


@dataclass(frozen=True, slots=True)
class _Job:
    """One message waiting for the engine: how it was resolved and what to analyse."""

    message: ExportMessage
    post_id: str | None
    post_text: str | None
    target_missing: bool


def _analyse(job: tuple[str, str | None, bool]) -> Analysis:
    """Run the engine on ``(text, post_text, is_reply)`` (top-level so worker processes can run it)."""
    from bot.listening import analyze, analyze_post

    text, post_text, is_reply = job
    return analyze(text, post=post_text or None) if is_reply else analyze_post(text)


def replay_export(
    path: Path,
    *,
    top: int = 10,
    sinks: Sequence[ResultSink] = (),
    progress: ProgressCallback | None = None,
    temp_dir: Path | None = None,
    jobs: int = 1,
) -> ReplaySummary:
    """Run the engine over every member message of the export at ``path`` and return the summary.

    With ``jobs`` > 1 the engine runs in that many worker processes, on batches of :data:`BATCH_SIZE`
    messages, so memory stays bounded and results keep the export's order.
    Raises :class:`bot.replay.export.ExportError` (with the place it broke) for a malformed export.
    """
    # The engine compiles its tables on first use; do that before the clock starts so the rate is honest
    # (and before forking, so worker processes inherit the compiled tables).
    _analyse((WARM_UP_REPLY, WARM_UP_POST, True))
    _analyse((WARM_UP_POST, None, False))
    with contextlib.ExitStack() as stack:
        pool = None
        if jobs > 1:
            pool = stack.enter_context(multiprocessing.get_context(_START_METHOD).Pool(jobs))
        reader = stack.enter_context(ExportReader(path))
        index = stack.enter_context(MessageIndex(temp_dir))
        replayer = _Replayer(reader.header, path, top, sinks)
        runner = _BatchRunner(pool, replayer.record)
        started = time.perf_counter()
        batch: list[_Job] = []
        for message in reader.messages():
            replayer.summary.messages_read += 1
            if progress is not None and replayer.summary.messages_read % 500 == 0:
                progress(replayer.summary.messages_read, reader.bytes_read, reader.size)
            job = replayer.resolve(message, index)
            if job is not None:
                batch.append(job)
            if len(batch) >= BATCH_SIZE:
                runner.submit(batch)
                batch = []
        runner.submit(batch)
        runner.finish()
        if progress is not None:
            progress(replayer.summary.messages_read, reader.bytes_read, reader.size)
        return replayer.done(time.perf_counter() - started)


class _BatchRunner:
    """Runs the engine on batches of jobs and records the results in export order.

    With a worker pool, one batch is analysed in the workers while the previous one is recorded and the
    next one is read, so parsing and analysis overlap; at most two batches are held at once.
    """

    def __init__(
        self, pool: multiprocessing.pool.Pool | None, record: Callable[[_Job, Analysis], None]
    ) -> None:
        """Analyse in ``pool`` (or in this process when None) and hand each result to ``record``."""
        self._pool = pool
        self._record = record
        self._in_flight: tuple[list[_Job], multiprocessing.pool.AsyncResult[list[Analysis]]] | None = None

    def submit(self, batch: list[_Job]) -> None:
        """Start analysing ``batch``; results of the batch before it are recorded meanwhile."""
        if not batch:
            return
        work = [(job.message.content, job.post_text, job.post_id is not None) for job in batch]
        if self._pool is None:
            for job, analysis in zip(batch, map(_analyse, work), strict=True):
                self._record(job, analysis)
            return
        handle = self._pool.map_async(_analyse, work, chunksize=64)
        self.finish()
        self._in_flight = (batch, handle)

    def finish(self) -> None:
        """Wait for the batch in flight, if any, and record its results."""
        if self._in_flight is None:
            return
        batch, handle = self._in_flight
        self._in_flight = None
        for job, analysis in zip(batch, handle.get(), strict=True):
            self._record(job, analysis)


class _Replayer:
    """The state of one replay: resolves messages, then counts and hands out the analysed results."""

    def __init__(self, header: ExportHeader, source: Path, top: int, sinks: Sequence[ResultSink]) -> None:
        """Start with empty counters."""
        self.header = header
        self.summary = ReplaySummary(header=header, source=source)
        self.sinks = sinks
        self.tallies: dict[date, DayTally] = {}
        self.top_flags, self.top_nudges, self.top_crisis = _TopList(top), _TopList(top), _TopList(top)
        self.thread_post: tuple[str, str, str] | None = None  # (id, author id, text) of a thread's first post

    def resolve(self, message: ExportMessage, index: MessageIndex) -> _Job | None:
        """Index the message and return what to analyse, or None (counted as skipped) if it is not analysed.

        A reply answers its target when the target is in the export and written by another member; a
        message in a thread answers the thread's first post when someone else wrote that post.
        """
        index.add(message.id, message.author_id, message.author_is_bot, message.content)
        reason = _skip_reason(message)
        if reason is not None:
            self.summary.skipped[reason] += 1
            return None
        if self.header.is_thread and (self.thread_post is None or message.id == self.header.channel_id):
            self.thread_post = (message.id, message.author_id, message.content)
        if message.reference_id is not None:
            target = index.get(message.reference_id)
            if target is None:
                return _Job(message, None, None, target_missing=True)
            if target.author_id != message.author_id and not target.author_is_bot:
                return _Job(message, message.reference_id, target.text, target_missing=False)
            return _Job(message, None, None, target_missing=False)
        thread_post = self.thread_post
        if thread_post is not None and thread_post[0] != message.id and thread_post[1] != message.author_id:
            return _Job(message, thread_post[0], thread_post[2], target_missing=False)
        return _Job(message, None, None, target_missing=False)

    def record(self, job: _Job, analysis: Analysis) -> None:
        """Hand one result to the sinks and add it to the counters and top lists."""
        summary = self.summary
        kind: Literal["reply", "post"] = "reply" if job.post_id is not None else "post"
        if kind == "reply":
            summary.replies += 1
        else:
            summary.posts += 1
        if job.target_missing:
            summary.replies_target_missing += 1
        summary.analysed += 1
        link = message_link(self.header, job.message.id)
        result = MessageResult(job.message, kind, job.post_id, job.target_missing, analysis, link)
        for sink in self.sinks:
            sink.write(result)
        _count(summary, self.tallies, result)
        _offer_examples(result, self.top_flags, self.top_nudges, self.top_crisis)

    def done(self, elapsed_seconds: float) -> ReplaySummary:
        """Freeze the top lists and daily rows into the summary and return it."""
        summary = self.summary
        summary.top_flags = self.top_flags.sorted()
        summary.top_nudges = self.top_nudges.sorted()
        summary.top_crisis = self.top_crisis.sorted()
        summary.days = [self.tallies[day].freeze(day) for day in sorted(self.tallies)]
        summary.elapsed_seconds = elapsed_seconds
        return summary


def _skip_reason(message: ExportMessage) -> SkipReason | None:
    """Return why a message is not analysed (bots, system messages, forwards, no text), or None."""
    if message.author_is_bot:
        return "bot"
    if message.type not in ANALYSED_TYPES:
        return "system"
    if message.is_forward:
        return "forwarded"
    if not message.content.strip():
        return "empty"
    return None


def _count(summary: ReplaySummary, tallies: dict[date, DayTally], result: MessageResult) -> None:
    """Add one result to the summary's counters and its day's tally."""
    analysis = result.analysis
    summary.actions[analysis.action] += 1
    for code in analysis.codes:
        summary.codes.setdefault(code, Counter())[analysis.action] += 1
    if analysis.crisis.level != "none":
        summary.crisis_levels[analysis.crisis.level] += 1
        summary.crisis_indicators.update(analysis.crisis.kinds)
    for move in analysis.moves:
        summary.moves[move.move] += 1
    if result.kind != "reply":
        return
    tally = tallies.setdefault(result.message.day, DayTally())
    tally.replies_seen += 1
    if analysis.moves:
        tally.replies_with_move += 1
    tally.reflections += sum(1 for move in analysis.moves if move.move == "reflection")
    tally.open_questions += sum(1 for move in analysis.moves if move.move == "open_question")
    if analysis.action == "nudge":
        tally.nudges_sent += 1
    elif analysis.action == "flag":
        tally.flags_by_code.update(r.code for r in analysis.roadblocks if r.tier == "flag")


def _offer_examples(result: MessageResult, flags: _TopList, nudges: _TopList, crisis: _TopList) -> None:
    """Offer the result to the top lists it belongs to."""
    analysis = result.analysis
    order = result.message.index

    def example() -> Example:
        message = result.message
        return Example(
            message_id=message.id,
            link=result.link,
            timestamp=message.timestamp.isoformat(timespec="minutes"),
            text=message.content[:EXAMPLE_TEXT_CHARS],
            analysis=analysis,
            kind=result.kind,
        )

    if analysis.action in ("flag", "nudge"):
        tier = analysis.action
        score = max((r.confidence for r in analysis.roadblocks if r.tier == tier), default=0.0)
        (flags if tier == "flag" else nudges).offer(score, order, example)
    if analysis.crisis.level != "none":
        score = (2.0 if analysis.crisis.level == "urgent" else 1.0) + len(analysis.crisis.kinds) / 100
        crisis.offer(score, order, example)
