-- Phone-check campaigns: a calling list of residents worked through by callers. One entry per
-- resident; a caller claims the next entry (never two callers at once), the claim expires when the
-- caller goes quiet, and every attempt is recorded. Times are ISO-8601 text in UTC.

CREATE TABLE campaigns (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: old buttons name old campaigns
    name          TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    born_by       INTEGER,                -- residents born in or before this year (NULL: any age)
    areas         TEXT NOT NULL DEFAULT '',  -- postal-code prefixes, space separated ('': everywhere)
    imported      INTEGER NOT NULL DEFAULT 0 CHECK (imported IN (0, 1)),  -- an imported list
    attempts      INTEGER NOT NULL CHECK (attempts BETWEEN 1 AND 10),
    gap_minutes   INTEGER NOT NULL CHECK (gap_minutes BETWEEN 0 AND 10080),
    state         TEXT NOT NULL CHECK (state IN ('running', 'paused', 'closed')),
    created_by    INTEGER REFERENCES people (id) ON DELETE SET NULL,
    created_at    TEXT NOT NULL,
    changed_at    TEXT NOT NULL,
    closed_at     TEXT
);

CREATE TABLE campaign_callers (
    campaign_id  INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    person_id    INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    PRIMARY KEY (campaign_id, person_id)
) WITHOUT ROWID;
CREATE INDEX campaign_callers_person ON campaign_callers (person_id);

-- `state`: waiting (to be called; `due_at` says from when), calling (claimed by `caller_id` until
-- `claimed_until`, the call's task is `task_id`), finished (`result` says how).
CREATE TABLE campaign_entries (
    id             INTEGER PRIMARY KEY,
    campaign_id    INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    resident_id    INTEGER NOT NULL REFERENCES residents (id),
    state          TEXT NOT NULL CHECK (state IN ('waiting', 'calling', 'finished')),
    result         TEXT CHECK (result IS NULL OR result IN
                   ('reached', 'unreached', 'wrong_number', 'no_phone', 'declined')),
    attempts       INTEGER NOT NULL DEFAULT 0,   -- calls that did not get through
    due_at         TEXT NOT NULL,
    caller_id      INTEGER REFERENCES people (id) ON DELETE SET NULL,
    claimed_until  TEXT,
    task_id        INTEGER REFERENCES tasks (id),
    visit_task_id  INTEGER REFERENCES tasks (id),  -- the home visit arranged instead of a call
    finished_at    TEXT,
    UNIQUE (campaign_id, resident_id),
    CHECK ((state = 'finished') = (result IS NOT NULL)),
    CHECK (state != 'calling' OR (caller_id IS NOT NULL AND claimed_until IS NOT NULL))
);
-- The two queues "Next call" reads: retries once due (oldest first), then first calls in list
-- order (a resident handed back goes to the end: due again from then).
CREATE INDEX campaign_entries_retries ON campaign_entries (campaign_id, due_at)
    WHERE state = 'waiting' AND attempts > 0;
CREATE INDEX campaign_entries_first ON campaign_entries (campaign_id, due_at, id)
    WHERE state = 'waiting' AND attempts = 0;
CREATE INDEX campaign_entries_calling ON campaign_entries (claimed_until) WHERE state = 'calling';
CREATE INDEX campaign_entries_resident ON campaign_entries (resident_id, state);
CREATE INDEX campaign_entries_task ON campaign_entries (task_id) WHERE task_id IS NOT NULL;
CREATE INDEX campaign_entries_figures
    ON campaign_entries (campaign_id, state, result, attempts, visit_task_id);

-- Every call that ended: who made it and how it went ('reached', 'no_answer', 'wrong_number',
-- 'declined', 'given_back', 'expired'); the per-caller figures come from here.
CREATE TABLE campaign_calls (
    id           INTEGER PRIMARY KEY,
    campaign_id  INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    entry_id     INTEGER NOT NULL REFERENCES campaign_entries (id) ON DELETE CASCADE,
    caller_id    INTEGER REFERENCES people (id) ON DELETE SET NULL,
    task_id      INTEGER REFERENCES tasks (id),
    result       TEXT NOT NULL,
    urgent       INTEGER NOT NULL DEFAULT 0 CHECK (urgent IN (0, 1)),
    at           TEXT NOT NULL
);
CREATE INDEX campaign_calls_campaign ON campaign_calls (campaign_id, caller_id, result);

-- The needs a reached resident told of, one row per need, for the figures.
CREATE TABLE campaign_needs (
    campaign_id  INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    entry_id     INTEGER NOT NULL REFERENCES campaign_entries (id) ON DELETE CASCADE,
    need         TEXT NOT NULL,
    PRIMARY KEY (campaign_id, entry_id, need)
) WITHOUT ROWID;

-- A resident who asked not to be called again: no campaign hands them out.
ALTER TABLE residents ADD COLUMN no_calls_since TEXT;
