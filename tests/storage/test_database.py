"""The database: migrations applied once and in order, WAL, foreign keys, serialized writes, clean close."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bot.storage.database import (
    Database,
    DatabaseClosedError,
    DatabaseOpenError,
    load_migrations,
    split_statements,
)


async def test_open_applies_every_migration_once_and_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "heard.sqlite3"
    shipped = [migration.version for migration in load_migrations()]
    assert shipped[0] == 1 and shipped == sorted(shipped)

    db = await Database.open(path)
    assert await db.schema_versions() == shipped
    await db.close()

    db = await Database.open(path)  # second start: nothing re-applied, nothing fails
    assert await db.schema_versions() == shipped
    assert await db.apply_migrations(load_migrations()) == []
    rows = await db.fetch_all("SELECT version FROM schema_version")
    assert len(rows) == len(shipped)
    await db.close()


async def test_wal_and_foreign_keys_are_on(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "heard.sqlite3")
    try:
        journal = await db.fetch_one("PRAGMA journal_mode")
        foreign_keys = await db.fetch_one("PRAGMA foreign_keys")
        assert journal is not None and journal[0] == "wal"
        assert foreign_keys is not None and foreign_keys[0] == 1
    finally:
        await db.close()


async def test_a_failing_migration_is_rolled_back(tmp_path: Path) -> None:
    from bot.storage.database import Migration

    db = await Database.open(tmp_path / "heard.sqlite3")
    try:
        broken = Migration(
            version=9999, name="9999_broken.sql", sql="CREATE TABLE half (x INTEGER);\nNOT SQL;"
        )
        with pytest.raises(sqlite3.OperationalError):
            await db.apply_migrations([broken])
        assert 9999 not in await db.schema_versions()
        assert await db.fetch_one("SELECT name FROM sqlite_master WHERE name = 'half'") is None
    finally:
        await db.close()


def test_split_statements_keeps_triggers_whole() -> None:
    script = """
    -- a comment
    CREATE TABLE a (x INTEGER);
    CREATE TRIGGER t AFTER INSERT ON a BEGIN
        UPDATE a SET x = x + 1;
    END;
    """
    statements = split_statements(script)
    assert len(statements) == 2
    assert statements[1].startswith("CREATE TRIGGER") and statements[1].endswith("END;")


async def test_concurrent_transactions_do_not_interleave(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "heard.sqlite3")
    try:
        await db.execute("CREATE TABLE counter (n INTEGER)")
        await db.execute("INSERT INTO counter VALUES (0)")

        async def increment() -> None:
            async with db.transaction() as connection:
                cursor = await connection.execute("SELECT n FROM counter")
                row = await cursor.fetchone()
                assert row is not None
                await asyncio.sleep(0)  # let the others try to run in between
                await connection.execute("UPDATE counter SET n = ?", (row[0] + 1,))

        await asyncio.gather(*(increment() for _ in range(50)))
        row = await db.fetch_one("SELECT n FROM counter")
        assert row is not None and row[0] == 50
    finally:
        await db.close()


async def test_close_waits_for_pending_writes_and_refuses_later_use(tmp_path: Path) -> None:
    path = tmp_path / "heard.sqlite3"
    db = await Database.open(path)
    await db.execute("CREATE TABLE note (n INTEGER)")
    writes = [asyncio.create_task(db.execute("INSERT INTO note VALUES (?)", (n,))) for n in range(20)]
    await asyncio.sleep(0)
    await db.close()
    results = await asyncio.gather(*writes, return_exceptions=True)
    written = sum(1 for result in results if not isinstance(result, BaseException))
    assert all(
        isinstance(result, DatabaseClosedError) for result in results if isinstance(result, BaseException)
    )
    with pytest.raises(DatabaseClosedError):
        await db.fetch_all("SELECT * FROM note")
    await db.close()  # a second close is harmless

    reopened = await Database.open(path)
    try:
        rows = await reopened.fetch_all("SELECT n FROM note")
        assert len(rows) == written
    finally:
        await reopened.close()


async def test_unusable_paths_raise_a_readable_error(tmp_path: Path) -> None:
    a_file = tmp_path / "plain.txt"
    a_file.write_text("hello", encoding="utf-8")
    with pytest.raises(DatabaseOpenError, match="cannot open the database at"):
        await Database.open(a_file / "heard.sqlite3")
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"not sqlite at all" * 200)
    with pytest.raises(DatabaseOpenError, match="cannot use the database at"):
        await Database.open(garbage)


async def test_a_read_between_awaits_does_not_make_a_write_fail_while_another_connection_writes(
    tmp_path: Path,
) -> None:
    """Two workers share one file: a read on one must not turn its next BEGIN IMMEDIATE into "locked".

    A read whose cursor stayed open across awaits kept a read transaction, and SQLite fails the
    upgrade of such a transaction at once (no busy_timeout) while another connection holds the lock.
    """
    path = tmp_path / "heard.sqlite3"
    first, second = await Database.open(path), await Database.open(path)
    try:
        await first.execute("CREATE TABLE note (n INTEGER)")
        await first.execute_many("INSERT INTO note VALUES (?)", [(n,) for n in range(10)])
        read_done = asyncio.Event()

        async def read_while_other_writes() -> None:
            await first.fetch_one("SELECT n FROM note ORDER BY n")
            read_done.set()

        async with second.transaction() as connection:
            await connection.execute("INSERT INTO note VALUES (100)")
            reader = asyncio.create_task(read_while_other_writes())
            writer = asyncio.create_task(first.execute("INSERT INTO note VALUES (200)"))
            await read_done.wait()
        await asyncio.gather(reader, writer)
        row = await first.fetch_one("SELECT COUNT(*) FROM note")
        assert row is not None and row[0] == 12
    finally:
        await first.close()
        await second.close()
