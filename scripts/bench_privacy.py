"""Time the privacy operations on a large database: retention purge, /forget-me, guild deletion, export.

Usage: ``python scripts/bench_privacy.py [--nudges 200000] [--flags 50000] [--guilds 20]``. Builds a
temporary SQLite file with every migration applied and prints how long each operation took. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.storage.database import Database  # noqa: E402
from bot.storage.privacy import PrivacyRepository, iso  # noqa: E402

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


async def fill(db: Database, *, nudges: int, flags: int, guilds: int, members: int) -> None:
    """Store ``nudges`` nudge rows and ``flags`` flags (with codes, messages, audit) spread over 120 days."""
    rng = random.Random(7)

    def stamp() -> str:
        return iso(NOW - timedelta(days=rng.uniform(0, 120)))

    await db.execute_many(
        "INSERT INTO nudge (guild_id, member_id, channel_id, message_id, codes, result, created_at,"
        " updated_at) VALUES (?, ?, 1, ?, 'advising', 'dm', ?, ?)",
        [
            (rng.randrange(guilds) + 1, rng.randrange(members) + 1, number, moment, moment)
            for number, moment in ((n, stamp()) for n in range(nudges))
        ],
    )
    rows = []
    for number in range(flags):
        moment = stamp()
        rows.append((number + 1, rng.randrange(guilds) + 1, number, rng.randrange(members) + 1, moment))
    await db.execute_many(
        "INSERT INTO flag (id, guild_id, channel_id, message_id, author_id, codes, confidence, excerpt,"
        " latest_channel_id, latest_message_id, created_at, last_seen_at)"
        " VALUES (?, ?, 1, ?, ?, 'judging', 0.9, 'some matched words', 1, 0, ?, ?5)",
        rows,
    )
    await db.execute_many(
        "INSERT INTO flag_code (flag_id, code, confidence) VALUES (?, 'judging', 0.9)",
        [(row[0],) for row in rows],
    )
    await db.execute_many(
        "INSERT INTO flag_message (flag_id, channel_id, message_id, seen_at) VALUES (?, 1, ?, ?)",
        [(row[0], row[2], row[4]) for row in rows],
    )
    await db.execute_many(
        "INSERT INTO flag_audit (guild_id, flag_id, actor_id, action, previous_status, new_status,"
        " created_at) VALUES (?, ?, ?, 'resolve', 'open', 'resolved', ?)",
        [(row[1], row[0], rng.randrange(members) + 1, row[4]) for row in rows],
    )


async def timed(label: str, operation: object) -> None:
    """Await ``operation`` and print how long it took and what it returned (summed when a dict)."""
    start = time.perf_counter()
    result = await operation  # type: ignore[misc]
    elapsed = time.perf_counter() - start
    summary = sum(v for v in result.values() if isinstance(v, int)) if isinstance(result, dict) else result
    print(f"{label:<28} {elapsed * 1000:9.1f} ms   ({summary} rows)")


async def main() -> None:
    """Build the database and time each operation once."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nudges", type=int, default=200_000)
    parser.add_argument("--flags", type=int, default=50_000)
    parser.add_argument("--guilds", type=int, default=20)
    parser.add_argument("--members", type=int, default=5_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = await Database.open(Path(folder) / "bench.sqlite3")
        privacy = PrivacyRepository(db, setting_days={"retention_days": 30})
        await privacy.prepare()
        start = time.perf_counter()
        await fill(db, nudges=args.nudges, flags=args.flags, guilds=args.guilds, members=args.members)
        print(f"filled {args.nudges} nudges and {args.flags} flags in {time.perf_counter() - start:.1f} s")
        await timed("purge_expired (first run)", privacy.purge_expired(NOW))
        await timed("purge_expired (again)", privacy.purge_expired(NOW))
        await timed("forget_member", privacy.forget_member(1, 1, keep_opt_out=False))
        await timed("export_guild", _export_size(privacy))
        await timed("delete_guild_data", privacy.delete_guild_data(2))
        await db.close()


async def _export_size(privacy: PrivacyRepository) -> int:
    """Export guild 1 and return how many rows the export holds."""
    exported = await privacy.export_guild(1, now=NOW)
    return sum(len(rows) for rows in exported["tables"].values())


if __name__ == "__main__":
    asyncio.run(main())
