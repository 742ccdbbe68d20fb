-- Reporters told what came of their report: one row per reporter per investigation (the key
-- makes a second "investigation ended" — after a change, a restart's re-read — tell no one
-- twice), written from the outbox's investigation.ended events and sent through the SMTP
-- relay, retried with backoff until `give_up_at`.
CREATE TABLE notifications (
    id               text PRIMARY KEY,
    investigation_id text NOT NULL REFERENCES investigations (id),
    -- The reporter's address (the To of the message).
    reporter         text NOT NULL,
    -- malicious, clean or no_threats: which template was used.
    verdict          text NOT NULL,
    -- The message as rendered when the investigation ended.
    subject          text NOT NULL,
    body             text NOT NULL,
    -- pending, sent, failed
    status           text NOT NULL,
    attempts         bigint NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,
    give_up_at       timestamptz NOT NULL,
    lease_until      timestamptz,
    last_error       text,
    created_at       timestamptz NOT NULL,
    sent_at          timestamptz,
    CONSTRAINT notifications_once UNIQUE (investigation_id, reporter)
);
CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
