-- Decisions on actions (DESIGN.md rules 2, 3 and 5) and the execution queue they feed.

-- One row per (cluster, action type) that has ever been approved. An approval upserts its row
-- first: in PostgreSQL that row lock is held to commit, so approvals of the same cluster and
-- type queue behind one another across every server process; in SQLite the write lock taken
-- at BEGIN IMMEDIATE does the same. Whoever goes second then sees the first approval and is
-- recorded as its duplicate. No in-process mutex is involved.
CREATE TABLE approval_locks (
    cluster_key TEXT NOT NULL,
    action_type TEXT NOT NULL,
    -- When an approval last passed through; only for people reading the table.
    touched_at  TEXT NOT NULL,
    PRIMARY KEY (cluster_key, action_type)
);

-- Approved actions waiting to be carried out on mail. Workers (the execution issue) claim a
-- job with a lease; an expired lease is claimed again, so a restart loses nothing.
CREATE TABLE jobs (
    id          TEXT PRIMARY KEY,
    action_id   TEXT NOT NULL REFERENCES actions (id),
    -- queued | running | done | failed
    status      TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    lease_until TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    -- One job per action: an action is executed once, however often it is approved.
    CONSTRAINT jobs_action_key UNIQUE (action_id)
);
-- Workers look for queued work oldest first.
CREATE INDEX jobs_by_status ON jobs (status, created_at);

-- An incident's pending-action count is recomputed in every decision's transaction.
CREATE INDEX actions_by_incident ON actions (incident_id, status);
