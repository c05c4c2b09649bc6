-- Broadcasts and their outbox: a message (or a batch of task offers) to many people, with one row
-- per recipient (and task) written before anything is sent. The worker sends pending rows and
-- records each outcome; `sending` marks the one request in flight, so a hard stop leaves nothing
-- ambiguous but those rows (they become `uncertain` at the next start and are never resent).

CREATE TABLE broadcasts (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: old buttons name old broadcasts
    kind                 TEXT NOT NULL CHECK (kind IN ('message', 'offers')),
    author_id            INTEGER NOT NULL REFERENCES people (id),
    audience             TEXT,  -- JSON of the chosen audience (message broadcasts)
    text                 TEXT NOT NULL DEFAULT '',
    attachment           TEXT,  -- JSON: kind, file_id, file_name, size
    state                TEXT NOT NULL CHECK (state IN ('sending', 'finished', 'cancelled')),
    stop_reason          TEXT CHECK (stop_reason IS NULL OR stop_reason IN ('cancelled', 'revoked')),
    stopped_by           INTEGER REFERENCES people (id),
    created_at           TEXT NOT NULL,
    finished_at          TEXT,
    reported_at          TEXT,  -- the final report was handed to the author (once)
    progress_chat_id     INTEGER,
    progress_message_id  INTEGER
);

CREATE INDEX broadcasts_unreported ON broadcasts (id) WHERE reported_at IS NULL;

CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    broadcast_id  INTEGER NOT NULL REFERENCES broadcasts (id),
    person_id     INTEGER NOT NULL REFERENCES people (id),
    task_id       INTEGER NOT NULL DEFAULT 0,  -- 0 for a message; else the task offered
    pair_id       INTEGER REFERENCES pairs (id),  -- offers: the pair the task is offered to
    state         TEXT NOT NULL DEFAULT 'pending' CHECK (state IN (
                      'pending', 'sending', 'sent', 'blocked', 'failed', 'uncertain',
                      'skipped', 'cancelled')),
    attempts      INTEGER NOT NULL DEFAULT 0,  -- network faults so far
    parts_sent    INTEGER NOT NULL DEFAULT 0,  -- a long message goes in parts, each once
    not_before    TEXT NOT NULL,
    error         TEXT,  -- the kind of the last failure (never message text)
    changed_at    TEXT NOT NULL,
    UNIQUE (broadcast_id, person_id, task_id)
);

CREATE INDEX outbox_due ON outbox (not_before, id) WHERE state = 'pending';
CREATE INDEX outbox_broadcast ON outbox (broadcast_id, state);
CREATE INDEX outbox_in_flight ON outbox (id) WHERE state = 'sending';
