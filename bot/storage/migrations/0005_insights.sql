-- 0005 insights: daily listening-health counters per guild and channel, for `/heard report`.
-- Counts only: never message text, never member ids. `day` is the UTC date (YYYY-MM-DD);
-- channel_id is the watched channel (a thread's parent for messages in threads).
-- Flags and nudges are not duplicated here: they are counted from the flag and nudge tables.
CREATE TABLE daily_stat (
    guild_id            INTEGER NOT NULL,
    channel_id          INTEGER NOT NULL,
    day                 TEXT NOT NULL,
    replies_seen        INTEGER NOT NULL DEFAULT 0,   -- replies to someone else's post
    replies_with_move   INTEGER NOT NULL DEFAULT 0,   -- of those, replies with at least one listening move
    reflections         INTEGER NOT NULL DEFAULT 0,   -- reflection moves found in replies
    open_questions      INTEGER NOT NULL DEFAULT 0,   -- open-question moves found in replies
    PRIMARY KEY (guild_id, day, channel_id)
);
