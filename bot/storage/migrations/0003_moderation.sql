-- 0003 moderation: flag review queue, crisis escalation, the alert outbox and the decision audit trail.
-- Portable SQL: snowflakes are INTEGER, timestamps are UTC ISO-8601 text with microseconds
-- (one fixed width, so text comparison orders them). No message text is stored anywhere except
-- flag.excerpt: the matched spans only, at most 200 characters, and only if the guild allows excerpts.

-- Per-guild moderation options (a missing row means the defaults).
CREATE TABLE moderation_settings (
    guild_id                        INTEGER PRIMARY KEY,
    sensitivity                     TEXT NOT NULL DEFAULT 'balanced'
                                    CHECK (sensitivity IN ('conservative', 'balanced', 'sensitive')),
    excerpts_enabled                INTEGER NOT NULL DEFAULT 1,
    dedup_window_minutes            INTEGER NOT NULL DEFAULT 60,
    crisis_message_window_minutes   INTEGER NOT NULL DEFAULT 360,
    disabled_codes                  TEXT NOT NULL DEFAULT '',   -- comma-separated roadblock codes
    permission_problem_reported_at  TEXT,                       -- set when the setup admin was told; cleared on success
    updated_at                      TEXT NOT NULL
);

-- Helplines shown to a member in the private safe-messaging message (no rows = the built-in defaults).
CREATE TABLE helpline (
    guild_id    INTEGER NOT NULL,
    position    INTEGER NOT NULL,
    line        TEXT NOT NULL,
    PRIMARY KEY (guild_id, position)
);

-- One flagged reply (or a burst of them by the same member and code within the dedup window).
CREATE TABLE flag (
    id                  INTEGER PRIMARY KEY,
    guild_id            INTEGER NOT NULL,
    channel_id          INTEGER NOT NULL,
    message_id          INTEGER NOT NULL,
    author_id           INTEGER NOT NULL,
    post_channel_id     INTEGER,
    post_message_id     INTEGER,
    codes               TEXT NOT NULL,          -- comma-separated, strongest first
    confidence          REAL NOT NULL,          -- the highest confidence among the codes
    excerpt             TEXT,                   -- matched spans only, <= 200 chars; NULL when excerpts are off
    crisis_context      INTEGER NOT NULL DEFAULT 0,
    status              TEXT NOT NULL DEFAULT 'open'
                        CHECK (status IN ('open', 'resolved', 'false_alarm', 'nudged', 'deleted')),
    occurrences         INTEGER NOT NULL DEFAULT 1,
    latest_channel_id   INTEGER NOT NULL,
    latest_message_id   INTEGER NOT NULL,
    decided_by          INTEGER,
    decided_at          TEXT,
    created_at          TEXT NOT NULL,
    last_seen_at        TEXT NOT NULL
);
CREATE INDEX flag_by_guild_status ON flag (guild_id, status, id);
CREATE INDEX flag_by_author ON flag (guild_id, author_id, id);

-- The codes of a flag, one row each (for filters and per-code statistics).
CREATE TABLE flag_code (
    flag_id     INTEGER NOT NULL REFERENCES flag (id) ON DELETE CASCADE,
    code        TEXT NOT NULL,
    confidence  REAL NOT NULL,
    PRIMARY KEY (flag_id, code)
);
CREATE INDEX flag_code_by_code ON flag_code (code, flag_id);

-- Every message a flag covers (the first one and those merged into it by the dedup window).
CREATE TABLE flag_message (
    flag_id     INTEGER NOT NULL REFERENCES flag (id) ON DELETE CASCADE,
    channel_id  INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    seen_at     TEXT NOT NULL,
    deleted_at  TEXT,                       -- when Discord told us the message was deleted
    PRIMARY KEY (flag_id, message_id)
);

CREATE INDEX flag_message_by_message ON flag_message (message_id);

