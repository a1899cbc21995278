-- 0001 foundation: per-guild configuration and watched support channels.
-- Portable SQL: snowflakes are INTEGER, timestamps are UTC ISO-8601 text.

CREATE TABLE guild_config (
    guild_id          INTEGER PRIMARY KEY,
    mod_channel_id    INTEGER,
    mod_role_id       INTEGER,
    setup_by_user_id  INTEGER,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);

CREATE TABLE watched_channel (
    guild_id          INTEGER NOT NULL,
    channel_id        INTEGER NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('text', 'forum')),
    added_by_user_id  INTEGER,
    added_at          TEXT NOT NULL,
    PRIMARY KEY (guild_id, channel_id)
);
