"""Heard's storage: one SQLite database, numbered SQL migrations, one repository module per area.

No SQL lives outside this package. Snowflakes are INTEGER, timestamps are UTC ISO-8601 text.
"""

from bot.storage.database import Database, DatabaseClosedError, DatabaseOpenError, WriteResult, utc_now_iso

__all__ = ["Database", "DatabaseClosedError", "DatabaseOpenError", "WriteResult", "utc_now_iso"]
