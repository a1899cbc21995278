-- 0002 member features: private listening nudges, per-guild nudge settings, member preferences.
-- Privacy: no message text is ever stored here, only ids, roadblock codes, results and times.
-- Portable SQL: snowflakes are INTEGER, timestamps are UTC ISO-8601 text.

-- What each guild chose in `/heard nudges` (a missing row means the defaults).
CREATE TABLE nudge_settings (
    guild_id            INTEGER PRIMARY KEY,
    dm_fallback         TEXT NOT NULL DEFAULT 'nothing' CHECK (dm_fallback IN ('nothing', 'in_channel')),
    exempt_role_id      INTEGER,
    cooldown_minutes    INTEGER NOT NULL DEFAULT 10 CHECK (cooldown_minutes >= 0),
    daily_cap           INTEGER NOT NULL DEFAULT 5 CHECK (daily_cap >= 0),
    updated_by_user_id  INTEGER,
    updated_at          TEXT NOT NULL
);

-- A member's own choices, wherever Heard runs: `/nudges off|on`, and whether they saw the introduction.
CREATE TABLE nudge_member (
    user_id         INTEGER PRIMARY KEY,
    opted_out       INTEGER NOT NULL DEFAULT 0 CHECK (opted_out IN (0, 1)),
    intro_sent_at   TEXT,
    updated_at      TEXT NOT NULL
);

-- One row per nudge Heard tried to deliver. `result` starts as 'pending' and is updated after delivery
-- ('dm', 'in_channel', 'dms_closed', 'failed', ...), so a crash or Discord error never loses the record.
CREATE TABLE nudge (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id    INTEGER NOT NULL,
    member_id   INTEGER NOT NULL,
    channel_id  INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    codes       TEXT NOT NULL,
    source      TEXT NOT NULL DEFAULT 'auto' CHECK (source IN ('auto', 'moderator')),
    result      TEXT NOT NULL DEFAULT 'pending',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- Cooldown and daily-cap lookups: this member's recent automatic nudges in this guild.
CREATE INDEX nudge_member_recent ON nudge (guild_id, member_id, created_at);
-- A message is nudged at most once per source, even if the gateway replays it after a resume.
CREATE UNIQUE INDEX nudge_once_per_message ON nudge (guild_id, message_id, source);
