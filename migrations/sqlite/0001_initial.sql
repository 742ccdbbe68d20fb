-- airdesk schema, version 1.
--
-- Portable on purpose: plain types (TEXT, INTEGER), no SQLite-only syntax in tables the rules
-- touch, so a PostgreSQL migration can say the same thing. Times are TEXT in one fixed form,
-- RFC 3339 UTC with six fractional digits (2026-11-20T09:00:00.000000Z), so that text order
-- is time order and keyset pagination can compare them directly. Ids are UUIDv7 text:
-- opaque to callers, roughly time-ordered for the indexes.

-- People who sign in to the portal or own API tokens.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL,
    -- Argon2id PHC string; never the password.
    password_hash TEXT NOT NULL,
    -- DESIGN.md rule 1: reader | search_and_purge | admin.
    role          TEXT NOT NULL CHECK (role IN ('reader', 'search_and_purge', 'admin')),
    created_at    TEXT NOT NULL,
    -- A disabled user keeps their history (decided_by) but can no longer sign in or call.
    disabled      INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT users_username_key UNIQUE (username)
);

-- Bearer tokens for automation. Only the SHA-256 of the token is kept: a database leak does
-- not leak credentials. The token acts with its user's current role.
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    name         TEXT NOT NULL,
    token_sha256 TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    CONSTRAINT api_tokens_hash_key UNIQUE (token_sha256)
);

-- An incident groups the alerts and investigations of one threat. Its counts and state are
-- kept here (updated in the transaction that changes them) so the queue can filter and sort
-- thousands of incidents with an index instead of aggregating on every page.
CREATE TABLE incidents (
    id                   TEXT PRIMARY KEY,
    title                TEXT NOT NULL,
    severity             TEXT NOT NULL,
    status               TEXT NOT NULL DEFAULT 'active',
    -- The Automated investigation state: the most urgent status among its investigations.
    investigation_state  TEXT NOT NULL,
    alert_count          INTEGER NOT NULL DEFAULT 0,
    investigation_count  INTEGER NOT NULL DEFAULT 0,
    pending_action_count INTEGER NOT NULL DEFAULT 0,
    first_activity_at    TEXT NOT NULL,
    last_activity_at     TEXT NOT NULL
);
-- The queue: newest activity first, optionally filtered by the investigation state.
CREATE INDEX incidents_by_activity ON incidents (last_activity_at DESC, id DESC);
CREATE INDEX incidents_by_state ON incidents (investigation_state, last_activity_at DESC, id DESC);

