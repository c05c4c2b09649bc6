-- Residents (the people the work is about), volunteer pairs and availability, tasks with their
-- history, offers to pairs, and the chat messages that show a task (so they can be edited later).
-- Times are ISO-8601 text in UTC.

CREATE TABLE residents (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL,
    phone           TEXT,                          -- E.164, e.g. +358401234567
    street_address  TEXT NOT NULL DEFAULT '',
    postal_code     TEXT NOT NULL DEFAULT '' CHECK (postal_code = '' OR postal_code GLOB '[0-9][0-9][0-9][0-9][0-9]'),
    municipality    TEXT NOT NULL DEFAULT '',
    birth_year      INTEGER,
    language        TEXT NOT NULL CHECK (language IN ('fi', 'sv', 'en')),
    household_note  TEXT NOT NULL DEFAULT '',
    note            TEXT NOT NULL DEFAULT '',
    match_key       TEXT,                          -- phone + folded name: the same person imported twice
    name_folded     TEXT NOT NULL DEFAULT '',      -- casefolded name: SQLite's LIKE folds ASCII only
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE UNIQUE INDEX residents_match_key ON residents (match_key);
CREATE INDEX residents_phone ON residents (phone);
CREATE INDEX residents_name ON residents (name_folded);

-- Whether a person takes offers now, and the postal-code prefixes they cover (none: everywhere).
ALTER TABLE people ADD COLUMN available INTEGER NOT NULL DEFAULT 1 CHECK (available IN (0, 1));

CREATE TABLE person_areas (
    person_id  INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    prefix     TEXT NOT NULL CHECK (length(prefix) BETWEEN 1 AND 5 AND prefix NOT GLOB '*[^0-9]*'),
    PRIMARY KEY (person_id, prefix)
) WITHOUT ROWID;

CREATE TABLE pairs (
    id               INTEGER PRIMARY KEY,
    organisation_id  INTEGER REFERENCES organisations (id) ON DELETE SET NULL,
    created_by       INTEGER REFERENCES people (id) ON DELETE SET NULL,
    created_at       TEXT NOT NULL,
    dissolved_at     TEXT
);

-- A person is in at most one current pair; a dissolved pair keeps its members for the history.
CREATE TABLE pair_members (
    pair_id    INTEGER NOT NULL REFERENCES pairs (id) ON DELETE CASCADE,
    person_id  INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    current    INTEGER NOT NULL DEFAULT 1 CHECK (current IN (0, 1)),
    PRIMARY KEY (pair_id, person_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX pair_members_one_current ON pair_members (person_id) WHERE current = 1;

CREATE TABLE tasks (
    id                      INTEGER PRIMARY KEY,
    resident_id             INTEGER NOT NULL REFERENCES residents (id),
    kind                    TEXT NOT NULL CHECK (kind IN
                            ('home_visit', 'errand', 'delivery', 'conversation_help', 'phone_check')),
    details                 TEXT NOT NULL DEFAULT '',
    window_start            TEXT NOT NULL,
    window_end              TEXT NOT NULL,
    priority                TEXT NOT NULL CHECK (priority IN ('normal', 'urgent')),
    state                   TEXT NOT NULL CHECK (state IN ('open', 'offered', 'escalated',
                            'accepted', 'started', 'done', 'not_completed', 'cancelled')),
    holder_pair_id          INTEGER REFERENCES pairs (id),
    holder_person_id        INTEGER REFERENCES people (id),
    holder_organisation_id  INTEGER REFERENCES organisations (id),
    created_by              INTEGER REFERENCES people (id) ON DELETE SET NULL,
    created_at              TEXT NOT NULL,
    offered_at              TEXT,
    reminded_at             TEXT,
    overdue_reported_at     TEXT,
    closed_at               TEXT,
    reason                  TEXT,                  -- why it could not be completed
    note                    TEXT,
    CHECK (window_start < window_end),
    CHECK ((holder_pair_id IS NOT NULL) + (holder_person_id IS NOT NULL)
           + (holder_organisation_id IS NOT NULL) <= 1)
);
CREATE INDEX tasks_state ON tasks (state, window_start);
CREATE INDEX tasks_resident ON tasks (resident_id);
CREATE INDEX tasks_holder_pair ON tasks (holder_pair_id) WHERE holder_pair_id IS NOT NULL;
CREATE INDEX tasks_holder_person ON tasks (holder_person_id) WHERE holder_person_id IS NOT NULL;

-- Every transition: who, when, from, to.
CREATE TABLE task_events (
    id          INTEGER PRIMARY KEY,
    task_id     INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    at          TEXT NOT NULL,
    actor_id    INTEGER REFERENCES people (id) ON DELETE SET NULL,
    action      TEXT NOT NULL,
    from_state  TEXT,
    to_state    TEXT NOT NULL,
    detail      TEXT
);
CREATE INDEX task_events_task ON task_events (task_id, id);

CREATE TABLE offers (
    task_id      INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    pair_id      INTEGER NOT NULL REFERENCES pairs (id) ON DELETE CASCADE,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'declined', 'accepted', 'withdrawn')),
    offered_at   TEXT NOT NULL,
    answered_at  TEXT,
    answered_by  INTEGER REFERENCES people (id) ON DELETE SET NULL,
    PRIMARY KEY (task_id, pair_id)
) WITHOUT ROWID;
CREATE INDEX offers_pending ON offers (pair_id) WHERE status = 'pending';

-- The messages that show a task: offers (no personal data) and cards (full data while held).
CREATE TABLE task_messages (
    chat_id     INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    task_id     INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    person_id   INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('offer', 'card')),
    PRIMARY KEY (chat_id, message_id)
) WITHOUT ROWID;
CREATE INDEX task_messages_task ON task_messages (task_id);
