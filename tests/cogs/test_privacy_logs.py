"""No message text and no token in the logs (INFO and above) or in the database beyond enabled excerpts.

Runs a whole support conversation through the real bot, engine and SQLite file in the sandbox: setup, a
support post, an advice reply that gets a private nudge, a judgmental reply that gets flagged, and a crisis
post. Then every captured log line and every value of every column of every table is checked.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.storage.database import Database
from tests.conftest import configure_guild

TIMEOUT = 30.0
WINDOW = 18  # any run of this many characters of a message counts as a leak
LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"

SUPPORT_POST = "I have been feeling so alone since my dad passed away and I barely sleep at night anymore."
ADVICE_REPLY = "You should just go to bed earlier and stop scrolling on your phone, that fixes everything."
JUDGING_REPLY = "Honestly you are being pathetic and dramatic, grow up and stop whining about your dad."
CRISIS_POST = "I don't want to be alive anymore and I keep thinking about ending my life tonight."
MESSAGES = (SUPPORT_POST, ADVICE_REPLY, JUDGING_REPLY, CRISIS_POST)


def windows(text: str, size: int = WINDOW) -> Iterator[str]:
    """Yield every run of ``size`` characters of ``text`` (whitespace collapsed, lower case)."""
    flat = re.sub(r"\s+", " ", text).strip().lower()
    for start in range(max(len(flat) - size + 1, 1)):
        yield flat[start : start + size]


def leaks(haystack: str, secrets: Iterable[str]) -> list[str]:
    """Return the pieces of ``secrets`` that appear in ``haystack``."""
    flat = re.sub(r"\s+", " ", haystack).lower()
    return [piece for secret in secrets for piece in windows(secret) if piece in flat]


@pytest.fixture
def root_log() -> Iterator[io.StringIO]:
    """Everything the root logger writes at INFO and above, formatted as ``heard run`` formats it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


async def test_a_whole_conversation_leaves_no_text_or_token_in_logs_or_database(
    sandbox: Any, start_heard: Any, db_path: Path, caplog: pytest.LogCaptureFixture, root_log: io.StringIO
) -> None:
    caplog.set_level(logging.INFO)
    scene = sandbox.scene
    bot = await start_heard(db_path=db_path, log_level="INFO")
    await configure_guild(sandbox)

    post = await sandbox.member_says(scene.alex, scene.support, SUPPORT_POST)
    await sandbox.member_says(scene.sam, scene.support, ADVICE_REPLY, reply_to=post)
    sam_dm = sandbox.world.dm_channel_for(scene.sam).id
    await sandbox.wait_for_message(lambda m: m.channel_id == sam_dm, timeout=TIMEOUT)
    await sandbox.member_says(scene.jo, scene.support, JUDGING_REPLY, reply_to=post)
    await sandbox.wait_for_message(
        lambda m: m.channel_id == scene.mod_alerts.id and str(scene.jo.id) in m.text(), timeout=TIMEOUT
    )
    await sandbox.member_says(scene.riley, scene.support, CRISIS_POST)
    await sandbox.wait_for_message(
        lambda m: m.channel_id == scene.mod_alerts.id and str(scene.riley.id) in m.text(), timeout=TIMEOUT
    )
    await bot.close()  # every pending write is on disk

    # Logs: no message text and no token, whether as records or as formatted lines with tracebacks.
    records = [record for record in caplog.records if record.levelno >= logging.INFO]
    assert records, "the scenario should have logged something at INFO"
    logged = "\n".join(
        f"{record.getMessage()} {record.exc_text or ''} {record.stack_info or ''}" for record in records
    )
    logged += "\n" + root_log.getvalue()
    assert sandbox.token not in logged
    assert leaks(logged, MESSAGES) == []

    # Database: every value of every column of every table; only flag excerpts may hold matched words.
    db = await Database.open(db_path)
    try:
        tables = await db.fetch_all("SELECT name FROM sqlite_master WHERE type = 'table'")
        for table in (str(row["name"]) for row in tables):
            for row in await db.fetch_all(f"SELECT * FROM '{table}'"):
                for column in row.keys():  # noqa: SIM118 - aiosqlite.Row is not a mapping
                    value = "" if row[column] is None else str(row[column])
                    assert sandbox.token not in value, f"the token is stored in {table}.{column}"
                    if table == "flag" and column == "excerpt":
                        assert len(value) <= 200
                        continue
                    assert leaks(value, MESSAGES) == [], f"message text is stored in {table}.{column}"
        excerpts = await db.fetch_all("SELECT excerpt FROM flag WHERE excerpt IS NOT NULL")
        for row in excerpts:  # an excerpt holds words of the flagged reply only
            words = re.findall(r"[a-z']+", str(row["excerpt"]).lower())
            assert set(words) <= set(re.findall(r"[a-z']+", JUDGING_REPLY.lower()))
    finally:
        await db.close()


async def test_the_token_is_never_logged_even_at_debug(
    sandbox: Any, start_heard: Any, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    scene = sandbox.scene
    bot = await start_heard(db_path=db_path, log_level="DEBUG")
    await configure_guild(sandbox)
    post = await sandbox.member_says(scene.alex, scene.support, SUPPORT_POST)
    await sandbox.member_says(scene.sam, scene.support, ADVICE_REPLY, reply_to=post)
    sam_dm = sandbox.world.dm_channel_for(scene.sam).id
    await sandbox.wait_for_message(lambda m: m.channel_id == sam_dm, timeout=TIMEOUT)
    await sandbox.drop_gateway()  # a RESUME sends the token again
    await sandbox.wait_until_reconnected(timeout=TIMEOUT)
    await bot.close()

    assert len(caplog.records) > 50
    for record in caplog.records:
        text = f"{record.getMessage()} {record.exc_text or ''} {record.args!r}"
        assert sandbox.token not in text, f"the token was logged by {record.name}"
