"""Benchmark: moderator alerts delivered exactly once under injected faults and restarts, and latency.

Starts the sandbox in this process and Heard as a separate process (``python -m bot run``, as in
production), configures the guild through real slash commands (watch #support, dedup window 0 so every
reply is its own flag), then has members answer a support post with hurtful replies, one after another.
While it runs it injects faults on the moderator channel — 500s, 429s, a window of missing permissions
(403) — and restarts Heard: half the time with SIGTERM, half with SIGKILL (a crash, leases left behind),
each while an alert is inside discord.py's 5xx retry. At the end it checks every flag recorded in the
database has exactly one alert in the moderator channel, and prints the event-to-alert latency
(MESSAGE_CREATE sent on the gateway → the alert's POST answered by the sandbox) for all alerts and for
those no fault or restart touched directly (they can still queue behind one: same channel, same bucket).

    python scripts/bench_alerts.py [--alerts 300] [--restart-every 60]

Not a test: it prints figures and asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TIMEOUT = 60.0
MEMBERS = 12
POST = "My exam went badly and I am dreading telling my parents."
HURTFUL = (
    "Honestly that's your own fault, you're so lazy and pathetic.",
    "You're so dramatic, it's your own fault for not studying.",
    "That's pathetic. You brought this on yourself.",
)
MESSAGES_ROUTE = "/channels/{channel_id}/messages"
MARKER = re.compile(r"Heard flag #(\d+)")


def percentile(values: list[float], fraction: float) -> float:
    """Return the nearest-rank percentile of ``values``."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


def describe(values: list[float]) -> str:
    """Return p50/p90/p99/max of latencies in milliseconds."""
    if not values:
        return "none"
    return (
        f"p50 {percentile(values, 0.5):.1f}  p90 {percentile(values, 0.9):.1f}  "
        f"p99 {percentile(values, 0.99):.1f}  max {max(values):.1f}  (n={len(values)})"
    )


async def answer(sandbox: Any, user: Any, guild: Any, command: str, **options: Any) -> str:
    """Run a slash command and return its answer text."""
    interaction = await sandbox.slash(user, guild, command, **options)
    response = await interaction.response(timeout=TIMEOUT)
    return str(response.text())


class HeardProcess:
    """Heard running as ``python -m bot run`` against the sandbox."""

    def __init__(self, env: dict[str, str]) -> None:
        """Remember the environment; :meth:`start` launches it."""
        self.env = env
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, sandbox: Any) -> None:
        """Start Heard and wait until it is connected to the sandbox's gateway."""
        mark = len(sandbox.calls)
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=ROOT, env=self.env
        )
        await sandbox.wait_for_call(
            lambda call: call.method == "PUT" and "commands" in call.path,
            timeout=TIMEOUT,
            since=_since(sandbox, mark),
        )
        await sandbox.wait_until_connected(timeout=TIMEOUT)

    async def stop(self, *, crash: bool) -> None:
        """Stop Heard: SIGKILL (a crash) or SIGTERM (a clean shutdown)."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL if crash else signal.SIGTERM)
        async with asyncio.timeout(TIMEOUT):
            await self.process.wait()


def _since(sandbox: Any, call_serial: int) -> Any:
    """Return a checkpoint at ``call_serial`` REST calls (messages: now)."""
    mark = sandbox.mark()
    return type(mark)(mark.message_serial, call_serial)


def flag_for_message(database: Path, message_id: int) -> int | None:
    """Return the flag id recorded for a message, reading the live database (WAL allows it)."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10) as connection:
        row = connection.execute(
            "SELECT flag_id FROM flag_message WHERE message_id = ?", (message_id,)
        ).fetchone()
    return int(row[0]) if row else None


