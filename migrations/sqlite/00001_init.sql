-- +goose Up
-- Accounts. E-mail addresses are stored lower-cased so that uniqueness is
-- case-insensitive on every database.
CREATE TABLE users (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    email               TEXT     NOT NULL,
    name                TEXT     NOT NULL,
    password_hash       TEXT     NOT NULL,
    affiliation         TEXT     NOT NULL DEFAULT '',
    stakeholder_group   TEXT     NOT NULL,
    country             TEXT     NOT NULL,
    role                TEXT     NOT NULL DEFAULT 'commenter'
                        CHECK (role IN ('commenter', 'moderator', 'admin')),
    email_verified_at   DATETIME,
    password_changed_at DATETIME NOT NULL,
    created_at          DATETIME NOT NULL,
    updated_at          DATETIME NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (email);

-- Single-use tokens sent by mail (e-mail confirmation, later password reset).
-- Only a SHA-256 of the token is kept.
CREATE TABLE email_tokens (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose     TEXT     NOT NULL,
    token_hash  TEXT     NOT NULL,
    expires_at  DATETIME NOT NULL,
    used_at     DATETIME,
    created_at  DATETIME NOT NULL
);
CREATE UNIQUE INDEX email_tokens_hash ON email_tokens (token_hash);

-- API bearer tokens, stored as SHA-256 hashes.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   TEXT     NOT NULL,
    created_at   DATETIME NOT NULL,
    last_used_at DATETIME
);
CREATE UNIQUE INDEX api_tokens_hash ON api_tokens (token_hash);

-- Browser sessions. The cookie carries a random id; the table keeps its hash,
-- so deleting the row ends the session on every instance.
CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      INTEGER REFERENCES users (id) ON DELETE CASCADE,
    data         BLOB     NOT NULL,
    created_at   DATETIME NOT NULL,
    last_seen_at DATETIME NOT NULL,
    expires_at   DATETIME NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE documents (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    slug        TEXT     NOT NULL,
    title       TEXT     NOT NULL,
    format      TEXT     NOT NULL,
    version     INTEGER  NOT NULL DEFAULT 1,
    opens_at    DATETIME,
    closes_at   DATETIME,
    created_by  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL
);
CREATE UNIQUE INDEX documents_slug ON documents (slug);

-- One row per numbered paragraph of one version of a document.
CREATE TABLE paragraphs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id  INTEGER NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    version      INTEGER NOT NULL,
    number       INTEGER NOT NULL,
    kind         TEXT    NOT NULL
                 CHECK (kind IN ('heading', 'paragraph', 'list_item', 'quote', 'code')),
    level        INTEGER NOT NULL DEFAULT 0,
    source_text  TEXT    NOT NULL,
    html         TEXT    NOT NULL,
    signature    TEXT    NOT NULL
);
CREATE UNIQUE INDEX paragraphs_doc_version_number ON paragraphs (document_id, version, number);
CREATE INDEX paragraphs_signature ON paragraphs (document_id, signature);

CREATE TABLE comments (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id    INTEGER  NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    user_id        INTEGER  NOT NULL REFERENCES users (id),
    body           TEXT     NOT NULL,
    proposed_text  TEXT     NOT NULL DEFAULT '',
    kind           TEXT     NOT NULL DEFAULT 'general'
                   CHECK (kind IN ('general', 'substantive', 'editorial')),
    visibility     TEXT     NOT NULL DEFAULT 'public'
                   CHECK (visibility IN ('public', 'anonymous', 'private')),
    status         TEXT     NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'accepted', 'deferred', 'rejected', 'spam')),
    response       TEXT     NOT NULL DEFAULT '',
    -- Number of the first paragraph the comment is on, NULL for the whole
    -- document: exports sort on it without a join.
    sort_number    INTEGER,
    created_at     DATETIME NOT NULL,
    updated_at     DATETIME NOT NULL,
    decided_at     DATETIME,
    decided_by     INTEGER REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX comments_document_status ON comments (document_id, status, created_at);
CREATE INDEX comments_status_created ON comments (status, created_at, id);
CREATE INDEX comments_user ON comments (user_id, created_at);

CREATE TABLE comment_paragraphs (
    comment_id    INTEGER NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    paragraph_id  INTEGER NOT NULL REFERENCES paragraphs (id) ON DELETE CASCADE,
    PRIMARY KEY (comment_id, paragraph_id)
);
CREATE INDEX comment_paragraphs_paragraph ON comment_paragraphs (paragraph_id);

-- Audit log of moderation decisions; rows are only ever inserted.
CREATE TABLE comment_decisions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    comment_id   INTEGER  NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    actor_id     INTEGER  REFERENCES users (id) ON DELETE SET NULL,
    from_status  TEXT     NOT NULL,
    to_status    TEXT     NOT NULL,
    response     TEXT     NOT NULL DEFAULT '',
    created_at   DATETIME NOT NULL
);
CREATE INDEX comment_decisions_comment ON comment_decisions (comment_id, id);

-- Fixed-window counters for rate limits, kept in the database so that
-- limits hold across several instances.
CREATE TABLE rate_counters (
    key           TEXT     NOT NULL,
    window_start  INTEGER  NOT NULL,
    count         INTEGER  NOT NULL,
    PRIMARY KEY (key, window_start)
);

-- +goose Down
DROP TABLE rate_counters;
DROP TABLE comment_decisions;
DROP TABLE comment_paragraphs;
DROP TABLE comments;
DROP TABLE paragraphs;
DROP TABLE documents;
DROP TABLE sessions;
DROP TABLE api_tokens;
DROP TABLE email_tokens;
DROP TABLE users;
