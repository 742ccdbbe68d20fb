-- The outbox: every event other systems may hear of (an action pending, approved, completed;
-- an investigation started or ended; the policy reloaded), written by the transaction that
-- made the change — at commit, beside the audit events it is derived from — so an event is
-- never announced for a change that rolled back, nor lost for one that committed. `seq` is
-- taken in commit order (the audit head's lock is held from the insert to the commit), so a
-- consumer that reads past a `seq` never skips a row that commits later with a smaller one.
CREATE TABLE outbox (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The CloudEvents `id` and the `webhook-id`: the same on every retry, so receivers can
    -- drop a second delivery of one event.
    id      TEXT NOT NULL UNIQUE,
    at      TEXT NOT NULL,
    -- `action.approved`, `investigation.ended`, … (the public names, not the audit's).
    type    TEXT NOT NULL,
    -- `action`, `investigation` or `policy`, and which one.
    subject_kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    actor   TEXT NOT NULL,
    -- JSON: the status before and after and what the audit event recorded with it.
    data    TEXT NOT NULL
);

-- How far each consumer of the outbox (a webhook endpoint, the reporters' notifier) has
-- read it: everything up to `seq` has been handed on (a delivery row per event it wants).
CREATE TABLE outbox_cursors (
    consumer TEXT PRIMARY KEY,
    seq      INTEGER NOT NULL
);

-- One row per event an endpoint wants: delivered at least once, retried with backoff until
-- `give_up_at`, and failed — visibly — after that.
CREATE TABLE webhook_deliveries (
    id          TEXT PRIMARY KEY,
    -- The endpoint's name (from the configuration; the URL may hold a secret, so it is not
    -- stored here).
    endpoint    TEXT NOT NULL,
    event_seq   INTEGER NOT NULL REFERENCES outbox (seq),
    -- pending, delivered, failed
    status      TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    give_up_at  TEXT NOT NULL,
    -- A sender holds the row until then; a sender that died lets it go when it runs out.
    lease_until TEXT,
    -- The last answer: the HTTP status, or why there was none.
    last_status INTEGER,
    last_error  TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    CONSTRAINT webhook_deliveries_once UNIQUE (endpoint, event_seq)
);
-- What senders look for: pending rows that are due.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
-- The Deliveries view, newest first.
CREATE INDEX webhook_deliveries_recent ON webhook_deliveries (created_at DESC, id DESC);