-- Append-only record of every moderator decision: who, what, when, and the status before.
CREATE TABLE flag_audit (
    id               INTEGER PRIMARY KEY,
    guild_id         INTEGER NOT NULL,
    flag_id          INTEGER NOT NULL,
    actor_id         INTEGER NOT NULL,      -- the moderator (0 once anonymised on request)
    action           TEXT NOT NULL,         -- resolve, false_alarm, nudge, delete, ...
    previous_status  TEXT NOT NULL,
    new_status       TEXT NOT NULL,
    detail           TEXT NOT NULL DEFAULT '',  -- e.g. the nudge delivery result; never message text
    created_at       TEXT NOT NULL
);
CREATE INDEX flag_audit_by_flag ON flag_audit (flag_id, id);

-- Decisions cannot be rewritten: only the actor id may change (anonymisation on a member's request).
CREATE TRIGGER flag_audit_append_only
BEFORE UPDATE OF guild_id, flag_id, action, previous_status, new_status, detail, created_at ON flag_audit
BEGIN
    SELECT RAISE(ABORT, 'flag_audit is append-only');
END;

-- One crisis escalation: a link, the indicator types and the level. Never a copy of the text.
CREATE TABLE crisis_alert (
    id                  INTEGER PRIMARY KEY,
    guild_id            INTEGER NOT NULL,
    author_id           INTEGER NOT NULL,
    channel_id          INTEGER NOT NULL,       -- where it was said (a DM channel for DMs)
    message_id          INTEGER NOT NULL,
    in_dm               INTEGER NOT NULL DEFAULT 0,
    level               TEXT NOT NULL CHECK (level IN ('concern', 'urgent')),
    indicators          TEXT NOT NULL,          -- comma-separated indicator types
    occurrences         INTEGER NOT NULL DEFAULT 1,
    latest_channel_id   INTEGER NOT NULL,
    latest_message_id   INTEGER NOT NULL,
    status              TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged')),
    checkin_result      TEXT,                   -- the member's private check-in: dm, failed_dms_closed, ...
    acknowledged_by     INTEGER,
    acknowledged_at     TEXT,
    created_at          TEXT NOT NULL,
    last_seen_at        TEXT NOT NULL
);
CREATE INDEX crisis_alert_by_author ON crisis_alert (guild_id, author_id, id);

-- The private safe-messaging messages sent to members (for the once-per-window limit).
-- guild_id is 0 for a message answering a DM.
CREATE TABLE crisis_checkin (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    level       TEXT NOT NULL,
    result      TEXT NOT NULL,     -- pending, dm, failed_dms_closed, failed
    sent_at     TEXT NOT NULL
);
CREATE INDEX crisis_checkin_by_user ON crisis_checkin (guild_id, user_id, sent_at);

-- The alert outbox: every alert post or alert edit is a row here, committed with the flag or crisis row,
-- claimed with a lease by one worker at a time, retried with backoff until delivered exactly once.
CREATE TABLE alert_outbox (
    id               INTEGER PRIMARY KEY,
    guild_id         INTEGER NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('flag', 'crisis')),
    ref_id           INTEGER NOT NULL,          -- flag.id or crisis_alert.id
    operation        TEXT NOT NULL CHECK (operation IN ('send', 'edit')),
    state            TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'dropped')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    lease_owner      TEXT,
    lease_until      TEXT,
    in_flight        INTEGER NOT NULL DEFAULT 0,  -- 1 while a send may have reached Discord unconfirmed
    channel_id       INTEGER,                     -- where the alert message lives once delivered
    message_id       INTEGER,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    done_at          TEXT
);
CREATE INDEX alert_outbox_due ON alert_outbox (state, next_attempt_at);
CREATE INDEX alert_outbox_by_ref ON alert_outbox (kind, ref_id, operation, state);
-- At most one "send" per alert: the flag or crisis row is posted once, later changes are edits.
CREATE UNIQUE INDEX alert_outbox_one_send ON alert_outbox (kind, ref_id) WHERE operation = 'send';
