-- People, their roles and organisations; one-time invites; the wrong-code log; an audit trail.
-- Times are ISO-8601 text in UTC.

CREATE TABLE organisations (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE UNIQUE INDEX organisations_name ON organisations (name COLLATE NOCASE);

CREATE TABLE people (
    id                INTEGER PRIMARY KEY,
    telegram_user_id  INTEGER NOT NULL UNIQUE,
    name              TEXT NOT NULL,
    language          TEXT NOT NULL CHECK (language IN ('fi', 'sv', 'en')),
    organisation_id   INTEGER REFERENCES organisations (id) ON DELETE SET NULL,
    active            INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at        TEXT NOT NULL,
    deactivated_at    TEXT
);

CREATE TABLE person_roles (
    person_id  INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    role       TEXT NOT NULL
               CHECK (role IN ('coordinator', 'caller', 'volunteer', 'partner', 'link_worker')),
    granted_at TEXT NOT NULL,
    PRIMARY KEY (person_id, role)
) WITHOUT ROWID;
CREATE INDEX person_roles_role ON person_roles (role);

CREATE TABLE invites (
    id               INTEGER PRIMARY KEY,
    code_hash        TEXT NOT NULL UNIQUE,
    role             TEXT NOT NULL
                     CHECK (role IN ('coordinator', 'caller', 'volunteer', 'partner', 'link_worker')),
    name             TEXT,
    organisation_id  INTEGER REFERENCES organisations (id) ON DELETE SET NULL,
    created_by       INTEGER REFERENCES people (id) ON DELETE SET NULL,
    created_at       TEXT NOT NULL,
    expires_at       TEXT NOT NULL,
    used_at          TEXT,
    used_by          INTEGER REFERENCES people (id) ON DELETE SET NULL
);

CREATE TABLE invite_failures (
    telegram_user_id  INTEGER NOT NULL,
    failed_at         TEXT NOT NULL
);
CREATE INDEX invite_failures_user ON invite_failures (telegram_user_id, failed_at);

-- Who did what to whom, by person id only: no names, phones or message text.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor_id    INTEGER REFERENCES people (id) ON DELETE SET NULL,
    action      TEXT NOT NULL,
    subject_id  INTEGER,
    detail      TEXT
);

-- Small facts the bot learns about itself, e.g. its username for invite links.
CREATE TABLE bot_facts (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
) WITHOUT ROWID;
