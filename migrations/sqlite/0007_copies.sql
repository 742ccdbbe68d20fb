-- Remediation acts on the copies the index saw, by the store's own handle on each, never by a
-- header the sender wrote (DESIGN.md rule 9).

-- The index: a fingerprint of each copy's content (SHA-256 of its first MiB, line ends read
-- as LF), which recognises a copy whose handle no longer finds it; every URL host a message
-- links to, also those of links past the per-message URL cap (urls_dropped counts them), so
-- decoy links cannot hide a host; and each URL's pattern (what is personal to one recipient
-- taken out), so one personalised campaign clusters as one.
ALTER TABLE messages ADD COLUMN content_sha256 TEXT;
ALTER TABLE messages ADD COLUMN urls_dropped INTEGER NOT NULL DEFAULT 0;
ALTER TABLE message_urls ADD COLUMN pattern TEXT;
CREATE INDEX message_urls_by_pattern ON message_urls (pattern);
CREATE TABLE message_hosts (
    message INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    host    TEXT NOT NULL,
    PRIMARY KEY (host, message)
) WITHOUT ROWID;
CREATE INDEX message_hosts_by_message ON message_hosts (message);
-- Matching a copy named from outside (mailbox and Message-ID) to what the index holds.
CREATE INDEX messages_by_mailbox_message_id ON messages (mailbox, internet_message_id);
-- Rows written before carry no fingerprint and no hosts: the next scan reads everything again.
DELETE FROM messages;
DELETE FROM index_folders;

-- A cluster's members are copies: the handle the index saw (folder and file: a Maildir file's
-- base name, or UIDVALIDITY:UID), the fingerprint and size that recognise the copy if the
-- handle no longer does, and the Message-ID for people. A member named from outside that the
-- index did not hold yet has no handle (folder NULL) until execution matches it. Two messages
-- sharing a Message-ID are two members, and only the clustered one is acted on.
CREATE TABLE cluster_members (
    id                  INTEGER PRIMARY KEY,
    cluster_id          TEXT NOT NULL REFERENCES email_clusters (id),
    mailbox             TEXT NOT NULL,
    folder              TEXT,
    file                TEXT,
    content_sha256      TEXT,
    size                INTEGER,
    internet_message_id TEXT NOT NULL,
    sender              TEXT NOT NULL,
    subject             TEXT NOT NULL,
    received_at         TEXT NOT NULL,
    -- inbox | junk | deleted_items | recoverable_items | purged | other
    location            TEXT NOT NULL
);
INSERT INTO cluster_members (cluster_id, mailbox, internet_message_id, sender, subject, received_at, location)
    SELECT cluster_id, mailbox, internet_message_id, sender, subject, received_at, location
    FROM cluster_messages WHERE 1 ORDER BY cluster_id, received_at, mailbox;
DROP TABLE cluster_messages;
ALTER TABLE cluster_members RENAME TO cluster_messages;
CREATE UNIQUE INDEX cluster_messages_copy ON cluster_messages (cluster_id, mailbox, folder, file)
    WHERE folder IS NOT NULL;
CREATE UNIQUE INDEX cluster_messages_unmatched ON cluster_messages (cluster_id, mailbox, internet_message_id)
    WHERE folder IS NULL;
CREATE INDEX cluster_messages_by_cluster ON cluster_messages (cluster_id, id);
CREATE INDEX cluster_messages_by_message ON cluster_messages (mailbox, internet_message_id);
-- Where a copy is now is written to every cluster that holds it (the same handle).
CREATE INDEX cluster_messages_by_copy ON cluster_messages (mailbox, file);

-- One result per member per action (member NULL: an action on a mailbox, one result).
CREATE TABLE action_results_v2 (
    action_id           TEXT NOT NULL REFERENCES actions (id),
    member              INTEGER,
    mailbox             TEXT NOT NULL,
    internet_message_id TEXT,
    -- success | failed | already_in_destination | not_found | gone | duplicate
    result              TEXT NOT NULL,
    location            TEXT,
    detail              TEXT,
    at                  TEXT NOT NULL
);
INSERT INTO action_results_v2 (action_id, mailbox, internet_message_id, result, location, detail, at)
    SELECT action_id, mailbox, internet_message_id, result, location, detail, at FROM action_results;
DROP TABLE action_results;
ALTER TABLE action_results_v2 RENAME TO action_results;
CREATE INDEX action_results_by_action ON action_results (action_id);
CREATE UNIQUE INDEX action_results_once ON action_results (action_id, member) WHERE member IS NOT NULL;
CREATE UNIQUE INDEX action_results_mailbox_once ON action_results (action_id, mailbox)
    WHERE member IS NULL AND internet_message_id IS NULL;
-- An action shows its first thousand results, those that need attention first: both reads
-- walk an index and stop at the limit, however many copies the action has.
CREATE INDEX action_results_problems ON action_results (action_id, member)
    WHERE result IN ('failed', 'not_found', 'gone');

-- The duplicate rule (DESIGN.md rule 3) by copies: each copy an approval covers is claimed
-- here, per action type, keyed by its store handle (or its Message-ID while the index has not
-- matched it) — not by its content, which a second wave may repeat byte for byte. A later approval within the window claims only the copies no earlier, still
-- effective approval holds; the claim's upsert takes the row lock (PostgreSQL) or runs under
-- the write lock (SQLite), so concurrent approvals on overlapping copies queue, across
-- processes too, and each copy is executed once. It replaces approval_locks, which keyed on
-- the cluster and let a second wave of one campaign be "de-duplicated" and never removed.
CREATE TABLE approved_copies (
    action_type TEXT NOT NULL,
    mailbox     TEXT NOT NULL,
    copy        TEXT NOT NULL,
    action_id   TEXT NOT NULL REFERENCES actions (id),
    approved_at TEXT NOT NULL,
    PRIMARY KEY (action_type, mailbox, copy)
);
DROP TABLE approval_locks;
-- How an approval split: copies an earlier approval already handled, and new ones.
ALTER TABLE actions ADD COLUMN duplicate_copies INTEGER NOT NULL DEFAULT 0;
ALTER TABLE actions ADD COLUMN new_copies INTEGER NOT NULL DEFAULT 0;

-- Forwarding found by the playbook says how it was found ("in the included script …").
ALTER TABLE mailbox_forwarding ADD COLUMN detail TEXT;
-- Distinct mailboxes an investigation's clusters reach, counted once when it is recorded (a
-- cluster may hold a million copies; the queue must not count them on every page).
ALTER TABLE investigations ADD COLUMN user_count INTEGER NOT NULL DEFAULT 0;
UPDATE investigations SET user_count = (
    SELECT COUNT(DISTINCT m.mailbox) FROM cluster_messages m
    JOIN email_clusters c ON c.id = m.cluster_id WHERE c.investigation_id = investigations.id
);
-- A change or undo of an approval ends its hold on the copies (the duplicate rule asks).
CREATE INDEX actions_by_changed_from ON actions (changed_from) WHERE changed_from IS NOT NULL;