def all_flags(database: Path) -> dict[int, int]:
    """Return {flag id: first message id} of every stored flag."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10) as connection:
        return {
            int(flag_id): int(message_id)
            for flag_id, message_id in connection.execute("SELECT id, message_id FROM flag")
        }


async def wait_for_flag(database: Path, message_id: int) -> int:
    """Wait until Heard recorded the flag of ``message_id`` (polling the database file)."""
    async with asyncio.timeout(TIMEOUT):
        while True:
            flag_id = await asyncio.to_thread(flag_for_message, database, message_id)
            if flag_id is not None:
                return flag_id
            await asyncio.sleep(0.005)


async def run(alerts: int, restart_every: int, inject_faults: bool, interval: float) -> int:
    """Run the benchmark and print the figures."""
    from bot.sandbox import Sandbox

    sandbox = await Sandbox.start()
    scene = sandbox.world.seed_default()
    members = [sandbox.world.add_member(scene.guild, f"replier{n}") for n in range(MEMBERS)]
    folder = tempfile.TemporaryDirectory(prefix="heard-bench-alerts-")
    database = Path(folder.name) / "heard.sqlite3"
    env = {
        **os.environ,
        **sandbox.env_for_subprocess(prefix="HEARD_"),
        "HEARD_DATABASE_PATH": str(database),
        "HEARD_LOG_LEVEL": os.environ.get("BENCH_HEARD_LOG_LEVEL", "ERROR"),
        "HEARD_ALERT_RETRY_BASE_SECONDS": "0.2",
        "HEARD_ALERT_RETRY_MAX_SECONDS": "2",
        "HEARD_ALERT_LEASE_SECONDS": "10",
    }
    heard = HeardProcess(env)
    mod_channel = scene.mod_alerts.id
    channel_record = sandbox.world.channel(scene.mod_alerts)
    open_overwrites = list(channel_record.overwrites)
    bot_role_id = scene.guild.bot_role_id
    closed_overwrites = [o for o in open_overwrites if str(o["id"]) != str(bot_role_id)]
    sent_at: dict[int, float] = {}  # reply message id -> when MESSAGE_CREATE was sent
    touched: set[int] = set()  # reply message ids whose alert met a fault or a restart
    faults = {"500": 0, "429": 0, "403 windows": 0, "restarts (SIGTERM)": 0, "restarts (SIGKILL)": 0}
    blocked_until = -1
    started = time.perf_counter()
    started_wall = time.time()
    try:
        await heard.start(sandbox)
        await answer(
            sandbox,
            scene.admin,
            scene.guild,
            "heard setup",
            mod_channel=scene.mod_alerts,
            role=scene.mod_role,
        )
        await answer(sandbox, scene.admin, scene.guild, "heard watch", channel=scene.support)
        await answer(sandbox, scene.admin, scene.guild, "heard alerts", dedup_minutes=0)
        post = await sandbox.member_says(scene.alex, scene.support, POST)
        for number in range(alerts):
            phase = number % 20 if inject_faults else -1
            faulted = False
            if phase == 3:
                sandbox.faults.fail_next("POST", MESSAGES_ROUTE, status=500, count=1, channel_id=mod_channel)
                faults["500"] += 1
                faulted = True
            elif phase in (7, 15):
                sandbox.faults.fail_next(
                    "POST", MESSAGES_ROUTE, status=429, count=2, retry_after=0.05, channel_id=mod_channel
                )
                faults["429"] += 1
                faulted = True
            if inject_faults and number % 100 == 50:
                sandbox.world.set_overwrites(scene.mod_alerts, closed_overwrites)
                blocked_until = number + 5
                faults["403 windows"] += 1
            if number == blocked_until:
                sandbox.world.set_overwrites(scene.mod_alerts, open_overwrites)
            if number <= blocked_until:
                faulted = True
            restart_now = (
                bool(restart_every) and number % restart_every == restart_every - 1 and number < alerts - 1
            )
            if (
                restart_now
            ):  # make sure this alert is mid-delivery (in discord.py's 5xx retry) when Heard stops
                sandbox.faults.fail_next("POST", MESSAGES_ROUTE, status=500, count=1, channel_id=mod_channel)
                faulted = True
            member = members[number % MEMBERS]
            mark = sandbox.mark()
            moment = time.time()
            reply = await sandbox.member_says(
                member, scene.support, HURTFUL[number % len(HURTFUL)], reply_to=post.id
            )
            sent_at[reply.id] = moment
            if faulted:
                touched.add(reply.id)
            await wait_for_flag(database, reply.id)
            if restart_now:
                await sandbox.wait_for_call(
                    lambda call: call.method == "POST" and call.status == 500, timeout=TIMEOUT, since=mark
                )
                crash = (number // restart_every) % 2 == 1
                await heard.stop(crash=crash)
                faults["restarts (SIGKILL)" if crash else "restarts (SIGTERM)"] += 1
                touched.add(reply.id)
                await heard.start(sandbox)
            await asyncio.sleep(interval)  # pacing: members don't all write in the same millisecond
        sandbox.world.set_overwrites(scene.mod_alerts, open_overwrites)
        flags = await asyncio.to_thread(all_flags, database)
        deadline = time.monotonic() + TIMEOUT * 2
        while time.monotonic() < deadline:
            delivered = {
                int(m.group(1))
                for msg in sandbox.messages_in(mod_channel)
                if (m := MARKER.search(msg.text()))
            }
            if set(flags) <= delivered:
                break
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
    finally:
        if heard.process is not None and heard.process.returncode is None:
            await heard.stop(crash=False)
        await sandbox.stop()

    per_flag: dict[int, int] = {}
    for message in sandbox.messages_in(mod_channel):
        match = MARKER.search(message.text())
        if match:
            per_flag[int(match.group(1))] = per_flag.get(int(match.group(1)), 0) + 1
    exactly_once = sum(1 for flag_id in flags if per_flag.get(flag_id) == 1)
    duplicates = sum(1 for flag_id in flags if per_flag.get(flag_id, 0) > 1)
    missing = sum(1 for flag_id in flags if per_flag.get(flag_id, 0) == 0)

    first_post: dict[int, float] = {}
    for call in sandbox.calls:
        if call.method != "POST" or call.status != 200 or call.params.get("channel_id") != str(mod_channel):
            continue
        body = call.json if isinstance(call.json, dict) else {}
        footer = " ".join(str(embed.get("footer", {}).get("text", "")) for embed in body.get("embeds", []))
        match = MARKER.search(footer)
        if match:
            first_post.setdefault(int(match.group(1)), call.time)
    every: list[float] = []
    clean: list[float] = []
    for flag_id, message_id in flags.items():
        if flag_id in first_post and message_id in sent_at:
            latency = (first_post[flag_id] - sent_at[message_id]) * 1000
            if os.environ.get("BENCH_DEBUG"):
                print(flag_id, round(sent_at[message_id] - started_wall, 3), round(latency, 1))
            every.append(latency)
            if message_id not in touched:
                clean.append(latency)
    folder.cleanup()

    print(f"hurtful replies sent: {alerts}; flags recorded: {len(flags)}; run took {elapsed:.1f} s")
    print("faults injected: " + ", ".join(f"{name} {count}" for name, count in faults.items()))
    print(
        f"alerts delivered exactly once: {exactly_once} of {len(flags)} "
        f"(duplicates {duplicates}, missing {missing})"
    )
    print(f"event-to-alert latency, all alerts (ms): {describe(every)}")
    print(f"event-to-alert latency, alerts no fault or restart touched (ms): {describe(clean)}")
    return 0 if exactly_once == len(flags) == alerts else 1


def main() -> int:
    """Parse arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--alerts", type=int, default=300, help="how many hurtful replies (default 300)")
    parser.add_argument(
        "--restart-every", type=int, default=60, help="restart Heard after this many replies (0 = never)"
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=0.1,
        help="seconds between replies (default 0.1, i.e. ~10 per second)",
    )
    parser.add_argument("--no-faults", action="store_true", help="a baseline run without injected faults")
    args = parser.parse_args()
    return asyncio.run(run(args.alerts, args.restart_every, not args.no_faults, args.interval))


if __name__ == "__main__":
    sys.exit(main())
