-- 0004 trust: guilds Heard was removed from, whose data is deleted after a grace period unless Heard is
-- added back, and a record of the retention runs (counts only).
-- Portable SQL: snowflakes are INTEGER, timestamps are UTC ISO-8601 text with microseconds.

-- One row per guild Heard was removed from and whose data is waiting to be deleted.
CREATE TABLE guild_removal (
    guild_id      INTEGER PRIMARY KEY,
    removed_at    TEXT NOT NULL,
    delete_after  TEXT NOT NULL
);
CREATE INDEX guild_removal_due ON guild_removal (delete_after);

-- One row per retention run: when it ran and how many rows it purged (no ids, no text).
CREATE TABLE retention_run (
    id            INTEGER PRIMARY KEY,
    ran_at        TEXT NOT NULL,
    rows_purged   INTEGER NOT NULL,
    guilds_deleted INTEGER NOT NULL
);
