-- Coordination meetings: recurring meetings, their single-occurrence changes, the reminders sent
-- (exactly once), attendance answers, the group chats the bot is in, and the morning digests.
-- Times are ISO-8601 text in UTC; a meeting's start is a local wall-clock minute of the day, read
-- in APURI_TIMEZONE, so it stays at 09:00 local across the clock changes.

-- Group chats the bot has been added to; `member` turns 0 when it is removed (kicked or left).
CREATE TABLE telegram_groups (
    chat_id     INTEGER PRIMARY KEY,
    title       TEXT NOT NULL,
    member      INTEGER NOT NULL CHECK (member IN (0, 1)),
    added_by    INTEGER REFERENCES people (id) ON DELETE SET NULL,
    changed_at  TEXT NOT NULL
);

CREATE TABLE meetings (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: old buttons name old meetings
    title             TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 100),
    weekdays          INTEGER NOT NULL CHECK (weekdays BETWEEN 1 AND 127),  -- bit 0 is Monday
    start_minute      INTEGER NOT NULL CHECK (start_minute BETWEEN 0 AND 1439),
    duration_minutes  INTEGER NOT NULL CHECK (duration_minutes BETWEEN 5 AND 720),
    link              TEXT CHECK (link IS NULL OR link LIKE 'http%://%'),
    place             TEXT CHECK (place IS NULL OR length(place) BETWEEN 1 AND 200),
    audience_kind     TEXT NOT NULL CHECK (audience_kind IN ('role', 'organisation', 'people', 'group')),
    audience_role     TEXT,
    audience_org_id   INTEGER REFERENCES organisations (id),
    audience_chat_id  INTEGER REFERENCES telegram_groups (chat_id),
    offsets           TEXT NOT NULL CHECK (length(offsets) > 0),  -- e.g. '1d16:00,15m'
    paused            INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    created_by        INTEGER NOT NULL REFERENCES people (id),
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,    -- any change (an .ics file's SEQUENCE grows with it)
    reminders_from    TEXT NOT NULL,    -- created or resumed: no reminder before this is due
    CHECK (link IS NOT NULL OR place IS NOT NULL),
    CHECK (audience_kind != 'role' OR audience_role IS NOT NULL),
    CHECK (audience_kind != 'organisation' OR audience_org_id IS NOT NULL),
    CHECK (audience_kind != 'group' OR audience_chat_id IS NOT NULL)
);

CREATE TABLE meeting_people (
    meeting_id  INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    person_id   INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    PRIMARY KEY (meeting_id, person_id)
) WITHOUT ROWID;

-- One occurrence (named by its original local date) cancelled, or moved to `moved_to`.
CREATE TABLE meeting_changes (
    meeting_id  INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    day         TEXT NOT NULL,  -- YYYY-MM-DD, local
    moved_to    TEXT,           -- NULL: cancelled
    changed_by  INTEGER REFERENCES people (id) ON DELETE SET NULL,
    changed_at  TEXT NOT NULL,
    PRIMARY KEY (meeting_id, day)
) WITHOUT ROWID;

-- Every reminder that fell due, recorded once: sent (its deliveries below) or skipped, because it
-- fell due while the bot was down for longer than the grace window.
CREATE TABLE meeting_reminders (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    meeting_id  INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    day         TEXT NOT NULL,
    offset_key  TEXT NOT NULL,
    due_at      TEXT NOT NULL,
    last        INTEGER NOT NULL CHECK (last IN (0, 1)),
    outcome     TEXT NOT NULL CHECK (outcome IN ('sent', 'skipped')),
    recorded_at TEXT NOT NULL,
    UNIQUE (meeting_id, day, offset_key)
);

-- One row per chat a reminder (or its brief) goes to; `delivered_at` is set once Telegram took it.
CREATE TABLE meeting_deliveries (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    reminder_id   INTEGER NOT NULL REFERENCES meeting_reminders (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('reminder', 'brief')),
    chat_id       INTEGER NOT NULL,
    person_id     INTEGER REFERENCES people (id) ON DELETE CASCADE,  -- NULL for a group chat
    delivered_at  TEXT,
    failed        TEXT,  -- 'blocked', 'removed', 'gave_up': not retried
    UNIQUE (reminder_id, kind, chat_id)
);
CREATE INDEX meeting_deliveries_pending ON meeting_deliveries (reminder_id)
    WHERE delivered_at IS NULL AND failed IS NULL;

CREATE TABLE meeting_attendance (
    meeting_id   INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    day          TEXT NOT NULL,
    person_id    INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    attending    INTEGER NOT NULL CHECK (attending IN (0, 1)),
    answered_at  TEXT NOT NULL,
    PRIMARY KEY (meeting_id, day, person_id)
) WITHOUT ROWID;

-- The coordinators' morning digest, once a day (local date).
CREATE TABLE digests (
    day      TEXT PRIMARY KEY,
    outcome  TEXT NOT NULL CHECK (outcome IN ('sent', 'skipped')),
    at       TEXT NOT NULL
) WITHOUT ROWID;

-- A person the bot could not reach (blocked it); cleared when they write to the bot again.
ALTER TABLE people ADD COLUMN unreachable_since TEXT;
