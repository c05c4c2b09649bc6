-- Outcome forms: drafts that survive restarts, the structured outcomes of closed tasks, the
-- follow-ups they caused (tasks that follow another, referrals, crisis alerts).
-- Times are ISO-8601 text in UTC.

-- A follow-up task points at the task whose outcome caused it, and says why (a machine word).
ALTER TABLE tasks ADD COLUMN follows_id INTEGER REFERENCES tasks (id);
ALTER TABLE tasks ADD COLUMN cause TEXT;
CREATE INDEX tasks_follows ON tasks (follows_id) WHERE follows_id IS NOT NULL;

-- One unfinished outcome form per task, owned by the holder who started it. `progress` is the
-- engine's state as JSON; `revision` grows with every accepted step, and every button carries it,
-- so a double tap or a stale button changes nothing.
CREATE TABLE form_drafts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: old buttons name old drafts
    task_id       INTEGER NOT NULL UNIQUE REFERENCES tasks (id) ON DELETE CASCADE,
    person_id     INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    form_id       TEXT NOT NULL,
    form_version  INTEGER NOT NULL,
    progress      TEXT NOT NULL CHECK (json_valid(progress)),
    revision      INTEGER NOT NULL DEFAULT 0,
    chat_id       INTEGER,                       -- the message that asks the current question
    message_id    INTEGER,
    alerted_at    TEXT,                          -- the coordinators were alerted (urgent, health)
    active_seq    INTEGER NOT NULL DEFAULT 0,    -- grows when the owner works on it: typed text
                                                 -- answers the owner's most recently active draft
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    reminded_at   TEXT
);
CREATE INDEX form_drafts_person ON form_drafts (person_id, active_seq);
CREATE INDEX form_drafts_updated ON form_drafts (updated_at);

-- Every submitted form: the answers and what the rules decided, as validated JSON.
CREATE TABLE outcomes (
    id            INTEGER PRIMARY KEY,
    task_id       INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    resident_id   INTEGER NOT NULL REFERENCES residents (id),
    form_id       TEXT NOT NULL,
    form_version  INTEGER NOT NULL,
    answers       TEXT NOT NULL CHECK (json_valid(answers)),
    decision      TEXT NOT NULL CHECK (json_valid(decision)),
    submitted_by  INTEGER REFERENCES people (id) ON DELETE SET NULL,
    submitted_at  TEXT NOT NULL
);
CREATE INDEX outcomes_task ON outcomes (task_id, id);
CREATE INDEX outcomes_resident ON outcomes (resident_id, submitted_at);

-- Needs passed on: conversation help to the parish (only with the resident's consent; without it
-- the need is `noted` and nothing leaves), home-care services to the coordinators.
CREATE TABLE referrals (
    id               INTEGER PRIMARY KEY,
    resident_id      INTEGER NOT NULL REFERENCES residents (id),
    task_id          INTEGER REFERENCES tasks (id) ON DELETE SET NULL,
    outcome_id       INTEGER REFERENCES outcomes (id) ON DELETE SET NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('parish', 'home_care')),
    consent          INTEGER NOT NULL CHECK (consent IN (0, 1)),
    state            TEXT NOT NULL CHECK (state IN ('noted', 'new', 'taken', 'closed')),
    organisation_id  INTEGER REFERENCES organisations (id) ON DELETE SET NULL,
    taken_by         INTEGER REFERENCES people (id) ON DELETE SET NULL,
    created_at       TEXT NOT NULL,
    taken_at         TEXT,
    closed_at        TEXT,
    CHECK (kind != 'parish' OR consent = 1 OR state = 'noted')
);
CREATE INDEX referrals_resident ON referrals (resident_id, created_at);
CREATE INDEX referrals_open ON referrals (state) WHERE state IN ('new', 'taken');

-- The messages that show a referral with the resident's contact, scrubbed when it is taken by
-- someone else or closed.
CREATE TABLE referral_messages (
    chat_id      INTEGER NOT NULL,
    message_id   INTEGER NOT NULL,
    referral_id  INTEGER NOT NULL REFERENCES referrals (id) ON DELETE CASCADE,
    person_id    INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    PRIMARY KEY (chat_id, message_id)
) WITHOUT ROWID;
CREATE INDEX referral_messages_referral ON referral_messages (referral_id);

-- Crisis alerts raised from a form (urgent, health concern): when, by whom, about which task,
-- and whether a coordinator has received it.
CREATE TABLE alerts (
    id            INTEGER PRIMARY KEY,
    task_id       INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    resident_id   INTEGER NOT NULL REFERENCES residents (id),
    raised_by     INTEGER REFERENCES people (id) ON DELETE SET NULL,
    at            TEXT NOT NULL,
    delivered_at  TEXT            -- reached a coordinator; the sweep sends again until it has
);
CREATE INDEX alerts_undelivered ON alerts (at) WHERE delivered_at IS NULL;
CREATE INDEX alerts_resident ON alerts (resident_id, at);
