"""The message index replay uses to resolve replies: message id → (author id, post text).

Every analysed message may later be replied to, so the index grows with the export. To keep memory bounded
it lives in a temporary SQLite file (deleted on close) behind a small in-memory cache of recent messages —
most replies answer something said a few minutes earlier. Stored text is capped at
:data:`MAX_POST_CHARS` characters, which is all the engine needs to read a post's context.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

MAX_POST_CHARS = 2000
RECENT_CACHE_SIZE = 4096
_BATCH_SIZE = 2000


@dataclass(frozen=True, slots=True)
class IndexedMessage:
    """What is remembered about a message that may be replied to."""

    author_id: str
    author_is_bot: bool
    text: str


class MessageIndex:
    """A bounded-memory map from message id to :class:`IndexedMessage`; use as a context manager."""

    def __init__(self, directory: Path | None = None) -> None:
        """Create the temporary index file in ``directory`` (default: the system temp dir)."""
        self._tmp = tempfile.TemporaryDirectory(prefix="heard-replay-", dir=directory)
        self._db = sqlite3.connect(Path(self._tmp.name) / "index.sqlite3")
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("PRAGMA cache_size=-4096")  # 4 MiB page cache
        self._db.execute(
            "CREATE TABLE message (id TEXT PRIMARY KEY, author_id TEXT, is_bot INTEGER, text TEXT)"
            " WITHOUT ROWID"
        )
        self._recent: OrderedDict[str, IndexedMessage] = OrderedDict()
        self._pending: list[tuple[str, str, bool, str]] = []
        self.size = 0

    def __enter__(self) -> MessageIndex:
        """Return the index."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close and delete the temporary file."""
        self.close()

    def add(self, message_id: str, author_id: str, author_is_bot: bool, text: str) -> None:
        """Remember a message (its text capped at :data:`MAX_POST_CHARS`)."""
        entry = IndexedMessage(author_id, author_is_bot, text[:MAX_POST_CHARS])
        self._recent[message_id] = entry
        if len(self._recent) > RECENT_CACHE_SIZE:
            self._recent.popitem(last=False)
        self._pending.append((message_id, author_id, author_is_bot, entry.text))
        self.size += 1
        if len(self._pending) >= _BATCH_SIZE:
            self._flush()

    def get(self, message_id: str) -> IndexedMessage | None:
        """Return the remembered message with this id, or None if it is not in the export."""
        entry = self._recent.get(message_id)
        if entry is not None:
            return entry
        self._flush()
        row = self._db.execute(
            "SELECT author_id, is_bot, text FROM message WHERE id = ?", (message_id,)
        ).fetchone()
        return IndexedMessage(row[0], bool(row[1]), row[2]) if row else None

    def _flush(self) -> None:
        """Write the pending batch to the file."""
        if self._pending:
            self._db.executemany("INSERT OR REPLACE INTO message VALUES (?, ?, ?, ?)", self._pending)
            self._pending.clear()

    def close(self) -> None:
        """Close the database and delete its directory."""
        self._db.close()
        self._tmp.cleanup()
