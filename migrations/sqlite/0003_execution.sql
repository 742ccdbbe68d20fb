-- Carrying out approved actions on mail: the job queue's leases and retries, per-message
-- results recorded exactly once, and what turning forwarding off replaced (for undo).

-- A retried job waits until not_before (backoff). `claim` names the worker's current lease:
-- a worker whose lease ran out and was taken over can no longer record anything.
ALTER TABLE jobs ADD COLUMN not_before TEXT;
ALTER TABLE jobs ADD COLUMN claim TEXT;
ALTER TABLE jobs ADD COLUMN last_error TEXT;
-- Workers take queued jobs, and running jobs whose lease ran out, oldest first.
CREATE INDEX jobs_by_lease ON jobs (status, lease_until);

-- What execution came to, in words: "12 moved to Recoverable Items, 1 not found", or why it
-- failed. Shown in History beside the per-message results.
ALTER TABLE actions ADD COLUMN outcome TEXT;

-- One result per message per action: a job resumed after a crash cannot record a message twice.
CREATE UNIQUE INDEX action_results_once ON action_results (action_id, mailbox, internet_message_id);

-- Turning forwarding off activates a copy of the mailbox's Sieve script; the original stays on
-- the store under its name, recorded here so undo can make it active again.
CREATE TABLE forwarding_changes (
    action_id       TEXT PRIMARY KEY REFERENCES actions (id),
    mailbox         TEXT NOT NULL,
    original_script TEXT NOT NULL,
    -- JSON array of the addresses no longer forwarded to.
    addresses       TEXT NOT NULL,
    at              TEXT NOT NULL
);

-- Executing an action records where each message is now, wherever the message was clustered.
CREATE INDEX cluster_messages_by_message ON cluster_messages (mailbox, internet_message_id);
