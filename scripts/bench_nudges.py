"""Benchmark: gateway-event-to-nudge latency and Heard's memory after many advice-first replies.

Starts the sandbox in this process and Heard as a separate process (``python -m bot run``, exactly as in
production), configures the guild through real slash commands (watch #support, cooldown 0, a high daily
cap), then has members reply to a support post with unsolicited advice: first one at a time (each reply
waits for its nudge), then in a burst (all replies back to back). For each reply it measures the time from
the sandbox sending MESSAGE_CREATE on the gateway to the nudge DM arriving at the sandbox's REST API.
Prints p50/p90/p99/max latency per phase and Heard's RSS (VmRSS and peak VmHWM).

    python scripts/bench_nudges.py [--replies 500]

Not a test: it prints figures and asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TIMEOUT = 60.0
JUMP_LINK = re.compile(r"discord\.com/channels/\d+/\d+/(\d+)")
MEMBERS = 10
POST = "i've been so overwhelmed with work and school lately, i barely sleep and i feel like i'm failing"
ADVICE = (
    "you should just quit your job",
    "have you tried making a schedule? that's what i'd do",
    "just go to bed earlier and stop scrolling",
    "you need to talk to your boss tomorrow",
    "you should drop a class, easy",
)


def rss_of(pid: int) -> dict[str, int]:
    """Return VmRSS and VmHWM (peak) of a process in kB, from /proc."""
    figures: dict[str, int] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                figures[key] = int(value.split()[0])
    return figures


def percentile(values: list[float], fraction: float) -> float:
    """Return the nearest-rank percentile of ``values``."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


async def answer(sandbox: Any, user: Any, guild: Any, command: str, **options: Any) -> str:
    """Run a slash command and return its answer text."""
    interaction = await sandbox.slash(user, guild, command, **options)
    response = await interaction.response(timeout=TIMEOUT)
    return str(response.text())


async def one_at_a_time(sandbox: Any, members: list[Any], post: Any, replies: int) -> list[float]:
    """Send each advice reply and wait for its nudge DM before the next; return latencies in seconds."""
    scene = sandbox.scene
    dm_channels = {member.id: sandbox.world.dm_channel_for(member).id for member in members}
    seen: set[int] = set()
    latencies: list[float] = []
    for number in range(replies):
        member = members[number % len(members)]
        dm_channel_id = dm_channels[member.id]
        sent_at = time.perf_counter()
        await sandbox.member_says(member, scene.support, ADVICE[number % len(ADVICE)], reply_to=post.id)
        dm = await sandbox.wait_for_message(
            lambda message, channel_id=dm_channel_id: (
                message.channel_id == channel_id and message.id not in seen
            ),
            timeout=TIMEOUT,
        )
        latencies.append(time.perf_counter() - sent_at)
        seen.add(dm.id)
    return latencies


async def burst(sandbox: Any, members: list[Any], post: Any, replies: int) -> list[float]:
    """Send every advice reply back to back, then match each nudge DM to its reply; return latencies.

    A DM names its reply in the jump link, and the sandbox stamps each REST call, so the latency of each
    reply is the time its DM was posted minus the time its MESSAGE_CREATE was sent.
    """
    scene = sandbox.scene
    start = sandbox.mark()
    dm_channel_ids = {sandbox.world.dm_channel_for(member).id for member in members}
    sent_at: dict[int, float] = {}
    for number in range(replies):
        member = members[number % len(members)]
        stamp = time.time()
        reply = await sandbox.member_says(
            member, scene.support, ADVICE[number % len(ADVICE)], reply_to=post.id
        )
        sent_at[reply.id] = stamp
    seen: set[int] = set()
    for _ in range(replies):
        dm = await sandbox.wait_for_message(
            lambda message: message.channel_id in dm_channel_ids and message.id not in seen,
            timeout=TIMEOUT,
            since=start,
        )
        seen.add(dm.id)
    posted_at = {
        int(call.response["id"]): call.time
        for call in sandbox.calls
        if call.method == "POST"
        and isinstance(call.response, dict)
        and int(call.response.get("id", 0)) in seen
    }
    latencies = []
    for dm_id in seen:
        match = JUMP_LINK.search(sandbox.world.messages[dm_id].content)
        assert match is not None, "every nudge DM links to its reply"
        reply_id = int(match.group(1))
        latencies.append(posted_at[dm_id] - sent_at[reply_id])
    return latencies


