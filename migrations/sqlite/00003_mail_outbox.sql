-- +goose Up
-- Outgoing mail is queued here in the request's own database, so it
-- survives restarts, and is sent by whichever instance claims it first.
-- A claim is a lease (claimed_until): a claim left by a crashed instance
-- expires and the mail is picked up again. The body is blanked once sent:
-- it carries single-use links.
CREATE TABLE mail_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    to_name         TEXT     NOT NULL,
    to_email        TEXT     NOT NULL,
    subject         TEXT     NOT NULL,
    body            TEXT     NOT NULL,
    created_at      DATETIME NOT NULL,
    attempts        INTEGER  NOT NULL DEFAULT 0,
    next_attempt_at DATETIME NOT NULL,
    claimed_until   DATETIME,
    sent_at         DATETIME,
    last_error      TEXT     NOT NULL DEFAULT ''
);
CREATE INDEX mail_outbox_due ON mail_outbox (sent_at, next_attempt_at);

-- +goose Down
DROP TABLE mail_outbox;
