"""Benchmark ``heard replay`` on a generated 200,000-message export: messages/s and peak RSS.

Usage: ``python scripts/bench_replay.py [--messages N] [--html] [--keep DIR]``

The export is generated (streamed) into a temporary folder, then ``heard replay EXPORT --jsonl OUT`` runs in a
child process so its peak resident memory is measured on its own (``getrusage(RUSAGE_CHILDREN)``).
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.replay.synthetic import write_export  # noqa: E402


def main() -> int:
    """Generate the export, replay it in a child process, and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--messages", type=int, default=200_000, help="messages to generate (default 200,000)"
    )
    parser.add_argument("--html", action="store_true", help="also write the HTML report (adds the chart)")
    parser.add_argument("--keep", type=Path, help="generate into this folder and keep the files")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes for the engine (default 1)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="heard-bench-") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        export = write_export(folder / "export.json", args.messages)
        size_mb = export.path.stat().st_size / 1e6
        print(
            f"generated {export.messages:,} messages ({size_mb:,.0f} MB) "
            f"in {time.perf_counter() - started:.1f} s"
        )
        command = [
            sys.executable,
            "-m",
            "bot",
            "replay",
            str(export.path),
            "--jsonl",
            str(folder / "out.jsonl"),
        ]
        command += ["--jobs", str(args.jobs)]
        if args.html:
            command += ["--html", str(folder / "report.html")]
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return 1
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        rate = re.search(r"\(([\d,]+) messages/s\)", done.stdout)
        print(
            f"replay: {rate.group(1) if rate else '?'} messages/s (in-process), "
            f"{wall:.1f} s wall incl. start-up"
        )
        print(f"peak RSS of the replay process: {peak_mb:,.0f} MB")
        print("\n".join(done.stdout.splitlines()[:16]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