-- What started an investigation: a user report, a detection, a manual request.
CREATE TABLE alerts (
    id          TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    title       TEXT NOT NULL,
    severity    TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX alerts_by_incident ON alerts (incident_id);

CREATE TABLE investigations (
    id                 TEXT PRIMARY KEY,
    incident_id        TEXT NOT NULL REFERENCES incidents (id),
    alert_id           TEXT NOT NULL REFERENCES alerts (id),
    title              TEXT NOT NULL,
    investigation_type TEXT NOT NULL,
    status             TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX investigations_by_created ON investigations (created_at DESC, id DESC);
CREATE INDEX investigations_by_status ON investigations (status, created_at DESC, id DESC);
CREATE INDEX investigations_by_incident ON investigations (incident_id);

-- Entities the investigation looked at, with its verdict on each (the Evidence tab).
CREATE TABLE evidence (
    id                 TEXT PRIMARY KEY,
    investigation_id   TEXT NOT NULL REFERENCES investigations (id),
    -- email_cluster | mailbox
    kind               TEXT NOT NULL,
    entity             TEXT NOT NULL,
    verdict            TEXT NOT NULL,
    -- none | pending_approval | remediated | ...: where remediation of this entity stands.
    remediation_status TEXT NOT NULL
);
CREATE INDEX evidence_by_investigation ON evidence (investigation_id);

-- An email cluster as one investigation saw it. cluster_key identifies the cluster across
-- investigations (SHA-256 of cluster_by and the normalised value): two investigations of one
-- campaign share it, which is what the duplicate-approval rule (DESIGN.md rule 3) keys on.
CREATE TABLE email_clusters (
    id               TEXT PRIMARY KEY,
    investigation_id TEXT NOT NULL REFERENCES investigations (id),
    cluster_key      TEXT NOT NULL,
    cluster_by       TEXT NOT NULL,
    cluster_value    TEXT NOT NULL,
    verdict          TEXT NOT NULL,
    -- Frozen when the investigation ran; execution re-reads where each message is now.
    email_count      INTEGER NOT NULL
);
CREATE INDEX email_clusters_by_investigation ON email_clusters (investigation_id);
CREATE INDEX email_clusters_by_key ON email_clusters (cluster_key);

-- The delivered copies in a cluster, one row per mailbox and Message-ID.
CREATE TABLE cluster_messages (
    cluster_id          TEXT NOT NULL REFERENCES email_clusters (id),
    mailbox             TEXT NOT NULL,
    internet_message_id TEXT NOT NULL,
    sender              TEXT NOT NULL,
    subject             TEXT NOT NULL,
    received_at         TEXT NOT NULL,
    -- inbox | junk | deleted_items | recoverable_items | purged | other
    location            TEXT NOT NULL,
    PRIMARY KEY (cluster_id, mailbox, internet_message_id)
);

-- Mailboxes found forwarding mail, as the investigation saw them.
CREATE TABLE mailbox_forwarding (
    investigation_id TEXT NOT NULL REFERENCES investigations (id),
    mailbox          TEXT NOT NULL,
    forward_to       TEXT NOT NULL,
    verdict          TEXT NOT NULL,
    -- 1 when forward_to is outside the organisation's domains (--internal-domains).
    external         INTEGER NOT NULL,
    PRIMARY KEY (investigation_id, mailbox, forward_to)
);

-- The investigation's log, step by step.
CREATE TABLE investigation_log (
    investigation_id TEXT NOT NULL REFERENCES investigations (id),
    seq              INTEGER NOT NULL,
    at               TEXT NOT NULL,
    step             TEXT NOT NULL,
    detail           TEXT NOT NULL,
    PRIMARY KEY (investigation_id, seq)
);

-- Remediation actions: proposed by an investigation, decided by a person, then executed.
CREATE TABLE actions (
    id                  TEXT PRIMARY KEY,
    investigation_id    TEXT NOT NULL REFERENCES investigations (id),
    incident_id         TEXT NOT NULL REFERENCES incidents (id),
    action_type         TEXT NOT NULL,
    status              TEXT NOT NULL,
    -- cluster | mailbox | message
    target_kind         TEXT NOT NULL,
    cluster_id          TEXT REFERENCES email_clusters (id),
    -- Copied from the cluster so the duplicate check is one indexed lookup.
    cluster_key         TEXT,
    mailbox             TEXT,
    internet_message_id TEXT,
    forward_to          TEXT,
    -- automated | manual | api
    source              TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    decided_by          TEXT,
    decided_at          TEXT,
    comment             TEXT,
    -- Set when an approval was de-duplicated against an earlier one (DESIGN.md rule 3).
    duplicate_of        TEXT REFERENCES actions (id),
    -- Set on a change or undo: the completed action it reconsiders (DESIGN.md rule 6).
    changed_from        TEXT REFERENCES actions (id)
);
-- Pending is served oldest first, History newest first: both walk this index.
CREATE INDEX actions_by_status ON actions (status, created_at, id);
CREATE INDEX actions_by_created ON actions (created_at, id);
CREATE INDEX actions_by_investigation ON actions (investigation_id);
CREATE INDEX actions_by_type ON actions (action_type, status, created_at, id);
-- The duplicate check: an approval of the same type on the same cluster, recently.
CREATE INDEX actions_by_cluster ON actions (cluster_key, action_type, decided_at);

-- Per-message outcome of an executed action.
CREATE TABLE action_results (
    action_id           TEXT NOT NULL REFERENCES actions (id),
    mailbox             TEXT NOT NULL,
    internet_message_id TEXT,
    result              TEXT NOT NULL,
    location            TEXT,
    detail              TEXT,
    at                  TEXT NOT NULL
);
CREATE INDEX action_results_by_action ON action_results (action_id);

-- Every transition, append-only. Each event carries the hash of the one before it, so a
-- rewritten or deleted event breaks the chain. prev_hash is unique: two writers that read the
-- same head cannot both append, so the chain can never fork.
CREATE TABLE audit_events (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    entity_kind TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    event       TEXT NOT NULL,
    before      TEXT,
    after       TEXT,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL,
    CONSTRAINT audit_events_prev_hash_key UNIQUE (prev_hash)
);
CREATE INDEX audit_events_by_entity ON audit_events (entity_kind, entity_id);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;

CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;

-- Idempotency-Key: the first response to a POST, replayed for a retry with the same key.
CREATE TABLE idempotency_keys (
    user_id        TEXT NOT NULL REFERENCES users (id),
    idem_key       TEXT NOT NULL,
    request_sha256 TEXT NOT NULL,
    status         INTEGER NOT NULL,
    body           TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);
