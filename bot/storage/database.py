"""The SQLite database: opening it, applying numbered migrations, and serialized writes."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

MIGRATIONS_PACKAGE = "bot.storage.migrations"
MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
Params = Sequence[Any] | dict[str, Any]


class DatabaseClosedError(RuntimeError):
    """Raised when something tries to use the database after it was closed."""


class DatabaseOpenError(RuntimeError):
    """The database file could not be opened or is not a SQLite database; the message says why."""


@dataclass(frozen=True, slots=True)
class Migration:
    """One numbered SQL migration file."""

    version: int
    name: str
    sql: str


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What a write statement did: rows changed, and the row id of an INSERT (else None/stale)."""

    rowcount: int
    lastrowid: int | None


def utc_now_iso() -> str:
    """Return the current UTC time as ISO-8601 text (the timestamp format stored everywhere)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def load_migrations(package: str = MIGRATIONS_PACKAGE) -> list[Migration]:
    """Return the migrations shipped in ``package``, sorted by number; duplicate numbers are an error."""
    found: dict[int, Migration] = {}
    for entry in resources.files(package).iterdir():
        match = MIGRATION_NAME.match(entry.name)
        if match is None:
            continue
        version = int(match.group(1))
        if version in found:
            raise RuntimeError(
                f"two migrations share number {version:04d}: {found[version].name}, {entry.name}"
            )
        found[version] = Migration(version=version, name=entry.name, sql=entry.read_text(encoding="utf-8"))
    return [found[version] for version in sorted(found)]


def split_statements(script: str) -> list[str]:
    """Split an SQL script into complete statements (triggers with BEGIN…END stay whole)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statement = buffer.strip()
            if _has_code(statement):
                statements.append(statement)
            buffer = ""
    if _has_code(buffer):
        raise ValueError(f"incomplete SQL statement at the end of a migration: {buffer.strip()[:80]!r}")
    return statements


def _has_code(text: str) -> bool:
    """Return whether ``text`` holds anything besides whitespace, semicolons and ``--`` comments."""
    for line in text.splitlines():
        stripped = line.split("--", 1)[0].strip().strip(";").strip()
        if stripped:
            return True
    return False


class Database:
    """An open SQLite database (aiosqlite, WAL, foreign keys) with serialized writes.

    Reads go straight to the connection; every write and transaction holds one asyncio lock, so
    statements of concurrent transactions never interleave, and :meth:`close` waits for pending writes.
    """

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        """Wrap an already-open connection; use :meth:`open` instead."""
        self._connection = connection
        self._path = path
        self._write_lock = asyncio.Lock()
        self._closed = False

    @classmethod
    async def open(cls, path: Path | str, *, migrations_package: str = MIGRATIONS_PACKAGE) -> Database:
        """Open (creating if needed) the database at ``path`` and apply any pending migrations."""
        path = Path(path)
        try:
            if str(path) != ":memory:":
                path.parent.mkdir(parents=True, exist_ok=True)
            connection = await aiosqlite.connect(path, isolation_level=None)
        except (OSError, sqlite3.Error) as error:
            raise DatabaseOpenError(f"cannot open the database at {path} ({error})") from error
        connection.row_factory = aiosqlite.Row
        try:
            try:
                await connection.execute("PRAGMA busy_timeout = 10000")
                await connection.execute("PRAGMA journal_mode = WAL")
                await connection.execute("PRAGMA synchronous = NORMAL")
                await connection.execute("PRAGMA foreign_keys = ON")
            except sqlite3.Error as error:
                raise DatabaseOpenError(f"cannot use the database at {path} ({error})") from error
            database = cls(connection, path)
            await database.apply_migrations(load_migrations(migrations_package))
        except BaseException:
            await connection.close()
            raise
        return database

    @property
    def connection(self) -> aiosqlite.Connection:
        """The underlying aiosqlite connection (repositories should prefer the helpers)."""
        self._ensure_open()
        return self._connection

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    @property
    def is_closed(self) -> bool:
        """Whether :meth:`close` has run."""
        return self._closed

    async def apply_migrations(self, migrations: Iterable[Migration]) -> list[int]:
        """Apply migrations newer than the recorded schema version, each in its own transaction."""
        await self._connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        applied: list[int] = []
        for migration in migrations:
            async with self.transaction() as connection:
                cursor = await connection.execute(
                    "SELECT 1 FROM schema_version WHERE version = ?", (migration.version,)
                )
                if await cursor.fetchone() is not None:
                    continue
                for statement in split_statements(migration.sql):
                    await connection.execute(statement)
                await connection.execute(
                    "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.name, utc_now_iso()),
                )
            log.info("applied migration %s", migration.name)
            applied.append(migration.version)
        return applied

    async def schema_versions(self) -> list[int]:
        """Return the migration numbers recorded as applied, ascending."""
        rows = await self.fetch_all("SELECT version FROM schema_version ORDER BY version")
        return [int(row["version"]) for row in rows]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Hold the write lock and run the block in one ``BEGIN IMMEDIATE`` transaction.

        Use the yielded connection directly inside the block (the helpers would wait for the lock).
        Commits on success, rolls back on any exception.
        """
        self._ensure_open()
        async with self._write_lock:
            self._ensure_open()
            await self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield self._connection
            except BaseException:
                await self._connection.execute("ROLLBACK")
                raise
            else:
                await self._connection.execute("COMMIT")

    async def execute(self, sql: str, params: Params = ()) -> WriteResult:
        """Run one write statement in its own transaction; return its row count and last row id."""
        async with self.transaction() as connection:
            cursor = await connection.execute(sql, params)
            result = WriteResult(rowcount=cursor.rowcount, lastrowid=cursor.lastrowid)
            await cursor.close()
            return result

    async def execute_many(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one write statement for each parameter set, all in one transaction."""
        async with self.transaction() as connection:
            await connection.executemany(sql, rows)

    async def fetch_one(self, sql: str, params: Params = ()) -> aiosqlite.Row | None:
        """Return the first row of a query, or None (the query runs to completion; keep it small)."""
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        """Return every row of a query."""
        self._ensure_open()
        # One worker-thread call: the statement runs to completion before anything else on this
        # connection. A cursor left open between awaits keeps a read transaction alive, and a
        # ``BEGIN IMMEDIATE`` issued meanwhile would try to upgrade it and fail at once with
        # "database is locked" (SQLite skips busy_timeout for that upgrade) whenever another
        # connection, e.g. a second worker, holds the write lock.
        return list(await self._connection.execute_fetchall(sql, params))

    async def close(self) -> None:
        """Wait for pending writes, then close the connection. Safe to call twice."""
        if self._closed:
            return
        async with self._write_lock:
            if self._closed:
                return
            self._closed = True
            try:
                await self._connection.execute("PRAGMA optimize")
            except sqlite3.Error:
                log.debug("PRAGMA optimize failed on close", exc_info=True)
            await self._connection.close()
        log.info("database closed")

    def _ensure_open(self) -> None:
        """Raise a clear error when the database was already closed."""
        if self._closed:
            raise DatabaseClosedError(f"the database {self._path} is closed")