def describe(name: str, seconds: list[float], elapsed: float) -> None:
    """Print the latency figures of one phase."""
    milliseconds = [value * 1000 for value in seconds]
    print(f"{name}: {len(milliseconds)} replies nudged in {elapsed:.1f} s")
    print(
        "  gateway-event-to-nudge-DM latency (ms): "
        f"p50 {percentile(milliseconds, 0.50):.1f}  p90 {percentile(milliseconds, 0.90):.1f}  "
        f"p99 {percentile(milliseconds, 0.99):.1f}  max {max(milliseconds):.1f}  "
        f"mean {statistics.fmean(milliseconds):.1f}"
    )


async def run(replies: int) -> int:
    """Run the benchmark and print the figures."""
    from bot.sandbox import Sandbox

    sandbox = await Sandbox.start()
    scene = sandbox.world.seed_default()
    sandbox.scene = scene
    members = [sandbox.world.add_member(scene.guild, f"listener{n}") for n in range(MEMBERS)]
    folder = tempfile.TemporaryDirectory(prefix="heard-bench-")
    env = {
        **os.environ,
        **sandbox.env_for_subprocess(prefix="HEARD_"),
        "HEARD_DATABASE_PATH": str(Path(folder.name) / "heard.sqlite3"),
        "HEARD_LOG_LEVEL": "WARNING",
    }
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", cwd=ROOT, env=env)
    try:
        await sandbox.wait_until_connected(timeout=TIMEOUT)
        await sandbox.wait_until_synced(timeout=TIMEOUT)
        await answer(sandbox, scene.admin, scene.guild, "heard setup", mod_channel=scene.mod_alerts)
        await answer(sandbox, scene.admin, scene.guild, "heard watch", channel=scene.support)
        await answer(sandbox, scene.admin, scene.guild, "heard nudges", cooldown_minutes=0, daily_cap=100)
        post = await sandbox.member_says(scene.alex, scene.support, POST)
        started = time.perf_counter()
        sequential = await one_at_a_time(sandbox, members, post, replies)
        sequential_elapsed = time.perf_counter() - started
        after_sequential = rss_of(process.pid)
        started = time.perf_counter()
        burst_latencies = await burst(sandbox, members, post, replies)
        burst_elapsed = time.perf_counter() - started
        memory = rss_of(process.pid)
    finally:
        if process.returncode is None:
            process.terminate()
        try:
            async with asyncio.timeout(TIMEOUT):
                await process.wait()
        except TimeoutError:
            process.kill()
        await sandbox.stop()
        folder.cleanup()
    print(f"Heard as its own process (python -m bot run) against the sandbox; {MEMBERS} members replying.")
    describe("one at a time", sequential, sequential_elapsed)
    describe("burst (all sent back to back)", burst_latencies, burst_elapsed)
    rss_mib = after_sequential["VmRSS"] / 1024
    print(f"Heard process RSS after {replies} replies: {rss_mib:.1f} MiB")
    print(
        f"Heard process RSS after {2 * replies} replies: {memory['VmRSS'] / 1024:.1f} MiB "
        f"(peak {memory['VmHWM'] / 1024:.1f} MiB)"
    )
    return 0


def main() -> int:
    """Parse arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--replies", type=int, default=500, help="how many advice-first replies (default 500)"
    )
    args = parser.parse_args()
    return asyncio.run(run(args.replies))


if __name__ == "__main__":
    sys.exit(main())
