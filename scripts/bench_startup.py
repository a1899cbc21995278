"""Measure ``heard run`` against the sandbox: seconds from process start to ready, and idle RSS.

Run: ``python scripts/bench_startup.py [--runs 5]``. Prints figures; not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
READY_MARKER = "connected as"
IDLE_SECONDS = 5.0


def rss_mib(pid: int) -> float:
    """Return the resident set size of ``pid`` in MiB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def one_run(folder: Path) -> tuple[float, float, float]:
    """Start ``heard run`` once; return (seconds to ready, seconds to synced+connected, idle RSS MiB)."""
    from bot.sandbox import Sandbox

    sandbox = await Sandbox.start()
    sandbox.world.seed_default()
    env = {key: value for key, value in os.environ.items() if not key.startswith("HEARD_")}
    env.update(sandbox.env_for_subprocess(prefix="HEARD_"))
    env.update(
        {"HEARD_DATABASE_PATH": str(folder / f"{time.monotonic_ns()}.sqlite3"), "HEARD_LOG_LEVEL": "INFO"}
    )
    env["PYTHONPATH"] = str(REPO)
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, cwd=folder, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    try:
        await sandbox.wait_until_synced(timeout=60)
        await sandbox.wait_until_connected(timeout=60)
        connected = time.perf_counter() - started
        while READY_MARKER not in (await process.stderr.readline()).decode():
            pass
        ready = time.perf_counter() - started
        await asyncio.sleep(IDLE_SECONDS)  # a benchmark, not a test: let it settle before measuring
        rss = rss_mib(process.pid)
        process.send_signal(signal.SIGTERM)
        await process.wait()
        assert process.returncode == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await sandbox.stop()
    return ready, connected, rss


async def main() -> None:
    """Run the measurement several times and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.runs):
            results.append(await one_run(Path(folder)))
    ready = [result[0] for result in results]
    connected = [result[1] for result in results]
    rss = [result[2] for result in results]
    print(f"runs: {args.runs}")
    print(f"start -> commands synced + gateway connected: median {statistics.median(connected):.2f} s")
    print(
        f"start -> ready (on_ready, incl. discord.py's 2 s guild_ready_timeout): median "
        f"{statistics.median(ready):.2f} s (min {min(ready):.2f}, max {max(ready):.2f})"
    )
    print(
        f"idle RSS after {IDLE_SECONDS:.0f} s: median {statistics.median(rss):.1f} MiB (max {max(rss):.1f})"
    )


if __name__ == "__main__":
    asyncio.run(main())
