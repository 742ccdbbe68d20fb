-- Reporters told what came of their report: one row per reporter per investigation (the key
-- makes a second "investigation ended" — after a change, a restart's re-read — tell no one
-- twice), written from the outbox's investigation.ended events and sent through the SMTP
-- relay, retried with backoff until `give_up_at`.
CREATE TABLE notifications (
    id               TEXT PRIMARY KEY,
    investigation_id TEXT NOT NULL REFERENCES investigations (id),
    -- The reporter's address (the To of the message).
    reporter         TEXT NOT NULL,
    -- malicious, clean or no_threats: which template was used.
    verdict          TEXT NOT NULL,
    -- The message as rendered when the investigation ended.
    subject          TEXT NOT NULL,
    body             TEXT NOT NULL,
    -- pending, sent, failed
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    give_up_at       TEXT NOT NULL,
    lease_until      TEXT,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    sent_at          TEXT,
    CONSTRAINT notifications_once UNIQUE (investigation_id, reporter)
);
CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
