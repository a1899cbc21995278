"""Helpers shared by the member-feature tests (/reflect, /coach, nudges): texts and waiting on decisions."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bot.bot import HeardBot
from cogs.nudges import NudgeDecision

TIMEOUT = 30.0
POST = "i've been so overwhelmed with work and school lately. i barely sleep and i feel like i'm failing"
ADVICE = "you should just quit your job. have you tried making a schedule?"
ADVICE_WORDS = "quit your job"
OTHER_ADVICE = "just go to bed earlier and stop scrolling, you need to fix your sleep"
KIND = "that sounds really exhausting, carrying all of that at once. what's been the hardest part?"
SOFTWARE_LINE = "software-written suggestions to adapt in your own words"


class Decisions:
    """Collects what Heard decided about each message, so tests wait on a condition, not a sleep.

    ``nudge_decided`` (from the nudges cog) and ``heard_message_ignored`` (from the listening pipeline,
    for messages outside support spaces) are recorded by message id.
    """

    def __init__(self) -> None:
        """Start with nothing recorded."""
        self.results: dict[int, str] = {}
        self._changed = asyncio.Event()

    def attach(self, bot: HeardBot) -> Decisions:
        """Listen on ``bot`` (call again after a restart) and return self."""
        bot.add_listener(self._on_nudge_decided, "on_nudge_decided")
        bot.add_listener(self._on_ignored, "on_heard_message_ignored")
        return self

    async def _on_nudge_decided(self, decision: NudgeDecision) -> None:
        self.results[decision.message_id] = decision.result
        self._changed.set()

    async def _on_ignored(self, message_id: int, reason: str) -> None:
        self.results[message_id] = f"ignored:{reason}"
        self._changed.set()

    async def wait(self, message_id: int, within: float = TIMEOUT) -> str:
        """Return what was decided for ``message_id``, waiting for it if needed."""
        async with asyncio.timeout(within):
            while True:
                if message_id in self.results:
                    return self.results[message_id]
                self._changed.clear()
                await self._changed.wait()


def dms_to(sandbox: Any, user: Any) -> list[Any]:
    """Return the messages Heard sent to ``user`` by DM so far."""
    return list(sandbox.dms_to(user))


async def wait_for_dm(sandbox: Any, user: Any, *, after: Iterable[int] = ()) -> Any:
    """Wait for a new DM from Heard to ``user`` (one whose id is not in ``after``)."""
    dm_channel_id = sandbox.world.dm_channel_for(user).id
    known = set(after)
    return await sandbox.wait_for_message(
        lambda message: message.channel_id == dm_channel_id and message.id not in known, timeout=TIMEOUT
    )


def database_bytes(db_path: Path) -> bytes:
    """Return the raw bytes of the database file and its write-ahead log (for privacy checks)."""
    data = db_path.read_bytes()
    wal = db_path.with_name(db_path.name + "-wal")
    return data + (wal.read_bytes() if wal.exists() else b"")


def nudge_rows(db_path: Path) -> list[dict[str, Any]]:
    """Return every stored nudge row as a dict (read with a separate connection, as an operator would)."""
    connection = sqlite3.connect(db_path)
    connection.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in connection.execute("SELECT * FROM nudge ORDER BY id")]
    finally:
        connection.close()


async def answer(sandbox: Any, user: Any, command: str, *, force: bool = False, **options: Any) -> Any:
    """Run a slash command as ``user`` in the scene's guild and return Heard's first answer.

    ``force`` sends it even where Discord's client would hide the command (to test run-time checks).
    """
    interaction = await sandbox.slash(user, sandbox.scene.guild, command, force=force, **options)
    return await interaction.response(timeout=TIMEOUT)


def expected_try_instead(reply: str = ADVICE, post: str = POST) -> str:
    """Return the engine's try-instead for the most confident roadblock of ``reply`` (what a nudge shows)."""
    from bot.listening import analyze

    analysis = analyze(reply, post=post)
    assert analysis.roadblocks, "the example reply should have a roadblock"
    return max(analysis.roadblocks, key=lambda roadblock: roadblock.confidence).try_instead.strip()
